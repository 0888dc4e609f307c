// Chats end to end: what a chat asks for through the bot (fake Bot API getUpdates) shapes where
// and when its alerts arrive. A subscription made in a forum topic sends alerts into that topic; a
// group Telegram upgrades to a supergroup keeps every alert under its new id; a chat (or a config
// channel) limited to some languages gets only items in them; quiet hours hold alerts and give
// them as one digest when they end; /why and `steppewatch why` tell what became of a link; and
// the bot answers in English, Russian, Kazakh and Arabic, word for word from its catalogs.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { Bot } from '../../src/bot/bot.js';
import { parseConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/log.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { ROOT, runCli } from '../support/cli.js';
import { FakeTelegram, FAKE_TOKEN, type DeliveredMessage } from '../support/fake-telegram.js';
import { FeedServer, rss, type TestItem } from '../support/feed-server.js';

let feeds: FeedServer;
let telegram: FakeTelegram;
let dir: string;

beforeEach(async () => {
  feeds = await new FeedServer().start();
  telegram = await new FakeTelegram().start();
  dir = mkdtempSync(join(tmpdir(), 'steppewatch-chats-'));
});
afterEach(async () => {
  await feeds.stop();
  await telegram.stop();
  rmSync(dir, { recursive: true, force: true });
});

const env = () => ({ DATABASE_URL: `sqlite:${join(dir, 'state.db')}`, TELEGRAM_BOT_TOKEN: FAKE_TOKEN, TELEGRAM_API_ROOT: telegram.apiRoot });

const PROTEST = { title: 'Protesters rally in Almaty over fuel prices', link: 'https://news.example.test/almaty-rally', guid: 'n1', minutesAgo: 30, description: 'Thousands of protesters gathered in Almaty on Sunday.' };
const CSTO = { title: 'CSTO troops take control of Almaty airport', link: 'https://news.example.test/csto-airport', guid: 'n2', minutesAgo: 20, description: 'Russian-led peacekeeping troops secured the airport in Almaty.' };
const OTHER = { title: 'Tenge steady as markets reopen', link: 'https://news.example.test/tenge', guid: 'n3', minutesAgo: 10, description: 'The currency traded flat.' };
const CURFEW = { title: 'Curfew declared in Almaty after riots', link: 'https://news.example.test/curfew', guid: 'n4', minutesAgo: 1, description: 'A curfew was declared in Almaty after a night of riots.' };
// Two different events in two languages, both matching kazakhstan-unrest (checked with `explain`).
const ARABIC = { title: 'احتجاجات في ألماتي بعد ارتفاع أسعار الوقود', link: 'https://ar.example.test/almaty-protests', guid: 'ar1', minutesAgo: 25, description: 'تظاهر آلاف المحتجين في مدينة ألماتي يوم الأحد احتجاجا على ارتفاع أسعار الوقود.' };
const RUSSIAN = { title: 'В Астане задержаны участники митинга', link: 'https://ru.example.test/astana-arrests', guid: 'ru1', minutesAgo: 15, description: 'Полиция задержала десятки участников несанкционированного митинга в Астане.' };

/** Writes the config: the given feeds (path → name) and, optionally, more YAML after them. */
function writeConfig(feedList: Record<string, string>, more = ''): string {
  const file = join(dir, 'steppewatch.yaml');
  const lines = Object.entries(feedList).map(([path, name]) => `  - { url: "${feeds.url}${path}", name: ${name} }`);
  writeFileSync(file, `feeds:\n${lines.join('\n')}\n${more}`);
  return file;
}

async function once(file: string): Promise<void> {
  const run = await runCli(['once', '--config', file], env());
  expect(run.code, run.stderr).toBe(0);
}

// An alert ends with its watchlist's hashtag; the bot's answers and digests (compact lines) do not.
const isAlert = (m: DeliveredMessage) => m.text.includes('\n#kazakhstan_unrest');
const alertsTo = (chat: number | string) => telegram.messages.filter((m) => m.chat_id === String(chat) && isAlert(m));
const titleOf = (m: DeliveredMessage) => m.text.split('\n')[0];
const sendsTo = (chat: number | string) => telegram.calls.filter((c) => c.method === 'sendMessage' && String(c.body.chat_id) === String(chat));

// The catalogs, read as files: the expected texts are built here, not by src/i18n.
type Catalog = Record<string, string>;
const LANGS = ['en', 'ru', 'kk', 'ar'] as const;
const CATALOG = Object.fromEntries(LANGS.map((l) => [l, JSON.parse(readFileSync(join(ROOT, 'src/i18n/locales', `${l}.json`), 'utf8')) as Catalog])) as Record<(typeof LANGS)[number], Catalog>;
/** A catalog message with its placeholders filled (values given as the HTML they become). */
function msg(lang: (typeof LANGS)[number], key: string, params: Record<string, string | number> = {}): string {
  const template = CATALOG[lang][key];
  if (template === undefined) throw new Error(`${lang} has no message ${key}`);
  return template.replace(/\{(\w+)\}/gu, (whole, name: string) => (params[name] === undefined ? whole : String(params[name])));
}
/** Arabic answers isolate their Latin runs (U+2068 … U+2069): compared without them. */
const withoutIsolates = (text: string) => text.replace(/[\u2068\u2069]/gu, '');
const unescapeHtml = (text: string) => text.replace(/&lt;/gu, '<').replace(/&gt;/gu, '>').replace(/&quot;/gu, '"').replace(/&amp;/gu, '&');

const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16);

