// Adaptive polling end to end: real cycles against a real local feed server and a real SQLite
// store, on a controlled clock (only Date is faked: sockets and timers run for real), one cycle
// per five-minute tick as `run` does.

import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseConfig, type Config } from '../../src/config/load.js';
import { ConsoleSink } from '../../src/delivery/console.js';
import { createLogger } from '../../src/log.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { emptyFeedBatch } from '../../src/store/store.js';
import { runCycle } from '../../src/worker/cycle.js';
import { FeedServer, rss } from '../support/feed-server.js';

const MINUTE = 60_000;
const TICK = 5 * MINUTE;
const T0 = Date.UTC(2026, 11, 2, 9, 0, 0);

let feeds: FeedServer;
let store: SqliteStore;
const sink = new ConsoleSink(new Writable({ write: (_c, _e, cb) => cb() }));
const log = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });

beforeEach(async () => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(T0);
  feeds = await new FeedServer().start();
  store = new SqliteStore(':memory:');
});
afterEach(async () => {
  vi.useRealTimers();
  await feeds.stop();
  await store.close();
});

function config(paths: string[], extra = ''): Config {
  return parseConfig(`schedule: "*/5 * * * *"\nfeeds:\n${paths.map((p) => `  - url: ${feeds.url}${p}\n`).join('')}${extra}`, 'test.yaml', {});
}

/** A feed that publishes every ten minutes: its last 30 entries as of now. */
function busyFeed(now: number): string {
  const latest = Math.floor(now / (10 * MINUTE));
  const items = Array.from({ length: 30 }, (_, i) => ({ title: `Entry ${latest - i}`, guid: `e${latest - i}`, minutesAgo: (now - (latest - i) * 10 * MINUTE) / MINUTE }));
  return rss('Busy', items, now);
}

/** A feed with two entries, days old. */
const quietFeed = (now: number) => rss('Quiet', [{ title: 'Old news', guid: 'q1', minutesAgo: 3 * 24 * 60 }, { title: 'Older news', guid: 'q2', minutesAgo: 5 * 24 * 60 }], now);

/** Runs `ticks` paced cycles five minutes apart, the feeds refreshed before each; the ticks at which each path was requested. */
async function runTicks(cfg: Config, ticks: number, serve: (now: number) => void): Promise<Map<string, number[]>> {
  const polled = new Map<string, number[]>();
  for (let k = 0; k < ticks; k++) {
    const round = T0 + k * TICK;
    vi.setSystemTime(round);
    serve(round);
    const before = feeds.requests.length;
    await runCycle({ config: cfg, store, sink, log, round, paced: true });
    for (const request of feeds.requests.slice(before)) polled.set(request.path, [...(polled.get(request.path) ?? []), round]);
  }
  return polled;
}

