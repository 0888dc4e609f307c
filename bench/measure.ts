// Timing and printing for benchmarks: warm up, repeat, report the median run.

export interface Measurement {
  perSecond: number;
  medianMs: number;
}

export function measure(run: () => void, units: number, repeats = 7): Measurement {
  run(); // warm-up: JIT and caches
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = process.hrtime.bigint();
    run();
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
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
