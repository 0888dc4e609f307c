// Timing and printing for benchmarks: warm up, repeat, report the median run.

export interface Measurement {
  perSecond: number;
  medianMs: number;
}

const WARM_UP_MS = 500; // long enough for the JIT's optimising tier to have compiled the hot code
const MEASURE_MS = 1500;

/** Runs `run` until warm, then at least `repeats` times and for at least a second and a half; the median. */
export function measure(run: () => void, units: number, repeats = 7): Measurement {
  const elapsedMs = (since: bigint) => Number(process.hrtime.bigint() - since) / 1e6;
  const warmUp = process.hrtime.bigint();
  do run();
  while (elapsedMs(warmUp) < WARM_UP_MS);
  const times: number[] = [];
  const start = process.hrtime.bigint();
  while (times.length < repeats || elapsedMs(start) < MEASURE_MS) {
    const begin = process.hrtime.bigint();
    run();
    times.push(elapsedMs(begin));
  }
  times.sort((a, b) => a - b);
  const medianMs = times[Math.floor(times.length / 2)] ?? 0;
  return { medianMs, perSecond: units / (medianMs / 1000) };
}

export function printTable(title: string, rows: Array<Measurement & { name: string; note?: string }>): void {
  const base = rows.at(-1)?.perSecond ?? 1;
  process.stdout.write(`\n${title}\n`);
  for (const row of rows) {
    process.stdout.write(
      `  ${row.name.padEnd(40)} ${Math.round(row.perSecond).toLocaleString('en').padStart(10)} items/s  ` +
        `${row.medianMs.toFixed(1).padStart(8)} ms  ${(row.perSecond / base).toFixed(2).padStart(6)}×  ${row.note ?? ''}\n`,
    );
  }
}
