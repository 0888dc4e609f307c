import { createServer } from 'node:http';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig, type Config } from '../../src/config/load.js';
import { ConsoleSink } from '../../src/delivery/console.js';
import { createLogger } from '../../src/log.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { runCycle } from '../../src/worker/cycle.js';
import { HttpServerError, readiness, startHttpServer, type HttpServer } from '../../src/worker/http.js';
import { Metrics } from '../../src/worker/metrics.js';
import type { PushDelivery, PushEndpoint } from '../../src/worker/push.js';
import type { WorkerStatus } from '../../src/worker/worker.js';
import { FeedServer, rss } from '../support/feed-server.js';
import { listenLocal, closeServer } from '../support/local-server.js';

const quiet = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
const sink = new ConsoleSink(new Writable({ write: (_c, _e, cb) => cb() }));
const MINUTE = 60_000;

function status(over: Partial<WorkerStatus> = {}): WorkerStatus {
  return { startedAt: 0, running: false, lastCycleFinishedAt: null, lastCycleError: null, periodMs: 5 * MINUTE, roles: [], ...over };
}

describe('readiness', () => {
  const now = 100 * MINUTE;
  it('is ready while cycles finish within two schedule periods and the store answers', () => {
    expect(readiness(status({ lastCycleFinishedAt: now - 9 * MINUTE }), null, now)).toEqual({ ready: true, reasons: [] });
  });
  it('says why it is not', () => {
    expect(readiness(status({ running: true }), null, now).reasons).toEqual(['the first cycle is still running']);
    expect(readiness(status({ lastCycleFinishedAt: now - 11 * MINUTE, lastCycleError: 'disk I/O error' }), null, now).reasons).toEqual([
      'the last cycle finished 660 s ago, more than two schedule periods (600 s); last error: disk I/O error',
    ]);
    expect(readiness(status({ lastCycleFinishedAt: now }), 'The database connection is not open', now)).toEqual({
      ready: false,
      reasons: ['store: The database connection is not open'],
    });
    expect(readiness(status({ lastCycleFinishedAt: now, deliveryProblem: 'Telegram refuses the bot token (401: Unauthorized)' }), null, now).reasons).toEqual([
      'delivery paused: Telegram refuses the bot token (401: Unauthorized)',
    ]);
  });
});

describe('the health and metrics server', () => {
  let feeds: FeedServer;
  let store: SqliteStore;
  let config: Config;
  let metrics: Metrics;
  let server: HttpServer;
  let worker: WorkerStatus;
  const get = async (path: string, method = 'GET') => {
    const response = await fetch(`http://127.0.0.1:${server.port}${path}`, { method });
    return { status: response.status, type: response.headers.get('content-type'), body: await response.text() };
  };

  beforeEach(async () => {
    feeds = await new FeedServer().start();
    store = new SqliteStore(':memory:');
    config = parseConfig(
      `feeds:\n  - url: ${feeds.url}/ru.xml\n  - url: ${feeds.url}/down.xml\nchannels:\n  - chat: "@alerts"\n    watchlists: [kazakhstan-unrest]\n`,
      'test.yaml',
      {},
    );
    metrics = new Metrics({ store, config: () => config });
    worker = status({ running: true });
    server = await startHttpServer({ host: '127.0.0.1', port: 0, log: quiet, sources: { status: () => worker, store, metrics } });
  });
  afterEach(async () => {
    await server.close();
    await feeds.stop();
    await store.close();
  });

  it('answers /healthz always, and /readyz once a cycle has finished', async () => {
    expect(await get('/healthz')).toMatchObject({ status: 200, body: expect.stringContaining('"status":"ok"') as unknown });
    const starting = await get('/readyz');
    expect(starting.status).toBe(503);
    expect(JSON.parse(starting.body)).toMatchObject({ ready: false, reasons: ['the first cycle is still running'], cycleRunning: true });
    worker = status({ lastCycleFinishedAt: Date.now() });
    expect(JSON.parse((await get('/readyz')).body)).toMatchObject({ ready: true, reasons: [] });
    await store.close();
    expect((await get('/readyz')).status).toBe(503);
  });

  it('counts what a cycle did in /metrics', async () => {
    feeds.set('/ru.xml', rss('Лента', [{ title: 'Митинг в Алматы разогнан полицией', guid: 'r1', link: 'https://ru.example.test/r1', minutesAgo: 3 }, { title: 'Погода', guid: 'r2', minutesAgo: 4 }]));
    feeds.set('/down.xml', { body: 'gone', status: 500 });
    const before = await get('/metrics');
    expect(before.type).toMatch(/^text\/plain/u);
    expect(before.body).toContain('steppewatch_cycles_total{outcome="ok"} 0');
    expect(before.body).toContain('steppewatch_feeds{state="new"} 2');

    metrics.cycleFinished(await runCycle({ config, store, sink, log: quiet }));
    const after = (await get('/metrics')).body;
    for (const line of [
      'steppewatch_cycles_total{outcome="ok"} 1',
      'steppewatch_cycle_duration_seconds_count 1',
      'steppewatch_feed_polls_total{result="ok"} 1',
      'steppewatch_feed_polls_total{result="failed"} 1',
      'steppewatch_feeds{state="ok"} 1',
      'steppewatch_feeds{state="failing"} 1',
      'steppewatch_items_total{stage="fetched"} 2',
      'steppewatch_items_total{stage="matched"} 1',
      'steppewatch_stories_total 1',
      'steppewatch_alerts_queued_total 1',
      'steppewatch_alerts_sent_total 1',
      'steppewatch_outbox_depth 0',
      'steppewatch_telegram_rate_limited_total 0',
    ]) {
      expect(after).toContain(line);
    }
    expect(after).toMatch(/^steppewatch_fetch_bytes_total [1-9]\d*$/mu);
    expect(after).toContain('process_resident_memory_bytes');
  });

  it('refuses what it does not serve', async () => {
    expect((await get('/')).status).toBe(404);
    expect((await get('/metrics', 'POST')).status).toBe(405);
  });

  it('says clearly when its port is taken', async () => {
    const taken = createServer();
    const url = await listenLocal(taken);
    const port = Number(new URL(url).port);
    await expect(startHttpServer({ host: '127.0.0.1', port, log: quiet, sources: { status: () => worker, store, metrics } })).rejects.toThrow(
      new HttpServerError(`health server: 127.0.0.1:${port} is in use; set HTTP_PORT (0 turns the server off) or HTTP_HOST`),
    );
    await closeServer(taken);
  });
});

