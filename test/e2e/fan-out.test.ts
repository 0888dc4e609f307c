// Delivery that loses nothing: an alert fanned out to many subscribers through a flaky Bot API
// (502s, dropped connections, 429s), and through a worker killed with SIGKILL half-way.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { drainOutbox } from '../../src/delivery/outbox.js';
import { TelegramSink } from '../../src/delivery/telegram.js';
import { createLogger } from '../../src/log.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { runCli, startCli } from '../support/cli.js';
import { FakeTelegram, FAKE_TOKEN } from '../support/fake-telegram.js';
import { FeedServer, rss } from '../support/feed-server.js';

let telegram: FakeTelegram;
let feeds: FeedServer;
let dir: string;
beforeEach(async () => {
  telegram = await new FakeTelegram().start();
  feeds = await new FeedServer().start();
  dir = mkdtempSync(join(tmpdir(), 'steppewatch-fanout-'));
});
afterEach(async () => {
  await telegram.stop();
  await feeds.stop();
  rmSync(dir, { recursive: true, force: true });
});

const SUBSCRIBERS = Array.from({ length: 40 }, (_, i) => 5000 + i);
const quiet = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });

/** Each subscriber follows the preset, through the same commands a person would send. */
function subscribeAll(): void {
  for (const id of SUBSCRIBERS) telegram.userSays({ id, type: 'private' }, id, '/subscribe kazakhstan-unrest');
}
const alertsTo = (id: number) => telegram.sentTo(id).filter((text) => text.includes('#kazakhstan_unrest'));

it('with 10% of sends failing (502, dropped connections, 429) every subscriber gets the alert, once', async () => {
  const store = new SqliteStore(':memory:');
  await store.commitFeedBatch({
    feedUrl: 'https://f.test/rss',
    at: Date.now(),
    items: [],
    newStories: [{ title: 'Story', link: null, keys: ['k'] }],
    storyKeys: [],
    reports: [],
    outbox: SUBSCRIBERS.map((id) => ({ story: { newIndex: 0 }, kind: 'alert' as const, targetId: null, chat: String(id), threadId: null, linkPreview: false, html: '<b>Almaty</b> #kazakhstan_unrest', text: 'Almaty' })),
    outboxRewrites: [],
    breaking: [],
    digestItems: [],
    fetch: { etag: null, lastModified: null },
  });
  telegram.flakiness = 0.1;
  const sink = new TelegramSink({ token: FAKE_TOKEN, apiRoot: telegram.apiRoot, minIntervalMs: 1 });
  let pending = SUBSCRIBERS.length;
  while (pending > 0) pending = (await drainOutbox({ store, sink, log: quiet, deadline: Date.now() + 60_000 })).pending;
  expect(SUBSCRIBERS.map((id) => alertsTo(id).length)).toEqual(SUBSCRIBERS.map(() => 1));
  expect(await store.outboxCounts()).toEqual({ pending: 0, sent: SUBSCRIBERS.length, failed: 0 });
  await store.close();
});

it('a worker killed with SIGKILL during a fan-out delivers the rest after a restart; only messages in flight may go twice', async () => {
  const file = join(dir, 'steppewatch.yaml');
  writeFileSync(file, `feeds:\n  - { url: "${feeds.url}/news.xml", name: News }\n`);
  feeds.set('/news.xml', rss('News', [{ title: 'Protesters storm Almaty city hall', link: 'https://n.test/1', guid: 'n1', minutesAgo: 5, description: 'Protesters stormed the city hall in Almaty.' }]));
  subscribeAll();
  const env = { DATABASE_URL: `sqlite:${join(dir, 'state.db')}`, TELEGRAM_BOT_TOKEN: FAKE_TOKEN, TELEGRAM_API_ROOT: telegram.apiRoot };
  telegram.latencyMs = 20;

  // Kill the worker as the tenth alert lands.
  const child = startCli(['once', '--config', file], env);
  const exited = new Promise((resolve) => child.on('exit', resolve));
  let delivered = 0;
  telegram.onDelivered = (message) => {
    if (message.text.includes('#kazakhstan_unrest') && ++delivered === 10) child.kill('SIGKILL');
  };
  await exited;
  telegram.onDelivered = null;
  const beforeRestart = SUBSCRIBERS.filter((id) => alertsTo(id).length > 0).length;
  expect(beforeRestart).toBeGreaterThanOrEqual(10);
  expect(beforeRestart).toBeLessThan(SUBSCRIBERS.length);

  const restart = await runCli(['once', '--config', file], env);
  expect(restart.code, restart.stderr).toBe(0);
  const counts = SUBSCRIBERS.map((id) => alertsTo(id).length);
  expect(counts.every((n) => n >= 1)).toBe(true);
  // Only the messages in flight at the kill (at most eight at once) may have gone twice.
  expect(counts.filter((n) => n > 1).length).toBeLessThanOrEqual(8);
});
