// One side of the ingestion benchmark, in its own process so its peak RSS is its own.
//   naive: rss-parser's parseURL for each feed, one after another, no conditional GET.
//   ours:  steppewatch's full cycle (fetch, decode, parse, match, dedup, store) on SQLite,
//          then a second cycle where nothing changed.
// Gets {urls} over IPC, answers {phase, ms, items} per run, then {peakRssMb}.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import Parser from 'rss-parser';
import type * as Load from '../src/config/load.js';
import type * as Console from '../src/delivery/console.js';
import type * as Log from '../src/log.js';
import type * as Sqlite from '../src/store/sqlite.js';
import type * as Cycle from '../src/worker/cycle.js';
import { mailbox } from './ipc.js';

// The built code (`npm run bench` builds first), as `npm start` runs it: its memory and speed are
// what a user gets, without tsx compiling src/ in this process.
const DIST = fileURLToPath(new URL('../dist/', import.meta.url));
const built = async <T>(path: string): Promise<T> => (await import(join(DIST, path))) as T;

const mode = process.argv[2];

const parent = mailbox(process);
const waitFor = <T = unknown>(type: string) => parent.next<T>(type);

async function naive(urls: string[]): Promise<void> {
  const parser = new Parser();
  const started = performance.now();
  let items = 0;
  for (const url of urls) items += (await parser.parseURL(url)).items.length;
  process.send?.({ type: 'result', phase: 'full', ms: performance.now() - started, items });
}

async function ours(urls: string[]): Promise<void> {
  const { parseConfig } = await built<typeof Load>('config/load.js');
  const { ConsoleSink } = await built<typeof Console>('delivery/console.js');
  const { createLogger } = await built<typeof Log>('log.js');
  const { SqliteStore } = await built<typeof Sqlite>('store/sqlite.js');
  const { runCycle } = await built<typeof Cycle>('worker/cycle.js');
  const dir = mkdtempSync(join(tmpdir(), 'steppewatch-bench-'));
  const store = new SqliteStore(join(dir, 'bench.db'));
  const config = parseConfig(
    `feeds:\n${urls.map((u) => `  - url: ${u}\n`).join('')}channels:\n  - chat: "@bench_chan"\n    watchlists: [kazakhstan-unrest]\n`,
    'bench.yaml',
    {},
  );
  const nowhere = new Writable({ write: (_c, _e, cb) => cb() });
  const deps = { config, store, sink: new ConsoleSink(nowhere), log: createLogger({ level: 'error', destination: nowhere }) };
  // What the process holds before polling (the runtime, config, matcher, store): the cycle's own memory is the rest.
  process.send?.({ type: 'baseline', rssMb: Math.round(process.memoryUsage().rss / 1024 / 1024) });
  for (const phase of ['full', 'unchanged']) {
    await waitFor('go');
    const started = performance.now();
    const report = await runCycle(deps);
    process.send?.({ type: 'result', phase, ms: performance.now() - started, items: report.items.fetched, failed: report.feeds.failed, alerts: report.alertsQueued });
  }
  // What the cycles left alive (after a full collection): the peak above it is garbage not yet
  // collected, not memory the worker keeps.
  (globalThis as { gc?: () => void }).gc?.();
  const left = process.memoryUsage();
  process.send?.({ type: 'retained', heapMb: Math.round(left.heapUsed / 1048576), arrayBuffersMb: Math.round(left.arrayBuffers / 1048576) });
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}

const { urls } = await waitFor<{ urls: string[] }>('urls');
if (mode === 'naive') {
  await waitFor('go');
  await naive(urls);
} else {
  await ours(urls);
}
process.send?.({ type: 'done', peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024) });
process.disconnect();
