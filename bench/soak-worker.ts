// The soak benchmark's worker: many unchanged cycles in one process (one StoryIndex, one store,
// as `run` keeps them), the heap measured after a full GC at checkpoints. Needs --expose-gc.
// Gets {urls, cycles} over IPC, answers {checkpoints: [{cycle, heapMb, rssMb, ms}]}.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parseConfig } from '../src/config/load.js';
import { StoryIndex } from '../src/dedup/story-index.js';
import { ConsoleSink } from '../src/delivery/console.js';
import { createLogger } from '../src/log.js';
import { SqliteStore } from '../src/store/sqlite.js';
import { runCycle } from '../src/worker/cycle.js';
import { mailbox } from './ipc.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');
const parent = mailbox(process);
const { urls, cycles } = await parent.next<{ urls: string[]; cycles: number }>('start');
const dir = mkdtempSync(join(tmpdir(), 'steppewatch-soak-'));
const store = new SqliteStore(join(dir, 'soak.db'));
const config = parseConfig(
  `feeds:\n${urls.map((u) => `  - url: ${u}\n`).join('')}channels:\n  - chat: "@soak"\n    watchlists: [kazakhstan-unrest]\n`,
  'soak.yaml',
  {},
);
const nowhere = new Writable({ write: (_c, _e, cb) => cb() });
const stories = new StoryIndex(store, { windowMs: config.dedup.windowMs });
const deps = { config, store, stories, sink: new ConsoleSink(nowhere), log: createLogger({ level: 'error', destination: nowhere }) };
const checkpoints: Array<{ cycle: number; heapMb: number; rssMb: number; ms: number }> = [];
const every = Math.max(1, Math.floor(cycles / 10));
let started = performance.now();
for (let cycle = 1; cycle <= cycles; cycle++) {
  // Each cycle is its own round, as each tick of the schedule is.
  await runCycle({ ...deps, round: Date.now() });
  if (cycle === 1 || cycle % every === 0) {
    gc();
    const { heapUsed, rss } = process.memoryUsage();
    checkpoints.push({ cycle, heapMb: heapUsed / 1024 / 1024, rssMb: rss / 1024 / 1024, ms: (performance.now() - started) / (cycle === 1 ? 1 : every) });
    started = performance.now();
  }
}
await store.close();
rmSync(dir, { recursive: true, force: true });
process.send?.({ type: 'done', checkpoints });
process.disconnect();