it('a subscription made in a forum topic is answered there, and its alerts arrive in that topic', async () => {
  const file = writeConfig({ '/news.xml': 'News' });
  feeds.set('/news.xml', rss('News', [PROTEST, OTHER]));
  telegram.admins.set('-1004001', new Set([4001]));
  telegram.userSays({ id: -1004001, type: 'supergroup' }, 4001, '/subscribe kazakhstan-unrest', { topic: 77 });
  telegram.userSays({ id: -1004001, type: 'supergroup' }, 4001, '/list', { topic: 77 });
  await once(file);

  const [answer, list, ...rest] = telegram.messages.filter((m) => m.chat_id === '-1004001');
  expect(answer).toMatchObject({ text: 'Following <b>kazakhstan-unrest</b>. Alerts will arrive in this topic.', message_thread_id: 77 });
  expect(list).toMatchObject({ text: 'Your watchlists:\n1. preset <b>kazakhstan-unrest</b>\n\nAlerts go to the topic they were asked for in.', message_thread_id: 77 });
  expect(rest).toHaveLength(1);
  expect(rest[0]).toMatchObject({ message_thread_id: 77 });
  expect(rest[0] && titleOf(rest[0])).toBe('<b>Protesters rally in Almaty over fuel prices</b>');
  // Nothing went to the chat outside the topic.
  expect(telegram.messages.filter((m) => m.chat_id === '-1004001' && m.message_thread_id !== 77)).toEqual([]);
});

it('a group upgraded to a supergroup gets every alert under its new id, none lost or twice, and keeps getting them there', async () => {
  const file = writeConfig({ '/news.xml': 'News' });
  feeds.set('/news.xml', rss('News', [PROTEST, CSTO, OTHER]));
  telegram.admins.set('-3001', new Set([3001]));
  telegram.userSays({ id: -3001, type: 'group' }, 3001, '/subscribe kazakhstan-unrest');
  // Telegram upgrades the group once the bot has answered, before any alert goes out.
  telegram.onDelivered = (m) => {
    if (m.chat_id === '-3001') telegram.migrate(-3001, -1003001);
  };
  await once(file);
  telegram.onDelivered = null;

  expect(telegram.sentTo(-3001)).toEqual(['Following <b>kazakhstan-unrest</b>. Alerts will arrive here.']);
  expect(alertsTo(-1003001).map(titleOf)).toEqual(['<b>Protesters rally in Almaty over fuel prices</b>', '<b>CSTO troops take control of Almaty airport</b>']);
  // The old id was tried once (that is how the move is learnt), and refused.
  const refused = sendsTo(-3001).filter((c) => c.status !== 200);
  expect(refused).toHaveLength(1);
  expect(refused[0]?.status).toBe(400);

  // The next story goes to the new id at once: routing followed the move. The supergroup has the
  // group's subscription, and its record of what was delivered.
  feeds.set('/news.xml', rss('News', [PROTEST, CSTO, OTHER, CURFEW]));
  telegram.userSays({ id: -1003001, type: 'supergroup' }, 3001, '/list');
  telegram.userSays({ id: -1003001, type: 'supergroup' }, 3001, `/why ${PROTEST.link}`);
  const triedBefore = sendsTo(-3001).length;
  await once(file);
  const [list, why] = telegram.messages.filter((m) => m.chat_id === '-1003001' && !isAlert(m)).map((m) => m.text);
  expect(list).toBe('Your watchlists:\n1. preset <b>kazakhstan-unrest</b>');
  expect(why).toMatch(/\nDelivered here at \d{4}-\d{2}-\d{2} \d{2}:\d{2} \(UTC\)\.$/u);
  expect(alertsTo(-1003001).map(titleOf)).toEqual([
    '<b>Protesters rally in Almaty over fuel prices</b>',
    '<b>CSTO troops take control of Almaty airport</b>',
    '<b>Curfew declared in Almaty after riots</b>',
  ]);
  expect(sendsTo(-3001)).toHaveLength(triedBefore);
});

