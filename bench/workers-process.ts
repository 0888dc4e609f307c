// One worker of the multi-worker benchmark (bench/workers.ts), in its own process: opens the store
// named by argv[2] (sqlite:… or postgres://…?schema=…), runs one `runCycle` over the feeds it is
// sent, and says what it did. Several of these on one PostgreSQL schema share the feeds through
// the store's claims, exactly as `steppewatch run` workers do.
// The store's withLock is wrapped to time the "stories" lock (measurement only: the real lock
// runs inside): how long each decide-and-commit held it, and how long it waited for it.
// Gets {urls} over IPC, answers {type:'ready'}, then on {type:'go'} runs and answers {type:'result'}.

import { AsyncLocalStorage } from 'node:async_hooks';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { parseConfig } from '../src/config/load.js';
import { ConsoleSink } from '../src/delivery/console.js';
import { createLogger } from '../src/log.js';
import { openStore } from '../src/store/open.js';
import type { LockOptions } from '../src/store/store.js';
import { runCycle, STORY_LOCK } from '../src/worker/cycle.js';
import { mailbox } from './ipc.js';

export interface WorkerResult {
  type: 'result';
  ms: number;
  /** feeds this worker polled (fetched, whatever came of it) */
  polled: number;
  failed: number;
  items: number;
  stories: number;
  alerts: number;
  /** sections run under the "stories" lock (one per feed decided and committed) */
  lockSections: number;
  /** from holding the lock (fn starts) until it is given back (withLock resolves) */
  lockHeldMs: number;
  /** from asking for the lock until holding it */
  lockWaitMs: number;
  /** items that went through the story decision (matched a watchlist) */
  matched: number;
  /** store calls made under the lock, by method: calls and ms (outermost calls only) */
  calls: Record<string, { count: number; ms: number }>;
  cpuMs: number;
  /** how late this process's event loop ran timers during the cycle: mean and 99th percentile, ms */
  loopDelayMs: { mean: number; p99: number };
  concurrency: number;
  perHost: number;
}

const databaseUrl = process.argv[2];
if (!databaseUrl) throw new Error('usage: workers-process.ts DATABASE_URL');

const parent = mailbox(process);
const { urls } = await parent.next<{ urls: string[] }>('urls');
const store = await openStore(databaseUrl);

let lockSections = 0;
let lockHeldMs = 0;
let lockWaitMs = 0;
/** set inside a timed section, so that a nested withLock (it is re-entrant) is not timed twice */
const inside = new AsyncLocalStorage<true>();
const withLock = store.withLock.bind(store);
store.withLock = async <T>(name: string, fn: () => Promise<T>, options?: LockOptions): Promise<T> => {
  if (name !== STORY_LOCK || inside.getStore()) return withLock(name, fn, options);
  const asked = performance.now();
  // An object, not a `let`: the callback sets it, which control-flow narrowing would not see.
  const section = { heldAt: null as number | null };
  try {
    return await withLock(
      name,
      () => {
        section.heldAt = performance.now();
        lockWaitMs += section.heldAt - asked;
        return inside.run(true, fn);
      },
      options,
    );
  } finally {
    if (section.heldAt !== null) {
      lockHeldMs += performance.now() - section.heldAt;
      lockSections++;
    }
  }
};

// The store calls the decide-and-commit step makes, timed when made under the lock (a call
// from within another timed call is part of it), so that the lock's time can be told apart.
const calls: Record<string, { count: number; ms: number }> = {};
const inCall = new AsyncLocalStorage<true>();
const timed = store as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
for (const method of ['getFeedState', 'itemHashes', 'recordItemUpdate', 'findStory', 'getStory', 'reportsAfter', 'commitFeedBatch'] as const) {
  const original = store[method].bind(store) as (...args: unknown[]) => Promise<unknown>;
  timed[method] = async (...args: unknown[]) => {
    if (!inside.getStore() || inCall.getStore()) return original(...args);
    const begun = performance.now();
    try {
      return await inCall.run(true, () => original(...args));
    } finally {
      const entry = (calls[method] ??= { count: 0, ms: 0 });
      entry.count++;
      entry.ms += performance.now() - begun;
    }
  };
}

// The same feeds and channel as the ingestion benchmark: the default preset, default fetch limits.
const config = parseConfig(
  `feeds:\n${urls.map((u) => `  - url: ${u}\n`).join('')}channels:\n  - chat: "@bench_chan"\n    watchlists: [kazakhstan-unrest]\n`,
  'bench.yaml',
  {},
);
const nowhere = new Writable({ write: (_c, _e, cb) => cb() });
const deps = {
  config,
  store,
  sink: new ConsoleSink(nowhere),
  log: createLogger({ level: 'error', destination: nowhere }),
  delivery: 'none' as const,
};

process.send?.({ type: 'ready' });
// The round (the tick every worker's cycle runs for): feeds one worker polled are not due for another.
const { round } = await parent.next<{ round: number }>('go');
const loop = monitorEventLoopDelay({ resolution: 5 });
loop.enable();
const cpu = process.cpuUsage();
const started = performance.now();
const report = await runCycle({ ...deps, round });
const ms = performance.now() - started;
const used = process.cpuUsage(cpu);
loop.disable();
const result: WorkerResult = {
  type: 'result',
  ms,
  polled: report.feeds.ok + report.feeds.unchanged + report.feeds.failed,
  failed: report.feeds.failed,
  items: report.items.fetched,
  stories: report.stories,
  alerts: report.alertsQueued,
  lockSections,
  lockHeldMs,
  lockWaitMs,
  calls,
  matched: report.items.matched,
  cpuMs: (used.user + used.system) / 1000,
  loopDelayMs: { mean: loop.mean / 1e6, p99: loop.percentile(99) / 1e6 },
  concurrency: config.fetch.concurrency,
  perHost: config.fetch.perHost,
};
process.send?.(result);
await store.close();
process.disconnect();
