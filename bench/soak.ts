// Soak (issue 20): 500 unchanged cycles in one process, as `run` does for days. The heap after a
// full GC must not grow from the early cycles to the last (the naive baseline: what the first
// cycle left, i.e. no growth at all). A cycle's memory should be what it has in flight, released
// when it ends; anything kept per cycle would show here as a slope.

import { startPeer } from './ipc.js';

export async function benchSoak(cycles = 500, feeds = 100): Promise<void> {
  const farm = startPeer(new URL('./feed-farm.ts', import.meta.url), [], {
    ...process.env,
    FARM_HOSTS: '10',
    FARM_FEEDS_PER_HOST: String(feeds / 10),
    FARM_ITEMS: '50',
    FARM_LATENCY_MS: '0',
  });
  const { urls } = await farm.mail.next<{ urls: string[] }>('ready');
  try {
    const worker = startPeer(new URL('./soak-worker.ts', import.meta.url), [], process.env, ['--expose-gc']);
    worker.process.send({ type: 'start', urls, cycles });
    const { checkpoints } = await worker.mail.next<{ checkpoints: Array<{ cycle: number; heapMb: number; rssMb: number; ms: number }> }>('done');
    process.stdout.write(`\nsoak: ${cycles} cycles in one process over ${urls.length} feeds × 50 items (the first full, the rest unchanged), heap after a full GC\n`);
    process.stdout.write(`  ${'cycle'.padStart(6)}  ${'heap MB'.padStart(8)}  ${'RSS MB'.padStart(7)}  ms per cycle\n`);
    for (const c of checkpoints) process.stdout.write(`  ${String(c.cycle).padStart(6)}  ${c.heapMb.toFixed(1).padStart(8)}  ${c.rssMb.toFixed(0).padStart(7)}  ${c.ms.toFixed(1)}\n`);
    const last = checkpoints.at(-1);
    // From the first checkpoint after the full cycle, and from the fifth (caches warm).
    for (const early of [checkpoints[1], checkpoints[Math.min(4, checkpoints.length - 2)]]) {
      if (!early || !last || early === last) continue;
      const growth = last.heapMb - early.heapMb;
      process.stdout.write(
        `  heap from cycle ${early.cycle} to ${last.cycle}: ${growth >= 0 ? '+' : ''}${growth.toFixed(1)} MB (${((growth / (last.cycle - early.cycle)) * 1024).toFixed(1)} KB per cycle); baseline: no growth\n`,
      );
    }
    process.stdout.write('  target: 500 unchanged cycles with no memory growth\n');
  } finally {
    farm.process.send({ type: 'stop' });
  }
}
