import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig, type Config } from '../../src/config/load.js';
import { ConsoleSink } from '../../src/delivery/console.js';
import type { OutgoingMessage } from '../../src/delivery/sink.js';
import { createLogger, type Logger } from '../../src/log.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { runCycle } from '../../src/worker/cycle.js';
import { FeedServer, rss } from '../support/feed-server.js';

let feeds: FeedServer;
let store: SqliteStore;
let logs: Array<Record<string, unknown>>;
let log: Logger;
const sink = new ConsoleSink(new Writable({ write: (_c, _e, cb) => cb() }));

beforeEach(async () => {
  feeds = await new FeedServer().start();
  store = new SqliteStore(':memory:');
  logs = [];
  log = createLogger({
    level: 'debug',
    destination: new Writable({ write: (chunk: Buffer, _e, cb) => (logs.push(JSON.parse(chunk.toString()) as Record<string, unknown>), cb()) }),
  });
});
afterEach(async () => {
  await feeds.stop();
  await store.close();
});

function config(paths: string[], extra = ''): Config {
  return parseConfig(`feeds:\n${paths.map((p) => `  - url: ${feeds.url}${p}\n`).join('')}${extra}`, 'test.yaml', {});
}
const requestsTo = (path: string) => feeds.requests.filter((r) => r.path === path).length;

describe('a cycle', () => {
  it('keeps at most fetch.per_host requests open to one host', async () => {
    const paths = Array.from({ length: 6 }, (_, i) => `/slow${i}.xml`);
    for (const path of paths) feeds.set(path, { body: rss('Slow', []), delayMs: 150 });
    const report = await runCycle({ config: config(paths, 'fetch:\n  per_host: 2\n  concurrency: 16\n'), store, sink, log });
    expect(report.feeds.ok).toBe(6);
    expect(feeds.maxInFlight).toBe(2);
  });

  it('takes a per-host override from fetch.hosts, and the default of six otherwise', async () => {
    const paths = Array.from({ length: 12 }, (_, i) => `/slow${i}.xml`);
    for (const path of paths) feeds.set(path, { body: rss('Slow', []), delayMs: 150 });
    const host = new URL(feeds.url).host;
    expect((await runCycle({ config: config(paths, `fetch:\n  hosts:\n    "${host}": {per_host: 4}\n`), store, sink, log })).feeds.ok).toBe(12);
    expect(feeds.maxInFlight).toBe(4);
    const other = await new FeedServer().start();
    try {
      for (const path of paths) other.set(path, { body: rss('Slow', []), delayMs: 150 });
      const cfg = parseConfig(`feeds:\n${paths.map((p) => `  - url: ${other.url}${p}\n`).join('')}`, 'test.yaml', {});
      expect((await runCycle({ config: cfg, store, sink, log })).feeds.ok).toBe(12);
      expect(other.maxInFlight).toBe(6);
    } finally {
      await other.stop();
    }
  });

  it('refuses a fetch.hosts key that is not a host', () => {
    expect(() => config([], 'fetch:\n  hosts:\n    "https://x.test/": {per_host: 4}\n')).toThrow(/fetch\.hosts.*a host name such as example\.org/u);
  });

  it('backs off a failing feed instead of hammering it every cycle', async () => {
    feeds.set('/down.xml', { body: 'no', status: 500 });
    const cfg = config(['/down.xml']);
    expect((await runCycle({ config: cfg, store, sink, log })).feeds.failed).toBe(1);
    const second = await runCycle({ config: cfg, store, sink, log });
    expect(second.feeds).toMatchObject({ failed: 0, deferred: 1 });
    expect(requestsTo('/down.xml')).toBe(1);
    const state = await store.getFeedState(`${feeds.url}/down.xml`);
    expect(state?.nextPollAt).toBeGreaterThan(Date.now() + 30_000);
    expect(state).toMatchObject({ consecutiveFailures: 1, lastError: 'HTTP 500 Internal Server Error' });
  });

  it("honours a feed server's 429 Retry-After", async () => {
    feeds.set('/busy.xml', { body: '', status: 429, headers: { 'retry-after': '3600' } });
    await runCycle({ config: config(['/busy.xml']), store, sink, log });
    const state = await store.getFeedState(`${feeds.url}/busy.xml`);
    expect(state?.nextPollAt).toBeGreaterThanOrEqual(Date.now() + 3_590_000);
  });

  it('reports a feed failing for longer than report_failing_after once, not every cycle', async () => {
    feeds.set('/gone.xml', { body: 'gone', status: 410 });
    const cfg = config(['/gone.xml'], 'fetch:\n  report_failing_after: 0s\nadmins: [4242]\n');
    const url = `${feeds.url}/gone.xml`;
    const notices: OutgoingMessage[] = [];
    const recording = { name: 'recording', minIntervalMs: 0, send: (m: OutgoingMessage) => (notices.push(m), Promise.resolve({ kind: 'sent' as const, messageId: null })) };
    await runCycle({ config: cfg, store, sink: recording, log });
    await store.recordFeedFailure(url, 'HTTP 410 Gone', Date.now(), 0); // due again now
    await runCycle({ config: cfg, store, sink: recording, log });
    expect(requestsTo('/gone.xml')).toBe(2);
    expect(logs.filter((l) => l.msg === 'feed has been failing for too long' && l.feed === url)).toHaveLength(1);
    // The administrator hears of it once too.
    expect(notices.map((n) => n.chat)).toEqual(['4242']);
    expect(notices[0]?.text).toContain(url);
  });

  it('follows a permanent redirect once, then polls the new URL', async () => {
    feeds.set('/old.xml', { body: '', status: 301, headers: { location: '/new.xml' } });
    feeds.set('/new.xml', rss('Moved', [{ title: 'Item', guid: 'g1', minutesAgo: 5 }]));
    const cfg = config(['/old.xml']);
    await runCycle({ config: cfg, store, sink, log });
    await runCycle({ config: cfg, store, sink, log });
    expect(feeds.requests.map((r) => `${r.path} ${r.status}`)).toEqual(['/old.xml 301', '/new.xml 200', '/new.xml 304']);
    expect(logs.some((l) => l.msg === 'feed moved permanently; polling the new URL (update the config)')).toBe(true);
    // Identity stays with the configured URL: the item is not new again.
    expect([...(await store.itemHashes(`${feeds.url}/old.xml`, ['g:g1'])).keys()]).toEqual(['g:g1']);
  });

  it('reports bytes downloaded, and a conditional GET costs none the second time', async () => {
    feeds.set('/a.xml', rss('A', [{ title: 'x', guid: 'x', minutesAgo: 1, description: 'y'.repeat(5000) }]));
    const cfg = config(['/a.xml']);
    const first = await runCycle({ config: cfg, store, sink, log });
    const second = await runCycle({ config: cfg, store, sink, log });
    expect(first.bytes).toBeGreaterThan(5000);
    expect(second).toMatchObject({ bytes: 0, feeds: { unchanged: 1 } });
  });
});

