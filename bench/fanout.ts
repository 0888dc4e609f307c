// Fan-out (issue 7): one alert to 10,000 subscribers through the fake Bot API enforcing Telegram's
// global limit, against a naive sender that does not pace itself. Time-scaled: Telegram allows
// about 30 messages a second; here the fake allows 30 per 200 ms, answers after 16 ms (an 80 ms
// round trip) and the sender's interval is scaled alike (7 ms), so 10,000 messages take ~70 s
// instead of ~6 minutes. Rates are reported as a share of the (scaled) limit.

import { fork } from 'node:child_process';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { drainOutbox } from '../src/delivery/outbox.js';
import { TelegramSink } from '../src/delivery/telegram.js';
import { createLogger } from '../src/log.js';
import { SqliteStore } from '../src/store/sqlite.js';
import type { FeedBatch } from '../src/store/store.js';
import { FAKE_TOKEN } from '../test/support/fake-telegram.js';
import { mailbox } from './ipc.js';

const SUBSCRIBERS = 10_000;
const SCALE = 5; // time runs five times faster than Telegram's
const LIMIT_PER_S = 30 * SCALE;
const ROUND_TRIP_MS = 80; // a send's round trip to Telegram, scaled like the rest

async function fanOut(minIntervalMs: number): Promise<{ seconds: number; sent: number; tooFast: number }> {
  const child = fork(fileURLToPath(new URL('bot-api-process.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'] });
  const mail = mailbox(child);
  child.send({ type: 'setup', windowMs: 1000 / SCALE, latencyMs: ROUND_TRIP_MS / SCALE });
  const { apiRoot } = await mail.next<{ apiRoot: string }>('ready');
  const store = new SqliteStore(':memory:');
  const batch: FeedBatch = {
    feedUrl: 'https://bench.test/rss',
    at: Date.now(),
    items: [],
    newStories: [{ title: 'Story', link: null, keys: ['k'] }],
    storyKeys: [],
    reports: [],
    // Subscribers are people (positive ids): one message each, so only the global limit binds.
    outbox: Array.from({ length: SUBSCRIBERS }, (_, i) => ({
      story: { newIndex: 0 },
      kind: 'alert' as const,
      targetId: null,
      chat: String(100_000 + i),
      threadId: null,
      linkPreview: false,
      html: '<b>Almaty</b>: protest',
      text: 'Almaty: protest',
    })),
    outboxRewrites: [],
    breaking: [],
    digestItems: [],
    fetch: { etag: null, lastModified: null },
  };
  await store.commitFeedBatch(batch);
  const sink = new TelegramSink({
    token: FAKE_TOKEN,
    apiRoot,
    minIntervalMs,
    // The naive sender knows no limit at all.
    ...(minIntervalMs > 0 ? { rateLimit: { messages: 30, windowMs: 1000 / SCALE } } : { rateLimit: { messages: Number.MAX_SAFE_INTEGER, windowMs: 1 } }),
  });
  const log = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
  const started = performance.now();
  // A 429's retry_after is in real seconds; the run goes on until every alert is out.
  let sent = 0;
  while (sent < SUBSCRIBERS) sent += (await drainOutbox({ store, sink, log, deadline: Date.now() + 600_000 })).sent;
  const seconds = (performance.now() - started) / 1000;
  await store.close();
  child.send({ type: 'stats' });
  const { tooFast } = await mail.next<{ tooFast: number }>('stats');
  return { seconds, sent, tooFast };
}

export async function benchFanOut(): Promise<void> {
  process.stdout.write(`\nfan-out: one alert to ${SUBSCRIBERS.toLocaleString('en')} subscribers, fake Bot API enforcing 30 messages/s (time ×${SCALE})\n`);
  for (const [name, interval] of [
    ['steppewatch (paced outbox)', 35 / SCALE],
    ['naive (send as fast as possible)', 0],
  ] as const) {
    const { seconds, sent, tooFast } = await fanOut(interval);
    const rate = sent / seconds;
    process.stdout.write(
      `  ${name.padEnd(34)} ${sent} sent in ${seconds.toFixed(1)} s  ${(rate / SCALE).toFixed(1)} msg/s (Telegram time)  ` +
        `${((100 * rate) / LIMIT_PER_S).toFixed(0)}% of the limit  ${tooFast} × 429\n`,
    );
  }
  process.stdout.write('  target: ≥ 90% of the limit with zero 429s\n');
}