it('a group whose upgrade the bot is told of (the service message) gets its first alert straight at the new id', async () => {
  const file = writeConfig({ '/news.xml': 'News' });
  feeds.set('/news.xml', rss('News', [PROTEST, OTHER]));
  telegram.admins.set('-3002', new Set([3002]));
  telegram.userSays({ id: -3002, type: 'group' }, 3002, '/subscribe kazakhstan-unrest');
  telegram.onDelivered = (m) => {
    if (m.chat_id === '-3002') telegram.migrate(-3002, -1003002, true);
  };
  await once(file);
  telegram.onDelivered = null;

  expect(alertsTo(-1003002).map(titleOf)).toEqual(['<b>Protesters rally in Almaty over fuel prices</b>']);
  // The only message ever sent to the old id is the answer to /subscribe.
  expect(sendsTo(-3002).map((c) => c.status)).toEqual([200]);
});

it('a chat limited by /languages gets only items in those languages, and so does a config channel with languages', async () => {
  const file = writeConfig({ '/news.xml': 'News' }, 'channels:\n  - { chat: "@desk", watchlists: [kazakhstan-unrest], languages: [ar] }\n');
  feeds.set('/news.xml', rss('News', [ARABIC, RUSSIAN]));
  telegram.userSays({ id: 5001, type: 'private' }, 5001, '/subscribe kazakhstan-unrest');
  telegram.userSays({ id: 5001, type: 'private' }, 5001, '/languages ru');
  telegram.userSays({ id: 5001, type: 'private' }, 5001, '/languages ru xx');
  telegram.userSays({ id: 5001, type: 'private' }, 5001, '/list');
  // A chat that takes every language: both items alert (two stories, not one folded).
  telegram.userSays({ id: 5002, type: 'private' }, 5002, '/subscribe kazakhstan-unrest');
  await once(file);

  expect(telegram.sentTo(5001).slice(0, 4)).toEqual([
    'Following <b>kazakhstan-unrest</b>. Alerts will arrive here.',
    'Alerts here: only items in ru.',
    'Unknown language “xx”. Known: ar en kk ru.',
    'Your watchlists:\n1. preset <b>kazakhstan-unrest</b>\n\nOnly items in: ru.',
  ]);
  expect(alertsTo(5002).map(titleOf).sort()).toEqual([`<b>${ARABIC.title}</b>`, `<b>${RUSSIAN.title}</b>`].sort());
  expect(alertsTo(5001).map(titleOf)).toEqual([`<b>${RUSSIAN.title}</b>`]);
  expect(alertsTo('@desk').map(titleOf)).toEqual([`<b>${ARABIC.title}</b>`]);

  // Asked why the Arabic item did not come, the chat is told of its language limit.
  telegram.userSays({ id: 5001, type: 'private' }, 5001, `/why ${ARABIC.link}`);
  await once(file);
  expect(telegram.sentTo(5001).at(-1)).toMatch(/\nNot sent here: it is in ar, and this chat takes only ru\.$/u);
  expect(alertsTo(5001)).toHaveLength(1);
});

