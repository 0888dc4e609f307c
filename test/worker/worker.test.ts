import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig, type Config } from '../../src/config/load.js';
import { ConsoleSink } from '../../src/delivery/console.js';
import { createLogger, type Logger } from '../../src/log.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import type { CycleReport } from '../../src/worker/cycle.js';
import { readiness } from '../../src/worker/http.js';
import { schedulePeriodMs, startWorker, type Worker } from '../../src/worker/worker.js';
import { FeedServer, rss } from '../support/feed-server.js';

let feeds: FeedServer;
let store: SqliteStore;
let log: Logger;
let printed: string;
let sink: ConsoleSink;
let worker: Worker | null;
/** log messages so far, and waiters for the next ones */
let messages: string[];
let waiters: Array<{ msg: string; resolve: () => void }>;

beforeEach(async () => {
  feeds = await new FeedServer().start();
  store = new SqliteStore(':memory:');
  messages = [];
  waiters = [];
  printed = '';
  worker = null;
  sink = new ConsoleSink(new Writable({ write: (chunk: Buffer, _e, cb) => ((printed += chunk.toString()), cb()) }));
  log = createLogger({
    level: 'debug',
    destination: new Writable({
      write: (chunk: Buffer, _e, cb) => {
        const { msg } = JSON.parse(chunk.toString()) as { msg: string };
        messages.push(msg);
        for (const waiter of waiters.filter((w) => w.msg === msg)) waiter.resolve();
        cb();
      },
    }),
  });
});
afterEach(async () => {
  await worker?.stop('test over');
  await feeds.stop();
  await store.close();
});

/** Resolves when the log says `msg` (at once if it already has). */
function logged(msg: string): Promise<void> {
  if (messages.includes(msg)) return Promise.resolve();
  return new Promise((resolve) => waiters.push({ msg, resolve }));
}

function config(paths: string[], extra = ''): Config {
  return parseConfig(
    `schedule: "* * * * * *"\nfeeds:\n${paths.map((p) => `  - url: ${feeds.url}${p}\n`).join('')}channels:\n  - chat: "@alerts"\n    watchlists: [kazakhstan-unrest]\n${extra}`,
    'test.yaml',
    {},
  );
}

const protest = (guid: string, title: string) => rss('News', [{ title, guid, link: `https://news.example.test/${guid}`, minutesAgo: 2 }]);