describe('adaptive polling', () => {
  it('polls a busy feed more often than a quiet one', async () => {
    const cfg = config(['/busy.xml', '/quiet.xml']);
    const polled = await runTicks(cfg, 24, (now) => {
      feeds.set('/busy.xml', busyFeed(now));
      feeds.set('/quiet.xml', quietFeed(now));
    });
    // Busy: every ten minutes → a poll every 2.5 min wanted, so on every tick (the schedule is the limit).
    expect(polled.get('/busy.xml')).toHaveLength(24);
    // Quiet: the maximum of two hours, so once in these two hours of ticks.
    expect(polled.get('/quiet.xml')).toEqual([T0]);
    expect(await store.getFeedState(`${feeds.url}/quiet.xml`)).toMatchObject({ pollIntervalMs: 2 * 60 * MINUTE, pollReason: expect.stringMatching(/^rate:.*:max$/u) as string });
    expect(await store.getFeedState(`${feeds.url}/busy.xml`)).toMatchObject({ pollReason: expect.stringMatching(/^rate:1[34]\d(\.\d+)?$/u) as string });
  });

  it('does not ask a feed again before its Cache-Control max-age or its ttl allows', async () => {
    const cfg = config(['/cached.xml', '/ttl.xml']);
    const polled = await runTicks(cfg, 24, (now) => {
      feeds.set('/cached.xml', { body: busyFeed(now), headers: { 'cache-control': 'public, max-age=1800' } });
      feeds.set('/ttl.xml', busyFeed(now).replace('<channel>', '<channel><ttl>45</ttl>'));
    });
    const gaps = (times: number[]) => times.slice(1).map((t, i) => t - (times[i] ?? 0));
    // Fresh for 30 minutes from each answer: asked again on the tick it expires, never sooner.
    expect(polled.get('/cached.xml')).toEqual([0, 6, 12, 18].map((k) => T0 + k * TICK));
    // ttl 45 min: the first tick after it.
    expect(polled.get('/ttl.xml')).toEqual([0, 9, 18].map((k) => T0 + k * TICK));
    for (const path of ['/cached.xml', '/ttl.xml']) for (const gap of gaps(polled.get(path) ?? [])) expect(gap).toBeGreaterThanOrEqual(30 * MINUTE);
    expect(await store.getFeedState(`${feeds.url}/cached.xml`)).toMatchObject({ pollIntervalMs: 30 * MINUTE, pollReason: 'max-age:1800' });
    expect(await store.getFeedState(`${feeds.url}/ttl.xml`)).toMatchObject({ pollIntervalMs: 45 * MINUTE, pollReason: 'ttl:45', ttlMinutes: 45 });
  });

  it('polls a feed at the minimum while a story breaks in its watchlists, and at its own pace after', async () => {
    const quietUrl = `${feeds.url}/quiet.xml`;
    const item = (key: string, at: number, story: { newIndex: number } | null) => ({
      key,
      title: key,
      link: null,
      publishedAt: at,
      decision: 'alerted' as const,
      watchlists: ['kazakhstan-unrest'],
      story,
      contentHash: key,
    });
    // The quiet feed has matched the watchlist before; another feed's story in it broke ten minutes ago.
    await store.commitFeedBatch({ ...emptyFeedBatch(quietUrl, T0 - 60 * MINUTE), items: [item('earlier', T0 - 60 * MINUTE, null)] });
    await store.commitFeedBatch({
      ...emptyFeedBatch('https://other.test/rss', T0 - 10 * MINUTE),
      newStories: [{ title: 'Breaking', link: null, keys: ['t:breaking'] }],
      items: [item('breaking', T0 - 10 * MINUTE, { newIndex: 0 })],
      breaking: [{ newIndex: 0 }],
    });
    const polled = await runTicks(config(['/quiet.xml']), 24, (now) => feeds.set('/quiet.xml', quietFeed(now)));
    // Breaking for an hour (polling.breaking) from T0 − 10 min: every tick until T0 + 50 min, and
    // the one after (chosen while it still broke); then the quiet feed's own two hours.
    expect(polled.get('/quiet.xml')).toEqual(Array.from({ length: 12 }, (_, k) => T0 + k * TICK));
    expect((await store.getFeedState(quietUrl))?.pollReason).toMatch(/^rate:.*:max$/u);
  });

  it('brings a waiting feed forward when a story breaks in its watchlists, but not before its max-age', async () => {
    const quietUrl = `${feeds.url}/quiet.xml`;
    const cachedUrl = `${feeds.url}/cached.xml`;
    const matched = (key: string, at: number, story: { newIndex: number } | null) => ({
      key,
      title: key,
      link: null,
      publishedAt: at,
      decision: 'alerted' as const,
      watchlists: ['kazakhstan-unrest'],
      story,
      contentHash: key,
    });
    // Both feeds have matched the watchlist before.
    for (const url of [quietUrl, cachedUrl]) await store.commitFeedBatch({ ...emptyFeedBatch(url, T0 - 60 * MINUTE), items: [matched(`earlier-${url}`, T0 - 3 * 24 * 60 * MINUTE, null)] });
    const serve = (now: number) => {
      feeds.set('/quiet.xml', quietFeed(now));
      feeds.set('/cached.xml', { body: quietFeed(now), headers: { 'cache-control': 'max-age=1800' } });
    };
    const cfg = config(['/quiet.xml', '/cached.xml']);
    const first = await runTicks(cfg, 2, serve);
    expect(first.get('/quiet.xml')).toEqual([T0]);
    expect(first.get('/cached.xml')).toEqual([T0]);
    // Another feed's story in the watchlist breaks at T0 + 9 min.
    await store.commitFeedBatch({
      ...emptyFeedBatch('https://other.test/rss', T0 + 9 * MINUTE),
      newStories: [{ title: 'Breaking', link: null, keys: ['t:breaking'] }],
      items: [matched('breaking', T0 + 9 * MINUTE, { newIndex: 0 })],
      breaking: [{ newIndex: 0 }],
    });
    const polled = new Map<string, number[]>();
    for (let k = 2; k < 8; k++) {
      const round = T0 + k * TICK;
      vi.setSystemTime(round);
      serve(round);
      const before = feeds.requests.length;
      await runCycle({ config: cfg, store, sink, log, round, paced: true });
      for (const request of feeds.requests.slice(before)) polled.set(request.path, [...(polled.get(request.path) ?? []), k]);
    }
    // The quiet feed at once and on every tick while it breaks; the cached one once its 30 minutes are over.
    expect(polled.get('/quiet.xml')).toEqual([2, 3, 4, 5, 6, 7]);
    expect(polled.get('/cached.xml')).toEqual([6]);
    expect((await store.getFeedState(quietUrl))?.pollReason).toBe('breaking');
  });

  it('leaves `once` (an unpaced cycle) polling every feed, and off with polling.adaptive: false', async () => {
    const cfg = config(['/quiet.xml']);
    feeds.set('/quiet.xml', quietFeed(T0));
    await runCycle({ config: cfg, store, sink, log, round: T0, paced: true });
    vi.setSystemTime(T0 + TICK);
    await runCycle({ config: cfg, store, sink, log, round: T0 + TICK });
    expect(feeds.requests.filter((r) => r.path === '/quiet.xml')).toHaveLength(2);
    expect(config(['/quiet.xml'], 'polling:\n  adaptive: false\n').polling.adaptive).toBe(false);
  });
});