describe('cycles of several workers on one database', () => {
  const MINUTE = 60_000;
  let dir: string;
  let other: SqliteStore;
  let shared: SqliteStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'steppewatch-round-'));
    shared = new SqliteStore(join(dir, 'db.sqlite'));
    other = new SqliteStore(join(dir, 'db.sqlite'));
  });
  afterEach(async () => {
    await shared.close();
    await other.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('poll each feed once per scheduled round between them, and every feed again in the next round', async () => {
    const paths = ['/r1.xml', '/r2.xml', '/r3.xml'];
    for (const path of paths) feeds.set(path, rss('R', []));
    const cfg = config(paths);
    const tick = Date.now();
    const first = await runCycle({ config: cfg, store: shared, sink, log, round: tick });
    const second = await runCycle({ config: cfg, store: other, sink, log, round: tick });
    expect(first.feeds.ok + first.feeds.unchanged).toBe(3);
    expect(second.feeds).toEqual({ ok: 0, unchanged: 0, failed: 0, deferred: 0 });
    // The next tick: due again for whichever worker gets there, however late in the round it was polled.
    const next = await runCycle({ config: cfg, store: other, sink, log, round: tick + 5 * MINUTE });
    expect(next.feeds.ok + next.feeds.unchanged).toBe(3);
    expect(paths.map(requestsTo)).toEqual([2, 2, 2]);
  });

  it('share the cycle at start between workers started together; the first tick after it polls again', async () => {
    feeds.set('/s.xml', rss('S', []));
    const cfg = config(['/s.xml']);
    const start = Date.now();
    await runCycle({ config: cfg, store: shared, sink, log, roundMs: 2.5 * MINUTE });
    const late = await runCycle({ config: cfg, store: other, sink, log, round: start + 300, roundMs: 2.5 * MINUTE });
    expect(late.feeds.ok + late.feeds.unchanged).toBe(0);
    const tick = await runCycle({ config: cfg, store: other, sink, log, round: start + 30_000 });
    expect(tick.feeds.ok + tick.feeds.unchanged).toBe(1);
    expect(requestsTo('/s.xml')).toBe(2);
  });
});

describe('a batch slower than its lease', () => {
  it('leaves the feeds another worker took once the lease ran out, instead of polling them again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'steppewatch-lease-'));
    const a = new SqliteStore(join(dir, 'db.sqlite'));
    const b = new SqliteStore(join(dir, 'db.sqlite'));
    try {
      // One feed at a time; the first outlives the lease by itself, so b takes the batch over.
      feeds.set('/l1.xml', { body: rss('L', []), delayMs: 900 });
      for (const path of ['/l2.xml', '/l3.xml']) feeds.set(path, { body: rss('L', []), delayMs: 20 });
      const cfg = config(['/l1.xml', '/l2.xml', '/l3.xml'], 'fetch:\n  concurrency: 1\n  per_host: 1\nworkers:\n  lease: 400ms\n');
      const round = Date.now();
      const first = runCycle({ config: cfg, store: a, sink, log, round });
      await feeds.requested('/l1.xml');
      await new Promise((resolve) => setTimeout(resolve, 500)); // past a's lease: nothing to await but time
      const second = await runCycle({ config: cfg, store: b, sink, log, round });
      const firstReport = await first;
      // l1 went to b while a still fetched it (one poll longer than the lease cannot be helped);
      // whichever of them comes late to l2 and l3 finds them polled this round and leaves them.
      expect(['/l1.xml', '/l2.xml', '/l3.xml'].map(requestsTo)).toEqual([2, 1, 1]);
      expect(firstReport.feeds.ok + firstReport.feeds.unchanged + second.feeds.ok + second.feeds.unchanged).toBe(4);
    } finally {
      await a.close();
      await b.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
