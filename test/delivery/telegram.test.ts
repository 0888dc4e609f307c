import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { drainOutbox } from '../../src/delivery/outbox.js';
import { TelegramSink } from '../../src/delivery/telegram.js';
import { createLogger } from '../../src/log.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import type { FeedBatch } from '../../src/store/store.js';
import { FakeTelegram, FAKE_TOKEN } from '../support/fake-telegram.js';

let telegram: FakeTelegram;
let sink: TelegramSink;
const message = { kind: 'alert' as const, targetMessageId: null, linkPreview: false, chat: '@chan', threadId: null, html: '<b>Almaty</b> &lt;protest&gt;', text: 'Almaty <protest>' };

beforeEach(async () => {
  telegram = await new FakeTelegram().start();
  sink = new TelegramSink({ token: FAKE_TOKEN, apiRoot: telegram.apiRoot });
});
afterEach(async () => {
  await telegram.stop();
});

describe('TelegramSink', () => {
  it('sends HTML with link previews off and returns the message id', async () => {
    expect(await sink.send({ ...message, threadId: 7 })).toEqual({ kind: 'sent', messageId: 1 });
    expect(telegram.messages[0]).toMatchObject({ chat_id: '@chan', parse_mode: 'HTML', message_thread_id: 7 });
    expect(telegram.calls[0]?.body).toMatchObject({ link_preview_options: { is_disabled: true } });
  });

  it('shows a link preview only for channels that asked for one', async () => {
    await sink.send({ ...message, linkPreview: true });
    expect(telegram.calls[0]?.body).toMatchObject({ link_preview_options: { is_disabled: false } });
  });

  it('turns 429 into a retry after retry_after seconds', async () => {
    telegram.failNext(FakeTelegram.tooManyRequests(7));
    expect(await sink.send(message)).toEqual({ kind: 'retry', reason: '429: Too Many Requests: retry after 7', afterMs: 7000, rateLimited: true });
  });

  it('turns 403 blocked into gone, and 5xx or a dead server into retry', async () => {
    telegram.blocked.add('@chan');
    expect(await sink.send(message)).toMatchObject({ kind: 'gone', reason: '403: Forbidden: bot was blocked by the user' });
    telegram.failNext({ status: 500, description: 'Internal Server Error' });
    expect(await sink.send({ ...message, chat: '@other' })).toMatchObject({ kind: 'retry', afterMs: null });
    const dead = new TelegramSink({ token: FAKE_TOKEN, apiRoot: 'http://127.0.0.1:1' });
    expect(await dead.send(message)).toMatchObject({ kind: 'retry', afterMs: null });
  });

  it('resends as plain text when Telegram cannot parse the HTML, rather than lose the alert', async () => {
    const outcome = await sink.send({ ...message, html: '<b>unclosed' });
    expect(outcome).toEqual({ kind: 'sent', messageId: 1 });
    expect(telegram.messages).toEqual([expect.objectContaining({ text: 'Almaty <protest>', parse_mode: null })]);
  });

  it('keeps the token out of its errors', async () => {
    const dead = new TelegramSink({ token: FAKE_TOKEN, apiRoot: 'http://127.0.0.1:1' });
    const outcome = await dead.send(message);
    expect(JSON.stringify(outcome)).not.toContain(FAKE_TOKEN);
  });
});