describe('the WebSub callbacks of the server', () => {
  let store: SqliteStore;
  let server: HttpServer;
  const delivered: PushDelivery[] = [];
  const endpoint: PushEndpoint = {
    verify: (id, query) => Promise.resolve(id === 'known' ? { status: 200, body: query.get('hub.challenge') ?? '' } : { status: 404, body: 'unknown subscription\n' }),
    deliver: (_id, delivery) => {
      delivered.push(delivery);
      return Promise.resolve(202);
    },
  };

  beforeEach(async () => {
    delivered.length = 0;
    store = new SqliteStore(':memory:');
    const config = parseConfig(`feeds:\n  - url: https://f.test/rss\nchannels:\n  - chat: "@alerts"\n    watchlists: [kazakhstan-unrest]\n`, 'test.yaml', {});
    const metrics = new Metrics({ store, config: () => config });
    server = await startHttpServer({ host: '127.0.0.1', port: 0, log: quiet, sources: { status: () => status(), store, metrics, push: { endpoint: () => endpoint, maxBytes: 64 } } });
  });
  afterEach(async () => {
    await server.close();
    await store.close();
  });

  it('answers a verification with what the subscriptions say, and hands a delivery over with its headers', async () => {
    const base = `http://127.0.0.1:${server.port}/websub`;
    expect(await (await fetch(`${base}/known?hub.mode=subscribe&hub.challenge=c-123`)).text()).toBe('c-123');
    expect((await fetch(`${base}/other?hub.mode=subscribe&hub.challenge=c-123`)).status).toBe(404);
    const pushed = await fetch(`${base}/known`, { method: 'POST', headers: { 'content-type': 'application/rss+xml', 'x-hub-signature': 'sha1=00', link: '<https://hub.example/>; rel="hub"' }, body: '<rss/>' });
    expect(pushed.status).toBe(202);
    expect(delivered).toEqual([{ body: Buffer.from('<rss/>'), contentType: 'application/rss+xml', signature: 'sha1=00', link: '<https://hub.example/>; rel="hub"' }]);
  });

  it('refuses a pushed body over fetch.max_bytes unread, and methods a hub does not use', async () => {
    const base = `http://127.0.0.1:${server.port}/websub`;
    expect((await fetch(`${base}/known`, { method: 'POST', body: 'x'.repeat(65) })).status).toBe(413);
    expect(delivered).toEqual([]);
    expect((await fetch(`${base}/known`, { method: 'PUT', body: 'x' })).status).toBe(405);
    // Other paths stay read-only.
    expect((await fetch(`http://127.0.0.1:${server.port}/metrics`, { method: 'POST', body: 'x' })).status).toBe(405);
  });
});