it('a chat that takes two languages gets a story told in both as one alert, from the report in the language it put first', async () => {
  const file = writeConfig({ '/ar.xml': 'Jazeera', '/ru.xml': 'TASS' });
  // One story, in Arabic and in Russian (they fold across languages: see cross-language.test.ts).
  const ar = { title: 'استقالة الحكومة الكازاخستانية بعد احتجاجات على أسعار الوقود', link: 'https://aljazeera.example.test/news/kazakh-government', guid: 'j1', minutesAgo: 20, description: 'قبل الرئيس الكازاخستاني توكاييف استقالة الحكومة بعد احتجاجات على ارتفاع أسعار الوقود.' };
  const ru = { title: 'Токаев принял отставку правительства Казахстана', link: 'https://tass.example.test/13360001', guid: 't1', minutesAgo: 30, description: 'Президент Казахстана Касым-Жомарт Токаев принял отставку правительства на фоне протестов из-за цен на топливо.' };
  feeds.set('/ar.xml', rss('Jazeera', [ar]));
  feeds.set('/ru.xml', rss('TASS', [ru]));
  for (const [id, languages] of [[9101, 'ru ar'], [9102, 'ar ru']] as const) {
    telegram.userSays({ id, type: 'private' }, id, '/subscribe kazakhstan-unrest');
    telegram.userSays({ id, type: 'private' }, id, `/languages ${languages}`);
  }
  // Without /languages, the language of the chat's Telegram app is the one preferred.
  telegram.userSays({ id: 9103, type: 'private' }, 9103, '/subscribe kazakhstan-unrest', { languageCode: 'ru' });
  telegram.userSays({ id: 9104, type: 'private' }, 9104, '/subscribe kazakhstan-unrest', { languageCode: 'ar' });
  await once(file);
  for (const [id, title] of [[9101, ru.title], [9102, ar.title], [9103, ru.title], [9104, ar.title]] as const) {
    expect(alertsTo(id).map(titleOf), String(id)).toEqual([`<b>${title}</b>`]);
  }
});

