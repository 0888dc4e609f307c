import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { answerCommand } from '../../src/bot/commands.js';
import { parseConfig } from '../../src/config/load.js';
import { SqliteStore } from '../../src/store/sqlite.js';

const NOW = Date.parse('2026-12-01T12:00:00Z');
const config = parseConfig(
  'schedule: "*/5 * * * *"\nfeeds:\n  - url: https://busy.test/rss\n  - url: https://cached.test/rss\n  - url: https://hot.test/rss\nadmins: [777]\n',
  'test.yaml',
  {},
);
const limits = { maxWatchlists: config.bot.maxWatchlists, maxQueryLength: config.bot.maxQueryLength };

let store: SqliteStore;
beforeEach(() => {
  store = new SqliteStore(':memory:');
});
afterEach(async () => {
  await store.close();
});

const admin = (text: string) => answerCommand({ chat: { id: '777', kind: 'private' }, userId: '777', text, isChatAdmin: () => Promise.resolve(true) }, store, config, limits, NOW);

async function polled(url: string, intervalMs: number, reason: string): Promise<void> {
  await store.recordFeedFailure(url, 'x', NOW - 1, NOW);
  await store.recordFeedUnchanged(url, NOW);
  await store.recordFeedPace(url, { intervalMs, reason, nextPollAt: NOW + intervalMs, earliestAt: NOW + 60_000, ttlMinutes: null });
}

describe('/feeds', () => {
  it("shows administrators each feed's interval and why, and when the schedule's tick is the limit", async () => {
    await polled('https://busy.test/rss', 30 * 60_000, 'rate:12');
    await polled('https://cached.test/rss', 60 * 60_000, 'max-age:3600');
    await polled('https://hot.test/rss', 60_000, 'breaking');
    expect((await admin('/feeds'))?.split('\n')).toEqual([
      '• https://busy.test/rss — ok · every 30 min: 12 entries a day',
      '• https://cached.test/rss — ok · every 1 h: Cache-Control max-age=3600',
      '• https://hot.test/rss — ok · every 1 min: a story is breaking (the minimum); the schedule looks every 5 min',
    ]);
    await admin('/lang ru');
    expect((await admin('/feeds'))?.split('\n')[0]).toBe('• https://busy.test/rss — в порядке · раз в 30 мин: 12 записей в сутки');
  });
});