describe('the worker', () => {
  it('stops within its bound when a feed hangs, sends what was queued, and loses nothing', async () => {
    feeds.set('/fast.xml', protest('fast-1', 'Митинг в Алматы разогнан полицией'));
    feeds.set('/slow.xml', { body: protest('slow-1', 'Взрыв в Астане: объявлено чрезвычайное положение'), delayMs: 60_000 });
    worker = startWorker({ config: config(['/fast.xml', '/slow.xml']), store, sink, log, graceMs: 800 });
    await Promise.all([feeds.requested('/slow.xml'), logged('feed processed')]);

    const started = Date.now();
    await worker.stop('SIGTERM');
    expect(Date.now() - started).toBeLessThan(800 + 500);
    expect(messages).toContain('the running cycle did not finish in time; cutting it short (feeds it has not polled wait for the next run)');
    // The fast feed's alert went out in the last sends; the cut-short feed is not counted as failing.
    expect(printed).toContain('Митинг в Алматы');
    expect((await store.outboxCounts()).pending).toBe(0);
    expect((await store.getFeedState(`${feeds.url}/slow.xml`))?.consecutiveFailures ?? 0).toBe(0);

    // The next run polls the slow feed again and alerts on its item, once.
    feeds.set('/slow.xml', protest('slow-1', 'Взрыв в Астане: объявлено чрезвычайное положение'));
    messages = [];
    const next = startWorker({ config: config(['/fast.xml', '/slow.xml']), store, sink, log, graceMs: 800 });
    worker = next;
    await logged('cycle finished');
    await next.stop('test over');
    expect(printed.match(/Взрыв в Астане/gu)).toHaveLength(1);
    expect(printed.match(/Митинг в Алматы/gu)).toHaveLength(1);
  });

  it('skips a scheduled cycle while the one before still runs, and tells its observer', async () => {
    feeds.set('/slow.xml', { body: rss('Slow', []), delayMs: 60_000 });
    let skipped: () => void = () => undefined;
    const wasSkipped = new Promise<void>((resolve) => (skipped = resolve));
    worker = startWorker({ config: config(['/slow.xml']), store, sink, log, graceMs: 400, observer: { cycleSkipped: () => skipped() } });
    await wasSkipped;
    expect(messages).toContain('previous cycle still running; this one is skipped');
  });

  it('still stops when the store fails while it sends the last alerts', async () => {
    feeds.set('/a.xml', rss('A', []));
    worker = startWorker({ config: config(['/a.xml']), store, sink, log, graceMs: 800 });
    await logged('cycle finished');
    // A disk that fails under the last sends: no local server can stand in for a failing SQLite file.
    store.dueOutbox = () => Promise.reject(new Error('disk I/O error'));
    await worker.stop('SIGTERM');
    expect(messages).toContain('could not send queued alerts before stopping');
  });

  it('says in words when the database stops taking writes mid-run, is not ready meanwhile, and loses no alert', async () => {
    feeds.set('/a.xml', rss('A', []));
    const finished: Array<() => void> = [];
    const failed: Array<() => void> = [];
    const next = (list: Array<() => void>) => new Promise<void>((resolve) => list.push(resolve));
    const cycleFinished = next(finished);
    worker = startWorker({
      // Every feed on every tick (not at its adaptive pace): the next cycles ask /a.xml again.
      config: config(['/a.xml'], 'polling:\n  adaptive: false\n'),
      store,
      sink,
      log,
      observer: { cycleFinished: () => finished.shift()?.(), cycleFailed: () => failed.shift()?.() },
    });
    await cycleFinished;
    // The real SQLite connection refusing writes, as a file made read-only or a full disk does.
    const db = (store as unknown as { db: { pragma(sql: string): unknown } }).db;
    const cycleFailed = next(failed);
    db.pragma('query_only = ON');
    feeds.set('/a.xml', protest('a-1', 'Митинг в Алматы разогнан полицией'));
    await cycleFailed;
    const problem = worker.status().storeProblem ?? '';
    expect(problem).toMatch(/^the SQLite database cannot be written \(.*readonly.*\): make the file, its -wal and -shm files and the directory/u);
    expect(messages).toContain(`cycle failed: ${problem}`);
    expect(readiness(worker.status(), null, Date.now())).toEqual({ ready: false, reasons: [`store: ${problem}`] });
    expect(printed).not.toContain('Митинг в Алматы');

    // Writable again: the next cycle alerts on the item, once, and readiness comes back.
    const recovered = next(finished);
    db.pragma('query_only = OFF');
    await recovered;
    await worker.stop('test over');
    expect(worker.status().storeProblem).toBeNull();
    expect(readiness(worker.status(), null, Date.now()).reasons).not.toContainEqual(expect.stringMatching(/^store:/u));
    expect(printed.match(/Митинг в Алматы/gu)).toHaveLength(1);
  });

  it('uses a reloaded config from the next cycle on', async () => {
    feeds.set('/a.xml', rss('A', []));
    feeds.set('/b.xml', protest('b-1', 'Митинг в Алматы разогнан полицией'));
    const cycles: CycleReport[] = [];
    let cycleDone: () => void = () => undefined;
    worker = startWorker({
      config: config(['/a.xml']),
      store,
      sink,
      log,
      observer: {
        cycleFinished: (report) => {
          cycles.push(report);
          cycleDone();
        },
      },
    });
    const nextCycle = () => new Promise<void>((resolve) => (cycleDone = resolve));
    await nextCycle();
    const b = config(['/b.xml']);
    worker.reload(b);
    expect(worker.config()).toBe(b);
    await nextCycle();
    expect(feeds.requests.filter((r) => r.path === '/b.xml')).not.toHaveLength(0);
    expect(printed).toContain('Митинг в Алматы');
    expect(worker.status()).toMatchObject({ periodMs: 1000, lastCycleError: null });
    expect(worker.status().lastCycleFinishedAt).toBeGreaterThan(0);
  });
});

describe('schedulePeriodMs', () => {
  it('is the longest gap between the next runs', () => {
    const at = (iso: string) => new Date(iso);
    const weekdays = { getNextRuns: () => ['2026-12-03T04:00:00Z', '2026-12-04T04:00:00Z', '2026-12-07T04:00:00Z'].map(at) };
    expect(schedulePeriodMs(weekdays)).toBe(3 * 86_400_000);
  });
});
