import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Bot } from '../../src/bot/bot.js';
import { answerCommand, parseCommand } from '../../src/bot/commands.js';
import { parseConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/log.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { buildRouting } from '../../src/worker/routing.js';
import { StoryIndex } from '../../src/dedup/story-index.js';
import { processFeed } from '../../src/worker/process-feed.js';
import { digestMessages, queueDueDigests } from '../../src/delivery/digest.js';
import { MESSAGE_LIMIT, visibleLength } from '../../src/summary/render.js';
import { FakeTelegram, FAKE_TOKEN } from '../support/fake-telegram.js';

const config = parseConfig('feeds:\n  - url: https://f.test/rss\nadmins: [777]\nbot:\n  max_watchlists: 2\n  max_query_length: 40\n', 'test.yaml', {});
const limits = { maxWatchlists: config.bot.maxWatchlists, maxQueryLength: config.bot.maxQueryLength };
const NOW = Date.parse('2026-12-01T12:00:00Z');

let store: SqliteStore;
beforeEach(() => {
  store = new SqliteStore(':memory:');
});
afterEach(async () => {
  await store.close();
});

const say = (text: string, chat = '1001', admin = true) =>
  answerCommand({ chat: { id: chat, kind: chat.startsWith('-') ? 'supergroup' : 'private' }, userId: '1001', text, isChatAdmin: () => Promise.resolve(admin) }, store, config, limits, NOW);

describe('bot commands', () => {
  it('parses commands, with or without the bot name', () => {
    expect(parseCommand('/watch@steppewatch_bot almaty  protest* ')).toEqual({ name: 'watch', argument: 'almaty  protest*' });
    expect(parseCommand('hello')).toBeNull();
  });

  it('keeps a chat within its limits on watchlists and query length', async () => {
    expect(await say('/watch almaty')).toContain('Watching');
    expect(await say('/subscribe kazakhstan-unrest')).toContain('Following');
    expect(await say('/watch astana')).toBe('A chat can have 2 watchlists; remove one with /unwatch first.');
    expect(await say(`/watch ${'a'.repeat(41)}`)).toBe('A query can be 40 characters at most.');
    expect(await say('/list')).toBe('Your watchlists:\n1. <code>almaty</code>\n2. preset <b>kazakhstan-unrest</b>');
    expect(await say('/unwatch 1')).toBe('Removed 1. <code>almaty</code>');
    expect(await say('/unwatch 7')).toBe('Give the number of a watchlist from /list (1–1).');
    expect(await say('/unsubscribe kazakhstan-unrest')).toContain('Stopped following');
  });

  it('answers unknown commands, unknown presets and broken queries clearly, and escapes what it echoes', async () => {
    expect(await say('/frobnicate')).toBe('Unknown command /frobnicate. /help lists them.');
    expect(await say('/subscribe <b>x')).toMatch(/^No preset named “&lt;b&gt;x”\./u);
    expect(await say('/watch almaty AND')).toMatch(/^That query does not parse: .* at position \d+\.$/u);
    expect(await say('just chatting')).toBeNull();
  });

  it('lets only administrators change what a group receives', async () => {
    expect(await say('/subscribe kazakhstan-unrest', '-2001', false)).toBe('Only the administrators of this chat can change what it receives.');
    expect(await say('/list', '-2001', false)).toBe('No watchlists yet: /presets, /subscribe or /watch.');
  });

  it('answers the admin commands to administrators only', async () => {
    const admin = (text: string) => answerCommand({ chat: { id: '777', kind: 'private' }, userId: '777', text, isChatAdmin: () => Promise.resolve(true) }, store, config, limits, NOW);
    expect(await say('/stats')).toBe("This command is for the bot's administrators.");
    await say('/subscribe kazakhstan-unrest');
    await store.recordFeedFailure('https://f.test/rss', 'HTTP 503 <oops>', NOW - 600_000, NOW);
    expect(await admin('/stats')).toBe('<b>Feeds</b>: 1 configured, 1 failing\n<b>Chats</b>: 1 active, 0 gone\n<b>Outbox</b>: 0 pending, 0 sent, 0 failed');
    expect(await admin('/failing')).toBe('• https://f.test/rss — failing for 10 min: HTTP 503 &lt;oops&gt;');
    expect(await admin('/feeds')).toBe('• https://f.test/rss — failing for 10 min: HTTP 503 &lt;oops&gt;');
  });

  it('collects alerts for a digest chat and sends them as one message a period later', async () => {
    await say('/subscribe kazakhstan-unrest');
    expect(await say('/digest hourly')).toBe('Alerts now come as one hourly digest.');
    expect(await say('/digest weekly')).toBe('Say /digest off, /digest hourly or /digest daily.');
    const routing = await buildRouting(config, store, NOW);
    const item = (n: number, title: string) => ({ id: `i${n}`, feedUrl: 'https://f.test/rss', guid: `g${n}`, link: `https://f.test/${n}`, title, text: '', published: new Date(NOW - 60_000), author: null, language: 'en' });
    const { batch } = await processFeed({
      feed: { url: 'https://f.test/rss', name: 'Wire' },
      parsed: { format: 'rss', title: null, link: null, language: 'en', items: [item(1, 'Protesters storm Almaty city hall'), item(2, 'Explosions heard in Shymkent ammunition depot')] },
      poll: { firstPoll: false, etag: null, lastModified: null },
      config,
      store,
      stories: new StoryIndex(store, { windowMs: config.dedup.windowMs }),
      now: NOW,
      routing,
    });
    expect(batch.outbox).toEqual([]);
    expect(batch.digestItems.map((d) => d.chat)).toEqual(['1001', '1001']);
    await store.commitFeedBatch(batch);
    expect(await queueDueDigests(store, NOW + 30 * 60_000)).toBe(0); // not an hour yet
    expect(await queueDueDigests(store, NOW + 61 * 60_000)).toBe(1);
    const [digest] = await store.dueOutbox(NOW + 61 * 60_000, 10);
    expect(digest?.kind).toBe('digest');
    expect(digest?.html).toMatch(/^<b>Digest · 2 stories<\/b>\n\n<b>Protesters storm Almaty city hall<\/b>\n<a href="https:\/\/f.test\/1">Wire<\/a>\n\n<b>Explosions/u);
    expect(await queueDueDigests(store, NOW + 200 * 60_000)).toBe(0); // nothing new
  });

  it('splits a long digest between items, each message within the limit', () => {
    const items = Array.from({ length: 60 }, (_, i) => ({ id: i, storyId: i, html: `<b>${'Story '.repeat(20)}${i}</b>`, text: '' }));
    const messages = digestMessages(items);
    expect(messages.length).toBeGreaterThan(1);
    expect(messages.every((m) => visibleLength(m.html) <= MESSAGE_LIMIT)).toBe(true);
    expect(messages.flatMap((m) => m.html.split('\n\n').slice(1))).toEqual(items.map((i) => i.html));
  });

  it('mutes a chat out of routing until /unmute or the time runs out', async () => {
    await say('/subscribe kazakhstan-unrest');
    expect((await buildRouting(config, store, NOW)).channels.map((c) => c.chat)).toEqual(['1001']);
    expect(await say('/mute 2h')).toBe('Muted for 2h.');
    expect((await buildRouting(config, store, NOW)).channels).toEqual([]);
    expect((await buildRouting(config, store, NOW + 3 * 3600_000)).channels.map((c) => c.chat)).toEqual(['1001']);
    expect(await say('/mute soon')).toBe('Give a duration such as 30m, 2h or 1d (at most a year).');
    await say('/mute');
    await say('/unmute');
    expect((await buildRouting(config, store, NOW)).channels.map((c) => c.chat)).toEqual(['1001']);
  });
});

describe('Bot', () => {
  let telegram: FakeTelegram;
  beforeEach(async () => {
    telegram = await new FakeTelegram().start();
  });
  afterEach(async () => {
    await telegram.stop();
  });
  const quiet = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
  const bot = () => new Bot({ token: FAKE_TOKEN, apiRoot: telegram.apiRoot, store, config: () => ({ ...config, bot: { ...config.bot, commandsPerMinute: 3 } }), log: quiet });

  it('webhook mode: registers the secret with Telegram and refuses updates without it', async () => {
    const stop = new AbortController();
    const secret = 'a-secret-of-sixteen-plus';
    const { port, closed } = await bot().serveWebhook({ url: 'https://bot.example.test/hook', port: 0, secret }, stop.signal);
    expect(telegram.webhook).toEqual({ url: 'https://bot.example.test/hook', secret });
    const update = { update_id: 1, message: { message_id: 1, date: 0, chat: { id: 1001, type: 'private', first_name: 'u' }, from: { id: 1001, is_bot: false, first_name: 'u' }, text: '/help' } };
    const post = (headers: Record<string, string>) =>
      fetch(`http://127.0.0.1:${port}/`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(update) });
    expect((await post({})).status).toBe(401);
    expect((await post({ 'x-telegram-bot-api-secret-token': 'wrong-secret-of-sixteen' })).status).toBe(401);
    const answered = new Promise<void>((resolve) => (telegram.onDelivered = () => resolve()));
    expect((await post({ 'x-telegram-bot-api-secret-token': secret })).status).toBe(200);
    await answered;
    expect(telegram.sentTo(1001)[0]).toContain('/subscribe');
    stop.abort();
    await closed;
  });

  it('long polling answers a command as it comes, and stops at once when asked', async () => {
    const stop = new AbortController();
    const polling = bot().poll(stop.signal);
    const answered = new Promise<void>((resolve) => (telegram.onDelivered = () => resolve()));
    telegram.userSays({ id: 1001, type: 'private' }, 1001, '/help');
    await answered;
    expect(telegram.sentTo(1001)[0]).toContain('/subscribe');
    const stoppedAt = Date.now();
    stop.abort(); // a getUpdates is waiting out its 25 s: stopping must not wait for it
    await polling;
    expect(Date.now() - stoppedAt).toBeLessThan(5000);
  });

  it('announces its commands', async () => {
    await bot().announceCommands();
    expect(telegram.commands).toEqual(['presets', 'subscribe', 'unsubscribe', 'watch', 'unwatch', 'list', 'mute', 'unmute', 'digest', 'quiet', 'languages', 'lang', 'why', 'settings', 'help']);
  });

  it('/settings shows buttons that change the template and update mode, for admins only in groups', async () => {
    telegram.userSays({ id: 1001, type: 'private' }, 1001, '/settings');
    await bot().processPending();
    const [menu] = telegram.messages;
    expect(menu?.buttons).toEqual([['✓ template: full', 'template: compact'], ['✓ updates: edit', 'updates: reply', 'updates: silent']]);
    telegram.userPresses({ id: 1001, type: 'private' }, 1001, menu?.message_id ?? 0, 'set:template:compact');
    telegram.userPresses({ id: 1001, type: 'private' }, 1001, menu?.message_id ?? 0, 'set:updates:silent');
    await bot().processPending();
    expect(telegram.callbackAnswers).toEqual(['Saved', 'Saved']);
    expect(menu?.buttons).toEqual([['template: full', '✓ template: compact'], ['updates: edit', 'updates: reply', '✓ updates: silent']]);
    expect(await store.getChat('1001')).toMatchObject({ template: 'compact', updates: 'silent' });

    // In a group, a member who is not an administrator cannot press them.
    telegram.userSays({ id: -3001, type: 'supergroup' }, 1007, '/settings');
    await bot().processPending();
    const groupMenu = telegram.messages.at(-1);
    telegram.userPresses({ id: -3001, type: 'supergroup' }, 1007, groupMenu?.message_id ?? 0, 'set:template:compact');
    await bot().processPending();
    expect(telegram.callbackAnswers.at(-1)).toBe('Only administrators change these settings.');
    expect(await store.getChat('-3001')).toMatchObject({ template: 'full' });
  });

  it('waits out a flood wait on a reply instead of losing the answer', async () => {
    telegram.failNext(FakeTelegram.tooManyRequests(1));
    telegram.userSays({ id: 1001, type: 'private' }, 1001, '/help');
    await bot().processPending();
    expect(telegram.sentTo(1001)).toHaveLength(1);
    expect(telegram.calls.filter((c) => c.method === 'sendMessage').map((c) => c.status)).toEqual([429, 200]);
  });

  it('asks Telegram once a minute who administers a chat, however often buttons are pressed, and trusts no claimed chat type', async () => {
    telegram.userSays({ id: -3002, type: 'supergroup' }, 1008, '/settings');
    const once = bot();
    await once.processPending();
    const menu = telegram.messages.at(-1);
    for (let i = 0; i < 30; i++) telegram.userPresses({ id: -3002, type: 'supergroup' }, 1008, menu?.message_id ?? 0, 'set:template:compact');
    await once.processPending();
    expect(telegram.calls.filter((c) => c.method === 'getChatMember')).toHaveLength(1);
    // A press that claims a private chat in a group's id is not the presser's own chat.
    telegram.userPresses({ id: -3003, type: 'private' }, 1009, menu?.message_id ?? 0, 'set:updates:silent');
    await once.processPending();
    expect(telegram.callbackAnswers.at(-1)).toBe('Only administrators change these settings.');
  });

  it('takes each command once, across restarts, and stops listening to a user who floods it', async () => {
    for (let i = 0; i < 5; i++) telegram.userSays({ id: 1001, type: 'private' }, 1001, '/help');
    expect(await bot().processPending()).toBe(5);
    expect(telegram.sentTo(1001)).toHaveLength(3);
    telegram.userSays({ id: 1002, type: 'private' }, 1002, '/presets');
    // A new process reads where the last one stopped.
    expect(await bot().processPending()).toBe(1);
    expect(telegram.sentTo(1002)[0]).toContain('<b>kazakhstan-unrest</b>');
  });
});