it('quiet hours hold a chat’s alerts; /quiet off gives them as one digest on the next cycle', async () => {
  const file = writeConfig({ '/news.xml': 'News' });
  feeds.set('/news.xml', rss('News', [PROTEST, CSTO, OTHER]));
  // A window around now (UTC), whatever the time of day.
  const now = Date.now();
  const from = hhmm(now - 3600_000);
  const to = hhmm(now + 3600_000);
  const chat = { id: 6001, type: 'private' } as const;
  const commands = ['/subscribe kazakhstan-unrest', '/quiet breaking', `/quiet ${from}-${to} UTC`, '/quiet breaking', '/quiet all', '/quiet 25:00-07:00', '/quiet 23:00-07:00 Mars/Olympus'];
  for (const text of commands) telegram.userSays(chat, 6001, text);
  // A chat without quiet hours gets the alerts at once, the same cycle.
  telegram.userSays({ id: 6002, type: 'private' }, 6002, '/subscribe kazakhstan-unrest');
  // A chat whose app is in Russian: its digest is headed in Russian.
  const russian = { id: 6003, type: 'private' } as const;
  telegram.userSays(russian, 6003, '/subscribe kazakhstan-unrest', { languageCode: 'ru' });
  telegram.userSays(russian, 6003, `/quiet ${from}-${to} UTC`, { languageCode: 'ru' });
  await once(file);
  expect(telegram.sentTo(6003)).toEqual([msg('ru', 'subscribe.done', { name: 'kazakhstan-unrest' }), msg('ru', 'quiet.done', { from, to, zone: 'UTC' })]);

  expect(telegram.sentTo(6001)).toEqual([
    'Following <b>kazakhstan-unrest</b>. Alerts will arrive here.',
    'Set quiet hours first, e.g. /quiet 23:00-07:00.',
    `Quiet from ${from} to ${to} (UTC): alerts wait and come as one digest when it ends.`,
    'Breaking stories now come through during quiet hours.',
    'Nothing comes through during quiet hours now.',
    msg('en', 'quiet.usage'),
    'Unknown time zone “Mars/Olympus”; give one such as Asia/Almaty or Europe/Moscow.',
  ]);
  expect(alertsTo(6002)).toHaveLength(2);

  telegram.userSays(chat, 6001, `/why ${PROTEST.link}`);
  telegram.userSays(chat, 6001, '/quiet off');
  telegram.userSays(russian, 6003, '/quiet off', { languageCode: 'ru' });
  const before = telegram.sentTo(6001).length;
  await once(file);
  const [held, off, digest, ...more] = telegram.sentTo(6001).slice(before);
  expect(held).toMatch(/\nHeld for this chat's quiet hours; it comes in one digest when they end\.$/u);
  expect(off).toBe('No quiet hours any more.');
  expect(more).toEqual([]);
  expect(digest).toMatch(/^<b>Digest · 2 stories<\/b>\n\n/u);
  expect(digest).toContain('Protesters rally in Almaty over fuel prices');
  expect(digest).toContain('CSTO troops take control of Almaty airport');
  expect(digest).not.toContain('Tenge');
  expect(telegram.sentTo(6003).slice(2).map((text) => text.split('\n')[0])).toEqual([msg('ru', 'quiet.off'), `<b>${msg('ru', 'digest.header.few', { count: 2 })}</b>`]);
  // Nothing more for the other chat: it had them already.
  expect(alertsTo(6002)).toHaveLength(2);

  // Asked again, the story was in the digest.
  telegram.userSays(chat, 6001, `/why ${CSTO.link}`);
  await once(file);
  expect(telegram.sentTo(6001).at(-1)).toMatch(/\nSent here in a digest at \d{4}-\d{2}-\d{2} \d{2}:\d{2} \(UTC\)\.$/u);
  expect(telegram.sentTo(6001).filter((text) => text.startsWith('<b>Digest'))).toHaveLength(1);
});

const TITLE = 'Protesters storm Almaty city hall as Kazakh unrest spreads';
const LEAD = 'Protesters stormed the city hall in Almaty on Wednesday and set it on fire, witnesses said.';
const X: TestItem = { title: TITLE, link: 'https://wire.example.test/almaty-hall', guid: 'w1', minutesAgo: 20, description: LEAD };
const Y: TestItem = { title: 'Tenge steady as markets reopen', link: 'https://wire.example.test/tenge', guid: 'w2', minutesAgo: 18, description: 'The currency traded flat.' };
const Z: TestItem = { title: TITLE, link: 'https://daily.example.test/world/almaty', guid: 'd1', minutesAgo: 10, description: `${LEAD} (AP)` };
const TIME = String.raw`\d{4}-\d{2}-\d{2} \d{2}:\d{2} \(UTC\)`;

it('/why tells a chat what became of a link: delivered, matched nothing, folded, muted, unknown; in the asker’s language', async () => {
  const file = writeConfig({ '/wire.xml': 'Wire', '/daily.xml': 'Daily' });
  feeds.set('/wire.xml', rss('Wire', [X, Y]));
  feeds.set('/daily.xml', rss('Daily', []));
  const a = { id: 7001, type: 'private' } as const;
  const b = { id: 7002, type: 'private' } as const;
  telegram.userSays(a, 7001, '/subscribe kazakhstan-unrest');
  telegram.userSays(b, 7002, '/subscribe kazakhstan-unrest');
  telegram.userSays(b, 7002, '/mute');
  await once(file);
  expect(alertsTo(7001).map(titleOf)).toEqual([`<b>${TITLE}</b>`]);
  expect(alertsTo(7002)).toEqual([]);

  // Another outlet reports the story: folded into it (the alert is edited, not sent again).
  feeds.set('/daily.xml', rss('Daily', [Z]));
  await once(file);
  expect(alertsTo(7001)).toHaveLength(1);
  expect(alertsTo(7001)[0]?.text).toContain('Also reported by: <a href="https://daily.example.test/world/almaty">Daily</a>');

  const asked = telegram.messages.length;
  telegram.userSays(a, 7001, `/why ${X.link ?? ''}`);
  telegram.userSays(a, 7001, `/why ${Y.link ?? ''}`);
  telegram.userSays(a, 7001, `/why ${Z.link ?? ''}`);
  telegram.userSays(a, 7001, '/why https://nowhere.example.test/never-seen');
  telegram.userSays(b, 7002, `/why ${X.link ?? ''}`);
  telegram.userSays(a, 7001, `/why ${X.link ?? ''}`, { languageCode: 'ru' });
  await once(file);
  const answers = telegram.messages.slice(asked);
  const [delivered, noMatch, folded, unknown, ru] = answers.filter((m) => m.chat_id === '7001').map((m) => m.text);
  const [muted] = answers.filter((m) => m.chat_id === '7002').map((m) => m.text);

  const story = /started story #(\d+)\./u.exec(delivered ?? '')?.[1] ?? 'none';
  expect(delivered).toMatch(new RegExp(String.raw`^Seen in <b>Wire</b> at ${TIME}\.\nIt matched kazakhstan-unrest and started story #${story}\.\nDelivered here at ${TIME}\.$`, 'u'));
  const [seenY = '', noMatchLine, ...missing] = (noMatch ?? '').split('\n');
  expect(seenY).toMatch(new RegExp(`^Seen in <b>Wire</b> at ${TIME}\\.$`, 'u'));
  expect(noMatchLine).toBe('It matched no watchlist.');
  expect(missing).toHaveLength(1);
  // Neither a place of Kazakhstan nor an unrest term: both parts are named.
  expect(missing[0]).toMatch(/^• kazakhstan-unrest: missing .*kazakhstan.*; .*protest\*/u);
  expect(folded).toMatch(
    new RegExp(
      String.raw`^Seen in <b>Daily</b> at ${TIME}\.\nIt matched kazakhstan-unrest and was folded into story #${story}, first reported as “${TITLE}”\.\nThis chat got story #${story} at ${TIME} from another report: https://wire\.example\.test/almaty-hall$`,
      'u',
    ),
  );
  expect(unknown).toBe('I have not seen that link in any feed (or it was forgotten after the retention period).');
  // The other chat's copy of the preset is counted, not named: what the asker may not see.
  expect(muted).toMatch(new RegExp(String.raw`^Seen in <b>Wire</b> at ${TIME}\.\nIt matched kazakhstan-unrest, other chats' watchlists: 1 and started story #${story}\.\nThis chat is muted, so it was not sent here\.$`, 'u'));
  expect(ru).toMatch(new RegExp(String.raw`^Замечено в ленте <b>Wire</b>: ${TIME}\.\nМатериал подошёл под kazakhstan-unrest и начал сюжет #${story}\.\nДоставлено в этот чат: ${TIME}\.$`, 'u'));
});

it('steppewatch why URL prints the feed and the decision (exit 0), says so for an unknown link (exit 1), refuses a non-URL (exit 2)', async () => {
  const file = writeConfig({ '/wire.xml': 'Wire' }, 'channels:\n  - { chat: "@desk", watchlists: [kazakhstan-unrest] }\n');
  feeds.set('/wire.xml', rss('Wire', [X, Y]));
  await once(file);
  expect(alertsTo('@desk')).toHaveLength(1);

  const why = (...args: string[]) => runCli(['why', ...args, '--config', file], env());
  const [known, noMatch, unknown, json, notALink, none] = await Promise.all([
    why(X.link ?? ''),
    why(Y.link ?? ''),
    why('https://nowhere.example.test/never-seen'),
    why(X.link ?? '', '--json'),
    why('not-a-url'),
    why(),
  ]);
  expect(known.code, known.stderr).toBe(0);
  expect(known.stdout).toMatch(new RegExp(String.raw`^Seen in Wire at ${TIME}\.\nIt matched kazakhstan-unrest and started story #\d+\.\n@desk: Delivered here at ${TIME}\.\n$`, 'u'));

  expect(noMatch.code, noMatch.stderr).toBe(0);
  expect(noMatch.stdout).toMatch(new RegExp(String.raw`^Seen in Wire at ${TIME}\.\nIt matched no watchlist\.\n• kazakhstan-unrest: missing .+\n$`, 'u'));

  expect(unknown.code).toBe(1);
  expect(unknown.stdout).toBe('I have not seen that link in any feed (or it was forgotten after the retention period).\n');

  expect(json.code, json.stderr).toBe(0);
  const traces = json.stdout.trim().split('\n').map((line) => JSON.parse(line) as { feedUrl: string; decision: string; deliveries: Array<{ chat: string; status: string }> });
  expect(traces).toHaveLength(1);
  expect(traces[0]).toMatchObject({ feedUrl: `${feeds.url}/wire.xml`, decision: 'alerted', deliveries: [{ chat: '@desk', status: 'sent' }] });

  for (const refused of [notALink, none]) {
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('why needs one http(s) URL');
  }
});

it('answers every command word for word from its catalog in English, Russian, Kazakh and Arabic; /lang overrides the app', async () => {
  const file = writeConfig({ '/news.xml': 'News' });
  feeds.set('/news.xml', rss('News', []));
  const commands = ['/help', '/presets', '/list', '/subscribe nosuchpreset', '/quiet', '/languages', '/lang', '/why', '/frobnicate'];
  LANGS.forEach((lang, i) => {
    for (const text of commands) telegram.userSays({ id: 8001 + i, type: 'private' }, 8001 + i, text, { languageCode: lang });
  });
  // An English app, a Kazakh chat.
  telegram.userSays({ id: 8100, type: 'private' }, 8100, '/lang kk', { languageCode: 'en' });
  telegram.userSays({ id: 8100, type: 'private' }, 8100, '/help', { languageCode: 'en' });
  await once(file);

  LANGS.forEach((lang, i) => {
    const expected = [
      msg(lang, 'help'),
      msg(lang, 'presets.list', { list: '• <b>kazakhstan-unrest</b>' }),
      msg(lang, 'list.empty'),
      msg(lang, 'subscribe.unknown', { name: 'nosuchpreset', list: '<b>kazakhstan-unrest</b>' }),
      msg(lang, 'quiet.usage'),
      msg(lang, 'languages.usage', { known: 'ar en kk ru' }),
      msg(lang, 'lang.usage'),
      msg(lang, 'why.usage'),
      msg(lang, 'unknown', { name: 'frobnicate' }),
    ];
    expect(telegram.sentTo(8001 + i).map(withoutIsolates), lang).toEqual(expected);
  });
  // Arabic isolates its Latin runs (commands, names) so they read right; the others do not.
  const arabic = telegram.sentTo(8004);
  expect(arabic[0]).toContain('\u2068/presets\u2069');
  expect(arabic.every((text) => text.includes('\u2068'))).toBe(true);
  expect(telegram.sentTo(8001).some((text) => /[\u2068\u2069]/u.test(text))).toBe(false);

  expect(telegram.sentTo(8100)).toEqual([msg('kk', 'lang.done'), msg('kk', 'help')]);
});

it('announces the command menu in every language it speaks, with the catalogs’ descriptions', async () => {
  const store = new SqliteStore(':memory:');
  try {
    const config = parseConfig('feeds:\n  - url: https://f.test/rss\n', 'test.yaml', {});
    const silent = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
    await new Bot({ token: FAKE_TOKEN, apiRoot: telegram.apiRoot, store, config: () => config, log: silent }).announceCommands();
  } finally {
    await store.close();
  }
  const names = ['presets', 'subscribe', 'unsubscribe', 'watch', 'unwatch', 'list', 'mute', 'unmute', 'digest', 'quiet', 'languages', 'lang', 'why', 'settings', 'help'];
  expect([...telegram.menus.keys()].sort()).toEqual(['', 'ar', 'en', 'kk', 'ru']);
  for (const [code, lang] of [['', 'en'], ['en', 'en'], ['ru', 'ru'], ['kk', 'kk'], ['ar', 'ar']] as const) {
    const menu = telegram.menus.get(code) ?? [];
    expect(menu.map((c) => c.command), code).toEqual(names);
    expect(
      menu.map((c) => withoutIsolates(c.description)),
      code,
    ).toEqual(names.map((name) => unescapeHtml(msg(lang, `command.${name}`))));
  }
  expect(telegram.commands).toEqual(names);
});