describe('drainOutbox', () => {
  function queue(store: SqliteStore, chats: string[]): Promise<void> {
    const batch: FeedBatch = {
      feedUrl: 'https://f.test/rss',
      at: Date.now(),
      items: [],
      newStories: chats.map((chat, i) => ({ title: `s${i}`, link: null, keys: [`k${i}`] })),
      storyKeys: [],
      reports: [],
      outbox: chats.map((chat, i) => ({ story: { newIndex: i }, kind: 'alert' as const, targetId: null, linkPreview: false, chat, threadId: null, html: `<b>alert ${i}</b>`, text: `alert ${i}` })),
      outboxRewrites: [],
      breaking: [],
      digestItems: [],
      fetch: { etag: null, lastModified: null },
    };
    return store.commitFeedBatch(batch);
  }
  const quiet = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });

  it('delivers in order per chat, waiting out a flood wait', async () => {
    const store = new SqliteStore(':memory:');
    await queue(store, ['@a', '@a', '@b']);
    telegram.failNext(FakeTelegram.tooManyRequests(1));
    const report = await drainOutbox({ store, sink, log: quiet, deadline: Date.now() + 10_000, minIntervalMs: 0 });
    expect(report).toEqual({ sent: 3, retried: 1, failed: 0, rateLimited: 1, pending: 0 });
    expect(telegram.messages.filter((m) => m.chat_id === '@a').map((m) => m.text)).toEqual(['<b>alert 0</b>', '<b>alert 1</b>']);
    await store.close();
  });

  it('follows a group that became a supergroup: every alert arrives at the new id, with its subscriptions', async () => {
    const store = new SqliteStore(':memory:');
    await store.upsertChat('-3001', 'group', 0);
    await store.addChatWatchlist('-3001', { preset: 'kazakhstan-unrest' }, 0);
    await queue(store, ['-3001', '-3001', '-3001', '@other']);
    telegram.migrate(-3001, -1003001);
    const report = await drainOutbox({ store, sink, log: quiet, deadline: Date.now() + 20_000, minIntervalMs: 0 });
    expect(report).toMatchObject({ sent: 4, failed: 0, pending: 0 });
    expect(telegram.messages.filter((m) => m.chat_id === '-1003001').map((m) => m.text)).toEqual(['<b>alert 0</b>', '<b>alert 1</b>', '<b>alert 2</b>']);
    expect(telegram.messages.filter((m) => m.chat_id === '-3001')).toEqual([]);
    expect(await store.chatWatchlists('-1003001')).toMatchObject([{ preset: 'kazakhstan-unrest' }]);
    expect(await store.getChat('-3001')).toMatchObject({ active: false, deactivatedReason: 'moved to -1003001' });
    expect(await store.chatMoves()).toEqual(new Map([['-3001', '-1003001']]));
    await store.close();
  });

  it('a refused token (401) pauses delivery and keeps every alert queued; with the right token each goes once', async () => {
    const store = new SqliteStore(':memory:');
    await queue(store, ['@a', '@b', '@c']);
    const revoked = new TelegramSink({ token: '123456789:REVOKED-token-ABCdefGHIjklMNOpqr', apiRoot: telegram.apiRoot });
    const report = await drainOutbox({ store, sink: revoked, log: quiet, deadline: Date.now() + 5_000, minIntervalMs: 0 });
    expect(report).toMatchObject({ sent: 0, failed: 0, pending: 3 });
    expect(revoked.problem()).toMatch(/^Telegram refuses the bot token \(401: Unauthorized\)/u);
    const tried = telegram.calls.length;
    // The next drain within the minute does not knock again.
    expect(await drainOutbox({ store, sink: revoked, log: quiet, deadline: Date.now() + 5_000, minIntervalMs: 0 })).toMatchObject({ sent: 0, pending: 3 });
    expect(telegram.calls.length).toBe(tried);
    expect(await store.outboxCounts()).toEqual({ pending: 3, sent: 0, failed: 0 });

    // The operator fixes the token (a restart with the right one): everything goes, once.
    const fixed = await drainOutbox({ store, sink, log: quiet, deadline: Date.now() + 5_000, minIntervalMs: 0 });
    expect(fixed).toMatchObject({ sent: 3, failed: 0, pending: 0 });
    expect(telegram.messages.map((m) => m.chat_id).sort()).toEqual(['@a', '@b', '@c']);
    expect(sink.problem()).toBeNull();
    await store.close();
  });

  it('keeps the token out of the stored error when Telegram echoes it', async () => {
    const store = new SqliteStore(':memory:');
    await queue(store, ['@echo']);
    telegram.failNext({ status: 400, description: `Bad Request: bot ${FAKE_TOKEN} cannot post here` });
    await drainOutbox({ store, sink, log: quiet, deadline: Date.now() + 5_000, minIntervalMs: 0 });
    // The stored row, read as an operator would (the store has no reader for last_error alone).
    const db = (store as unknown as { db: { prepare(sql: string): { all(): Array<{ last_error: string }> } } }).db;
    const [row] = db.prepare('SELECT last_error FROM outbox').all();
    expect(row?.last_error).toBe('400: Bad Request: bot [redacted] cannot post here');
    await store.close();
  });

  it('records a blocked chat as failed and still delivers to the others', async () => {
    const store = new SqliteStore(':memory:');
    await queue(store, ['@blocked', '@ok']);
    telegram.blocked.add('@blocked');
    const report = await drainOutbox({ store, sink, log: quiet, deadline: Date.now() + 5_000, minIntervalMs: 0 });
    expect(report).toEqual({ sent: 1, retried: 0, failed: 1, rateLimited: 0, pending: 0 });
    expect(telegram.messages.map((m) => m.chat_id)).toEqual(['@ok']);
    await store.close();
  });

  it("in run's cycles, sends what can go now and leaves a chat's next alert, due in 3 s by its pace, to the sender loop", async () => {
    const store = new SqliteStore(':memory:');
    await queue(store, ['@a', '@a', '@b']);
    const first = await drainOutbox({ store, sink, log: quiet, deadline: Date.now() + 10_000, minIntervalMs: 0, waitForDue: false });
    expect(first).toEqual({ sent: 2, retried: 0, failed: 0, rateLimited: 0, pending: 1 });
    expect(telegram.messages.map((m) => [m.chat_id, m.text])).toEqual([
      ['@a', '<b>alert 0</b>'],
      ['@b', '<b>alert 2</b>'],
    ]);
    // The next drain keeps the chat's pace (it waits, as a drain may) and sends it, in order.
    expect(await drainOutbox({ store, sink, log: quiet, deadline: Date.now() + 10_000, minIntervalMs: 0 })).toMatchObject({ sent: 1, pending: 0 });
    expect(telegram.sentTo('@a')).toEqual(['<b>alert 0</b>', '<b>alert 1</b>']);
    await store.close();
  });

  it('leaves rows pending when the flood wait outlasts the deadline', async () => {
    const store = new SqliteStore(':memory:');
    await queue(store, ['@a']);
    telegram.failNext(FakeTelegram.tooManyRequests(30));
    const report = await drainOutbox({ store, sink, log: quiet, deadline: Date.now() + 1_000, minIntervalMs: 0 });
    expect(report).toEqual({ sent: 0, retried: 1, failed: 0, rateLimited: 1, pending: 1 });
    await store.close();
  });
});
