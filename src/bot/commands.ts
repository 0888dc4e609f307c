// What the bot answers to each command. No Telegram wire here: a command comes in as the chat,
// the sender and the text; the answer goes out as Telegram HTML. Subscriptions live in the store.

import type { Config } from '../config/load.js';
import { parseDuration } from '../config/duration.js';
import { isTimeZone } from '../config/schema.js';
import { compileWatchlist, type Watchlist } from '../match/matcher.js';
import { QueryError } from '../match/query.js';
import { chatLocale, html, isLocale, localeOf, t, translator, type Translate } from '../i18n/i18n.js';
import type { ChatRecord, ChatSettings, ChatWatchlist, FeedState, Store, SubscriptionStore } from '../store/store.js';
import { escapeHtml, unescapeHtml } from '../summary/render.js';
import { isLink, linkVariants, whyAnswer } from './why.js';
import { decodeReason, formatRate, intervalParts, type PaceReason } from '../feeds/pace.js';
import { scheduleTickMs } from '../worker/tick.js';

export interface CommandInput {
  chat: { id: string; kind: ChatRecord['kind'] };
  /** the sender's user id (absent for posts in channels) */
  userId: string | null;
  text: string;
  /** whether the sender may change this chat's settings (always in private chats; admins in groups) */
  isChatAdmin: () => Promise<boolean>;
  /** the forum topic the command was sent in, if any: the chat's alerts go there */
  threadId?: number | null;
  /** the sender's app language (Telegram's `language_code`) */
  languageCode?: string | null;
}

export interface BotLimits {
  maxWatchlists: number;
  maxQueryLength: number;
}

// Commands that change what a group receives: only its administrators may use them.
const CHANGES = new Set(['subscribe', 'unsubscribe', 'watch', 'unwatch', 'mute', 'unmute', 'start', 'digest', 'quiet', 'languages', 'lang']);
/** The commands the menu lists, in its order (each described in the catalogs as `command.NAME`). */
export const MENU = ['presets', 'subscribe', 'unsubscribe', 'watch', 'unwatch', 'list', 'mute', 'unmute', 'digest', 'quiet', 'languages', 'lang', 'why', 'settings', 'help'] as const;
/** The languages alerts can be limited to: those the language guess tells apart. */
export const ALERT_LANGUAGES = ['ar', 'en', 'kk', 'ru'] as const;
/** The longest /mute: a year (longer reads as "until /unmute"). */
const MAX_MUTE_MS = 366 * 86_400_000;

/** "/watch@steppewatch_bot almaty" → ["watch", "almaty"]; null when the text is not a command. */
export function parseCommand(text: string): { name: string; argument: string } | null {
  const match = /^\/([a-z_]+)(?:@\w+)?(?:\s+([\s\S]*))?$/iu.exec(text.trim());
  return match ? { name: (match[1] ?? '').toLowerCase(), argument: (match[2] ?? '').trim() } : null;
}

function describe(tr: Translate, watchlist: ChatWatchlist, n: number): string {
  return watchlist.preset !== null ? tr('list.preset', { n, name: watchlist.preset }) : tr('list.query', { n, query: watchlist.query ?? '' });
}

/** The store as the bot sees it: subscriptions, and the feed and outbox figures admins ask for. */
export type BotStore = SubscriptionStore & Pick<Store, 'feedStates' | 'outboxCounts'>;

// For the bot's administrators (config `admins`) only.
const ADMIN_COMMANDS = new Set(['stats', 'feeds', 'failing']);

/** A duration in the chat's language. */
function intervalWords(tr: Translate, ms: number): string {
  const parts = intervalParts(ms);
  switch (parts.unit) {
    case 'hmin':
      return tr('feeds.interval.hmin', { h: parts.h, min: parts.min });
    case 's':
      return tr('feeds.interval.s', { n: parts.n });
    case 'min':
      return tr('feeds.interval.min', { n: parts.n });
    case 'h':
      return tr('feeds.interval.h', { n: parts.n });
    case 'd':
      return tr('feeds.interval.d', { n: parts.n });
  }
}

/** Why adaptive polling chose a feed's interval, in the chat's language. */
function reasonWords(tr: Translate, reason: PaceReason): string {
  switch (reason.code) {
    case 'rate': {
      const rate = formatRate(reason.perDay);
      return tr(reason.bound === 'min' ? 'feeds.why.rateMin' : reason.bound === 'max' ? 'feeds.why.rateMax' : 'feeds.why.rate', { rate });
    }
    case 'quiet':
      return tr('feeds.why.quiet');
    case 'breaking':
      return tr('feeds.why.breaking');
    case 'max-age':
      return tr('feeds.why.maxAge', { seconds: reason.seconds });
    case 'expires':
      return tr('feeds.why.expires', { interval: html(intervalWords(tr, reason.seconds * 1000)) });
    case 'ttl':
      return tr('feeds.why.ttl', { minutes: reason.minutes });
    case 'retry-after':
      return tr('feeds.why.retryAfter', { seconds: reason.seconds });
  }
}

/** "every 30 min: 12 entries/day" (and the schedule's tick when it polls less often than that); null before a pace was chosen. */
function paceWords(tr: Translate, feed: FeedState, tickMs: number | null): string | null {
  const reason = decodeReason(feed.pollReason);
  if (feed.pollIntervalMs === null || reason === null) return null;
  const interval = html(intervalWords(tr, feed.pollIntervalMs));
  const why = html(reasonWords(tr, reason));
  return tickMs !== null && tickMs > feed.pollIntervalMs ? tr('feeds.paceTick', { interval, why, tick: html(intervalWords(tr, tickMs)) }) : tr('feeds.pace', { interval, why });
}

function feedLine(tr: Translate, feed: FeedState, now: number, tickMs: number | null = null): string {
  const state =
    feed.failingSince !== null
      ? tr('feeds.failing', { minutes: Math.round((now - feed.failingSince) / 60_000), error: feed.lastError ?? '?' })
      : feed.lastSuccessAt !== null
        ? tr('feeds.ok')
        : tr('feeds.notYet');
  const pace = feed.failingSince === null ? paceWords(tr, feed, tickMs) : null;
  return `• ${escapeHtml(feed.url)} — ${state}${pace ? ` · ${pace}` : ''}`;
}

async function answerAdmin(tr: Translate, name: string, store: BotStore, config: Config, now: number): Promise<string> {
  const feeds = await store.feedStates();
  switch (name) {
    case 'stats': {
      const outbox = await store.outboxCounts();
      const chats = await store.chatCounts();
      const failing = feeds.filter((f) => f.failingSince !== null).length;
      return [tr('stats.feeds', { configured: config.feeds.length, failing }), tr('stats.chats', chats), tr('stats.outbox', outbox)].join('\n');
    }
    case 'feeds': {
      // Adaptive polling's intervals are looked for on the schedule's tick: say when it is the limit.
      const tickMs = config.polling.adaptive ? scheduleTickMs(config.schedule, config.timezone) : null;
      return feeds.length > 0 ? feeds.slice(0, 50).map((f) => feedLine(tr, f, now, tickMs)).join('\n') : tr('feeds.none');
    }
    default: {
      const failing = feeds.filter((f) => f.failingSince !== null);
      return failing.length > 0 ? failing.map((f) => feedLine(tr, f, now)).join('\n') : tr('failing.none');
    }
  }
}

/** "23:00" → minutes after midnight; null when it is not a time of day. */
function minutesOf(text: string): number | null {
  const match = /^([01]?\d|2[0-3])[:.]([0-5]\d)$/u.exec(text);
  return match ? Number(match[1]) * 60 + Number(match[2]) : null;
}

const clock = (minutes: number) => `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;

/** /quiet 23:00-07:00 [zone] | breaking | all | off */
async function answerQuiet(tr: Translate, argument: string, chat: string, record: ChatRecord, store: BotStore, config: Config): Promise<string> {
  const [span = '', zoneArg] = argument.split(/\s+/u);
  const word = span.toLowerCase();
  if (word === 'off') {
    await store.setChatSettings(chat, { quiet: null });
    return tr('quiet.off');
  }
  if (word === 'breaking' || word === 'all') {
    if (!record.quiet) return tr('quiet.none');
    await store.setChatSettings(chat, { quiet: { ...record.quiet, breaking: word === 'breaking' } });
    return tr(word === 'breaking' ? 'quiet.breaking' : 'quiet.all');
  }
  const [fromText = '', toText = ''] = span.split(/[-–]/u);
  const from = minutesOf(fromText);
  const to = minutesOf(toText);
  if (from === null || to === null || from === to) return tr('quiet.usage');
  const zone = zoneArg ?? record.quiet?.zone ?? config.summary.timeZone ?? 'UTC';
  if (!isTimeZone(zone)) return tr('quiet.badZone', { zone });
  const breaking = record.quiet?.breaking ?? false;
  await store.setChatSettings(chat, { quiet: { from, to, zone, breaking } });
  return tr(breaking ? 'quiet.doneBreaking' : 'quiet.done', { from: clock(from), to: clock(to), zone });
}

/** /languages ar ru | all */
async function answerLanguages(tr: Translate, argument: string, chat: string, store: BotStore): Promise<string> {
  const known = ALERT_LANGUAGES.join(' ');
  const codes = argument.toLowerCase().split(/[\s,]+/u).filter(Boolean);
  if (codes.length === 0) return tr('languages.usage', { known });
  if (codes.length === 1 && codes[0] === 'all') {
    await store.setChatSettings(chat, { languages: null });
    return tr('languages.all');
  }
  const unknown = codes.find((c) => !(ALERT_LANGUAGES as readonly string[]).includes(c));
  if (unknown !== undefined) return tr('languages.unknown', { code: unknown, known });
  const languages = [...new Set(codes)];
  await store.setChatSettings(chat, { languages });
  return tr('languages.done', { list: languages.join(', ') });
}

/** /lang en|ru|kk|ar|auto — answered in the language just chosen. */
async function answerLang(tr: Translate, argument: string, chat: string, store: BotStore, languageCode: string | null): Promise<string> {
  const code = argument.toLowerCase();
  if (code === 'auto') {
    await store.setChatSettings(chat, { language: null });
    return t(localeOf(languageCode), 'lang.auto');
  }
  if (!isLocale(code)) return tr('lang.usage');
  await store.setChatSettings(chat, { language: code });
  return t(code, 'lang.done');
}

/** What /list shows after the watchlists: mute, quiet hours, languages, topic. */
function listFooter(tr: Translate, record: ChatRecord | null, now: number): string[] {
  if (!record) return [];
  const lines: string[] = [];
  if (record.mutedUntil !== null && record.mutedUntil > now) {
    lines.push(tr('list.muted', { time: record.mutedUntil >= Number.MAX_SAFE_INTEGER ? '/unmute' : `${new Date(record.mutedUntil).toISOString().slice(0, 16).replace('T', ' ')} UTC` }));
  }
  if (record.quiet) lines.push(tr('list.quiet', { from: clock(record.quiet.from), to: clock(record.quiet.to), zone: record.quiet.zone }));
  if (record.languages) lines.push(tr('list.languages', { list: record.languages.join(', ') }));
  if (record.threadId !== null) lines.push(tr('list.topic'));
  return lines;
}

/** Answers one command; null for text that is not a command (the bot stays silent). */
export async function answerCommand(input: CommandInput, store: BotStore, config: Config, limits: BotLimits, now: number): Promise<string | null> {
  const command = parseCommand(input.text);
  if (!command) return null;
  const chat = input.chat.id;
  const languageCode = input.languageCode ?? null;
  let record = await store.getChat(chat);
  // The chat's app language is remembered for what the bot says unasked (digests).
  if (record && languageCode !== null && record.appLanguage !== languageCode && input.chat.kind === 'private') {
    await store.setChatSettings(chat, { appLanguage: languageCode });
  }
  const tr = translator(chatLocale(record, languageCode));
  if (ADMIN_COMMANDS.has(command.name)) {
    if (input.userId === null || !config.admins.includes(input.userId)) return tr('adminOnly');
    return answerAdmin(tr, command.name, store, config, now);
  }
  if (CHANGES.has(command.name) && input.chat.kind !== 'private' && !(await input.isChatAdmin())) return tr('chatAdminOnly');
  const ensureChat = async (): Promise<ChatRecord> => {
    if (record?.active) return record;
    record = await store.upsertChat(chat, input.chat.kind, now);
    if (languageCode !== null && input.chat.kind === 'private') await store.setChatSettings(chat, { appLanguage: languageCode });
    return record;
  };
  // A subscription made in a forum topic sends the chat's alerts into that topic.
  const followTopic = async (): Promise<boolean> => {
    const threadId = input.threadId ?? null;
    if ((record?.threadId ?? null) !== threadId) await store.setChatSettings(chat, { threadId });
    return threadId !== null;
  };
  const presets = [...config.watchlists.keys()].sort();
  const presetList = () => tr('presets.list', { list: html(presets.map((p) => `• <b>${escapeHtml(p)}</b>`).join('\n')) });
  switch (command.name) {
    case 'start':
      await ensureChat();
      return `${tr('help')}\n\n${tr('start.next')}`;
    case 'help':
      return tr('help');
    case 'presets':
      return presets.length > 0 ? presetList() : tr('presets.none');
    case 'subscribe': {
      if (!command.argument && presets.length > 0) return presetList();
      if (!config.watchlists.has(command.argument)) {
        return tr('subscribe.unknown', { name: command.argument, list: html(presets.map((p) => `<b>${escapeHtml(p)}</b>`).join(', ')) });
      }
      await ensureChat();
      const existing = await store.chatWatchlists(chat);
      if (existing.some((w) => w.preset === command.argument)) return tr('subscribe.already', { name: command.argument });
      if (existing.length >= limits.maxWatchlists) return tr('watchlists.full', { max: limits.maxWatchlists });
      await store.addChatWatchlist(chat, { preset: command.argument }, now);
      return tr((await followTopic()) ? 'subscribe.doneTopic' : 'subscribe.done', { name: command.argument });
    }
    case 'unsubscribe': {
      const found = (await store.chatWatchlists(chat)).find((w) => w.preset === command.argument);
      if (!found) return tr('unsubscribe.unknown', { name: command.argument });
      await store.removeChatWatchlist(chat, found.id);
      return tr('unsubscribe.done', { name: command.argument });
    }
    case 'watch': {
      const query = command.argument;
      if (!query) return tr('watch.usage');
      if ([...query].length > limits.maxQueryLength) return tr('watch.tooLong', { max: limits.maxQueryLength });
      try {
        compileWatchlist('check', query, config.entities);
      } catch (error) {
        if (error instanceof QueryError) return tr('watch.parseError', { reason: error.reason, position: error.position });
        throw error;
      }
      await ensureChat();
      const existing = await store.chatWatchlists(chat);
      if (existing.length >= limits.maxWatchlists) return tr('watchlists.full', { max: limits.maxWatchlists });
      await store.addChatWatchlist(chat, { query }, now);
      await followTopic();
      return tr('watch.done', { query });
    }
    case 'unwatch': {
      const n = Number(command.argument);
      const list = await store.chatWatchlists(chat);
      const target = Number.isInteger(n) && n >= 1 ? list[n - 1] : undefined;
      if (!target) return tr('unwatch.usage', { max: Math.max(1, list.length) });
      await store.removeChatWatchlist(chat, target.id);
      return tr('unwatch.done', { what: html(describe(tr, target, n)) });
    }
    case 'list': {
      const list = await store.chatWatchlists(chat);
      const footer = listFooter(tr, record, now);
      const body = list.length > 0 ? `${tr('list.header')}\n${list.map((w, i) => describe(tr, w, i + 1)).join('\n')}` : tr('list.empty');
      return footer.length > 0 ? `${body}\n\n${footer.join('\n')}` : body;
    }
    case 'mute': {
      await ensureChat();
      if (!command.argument) {
        await store.setMutedUntil(chat, Number.MAX_SAFE_INTEGER);
        return tr('mute.forever');
      }
      const ms = parseDuration(command.argument);
      if (ms === null || ms <= 0 || ms > MAX_MUTE_MS) return tr('mute.usage');
      await store.setMutedUntil(chat, now + ms);
      return tr('mute.done', { duration: command.argument });
    }
    case 'unmute':
      await store.setMutedUntil(chat, null);
      return tr('unmute.done');
    case 'digest': {
      const period = command.argument.toLowerCase();
      if (period !== 'off' && period !== 'hourly' && period !== 'daily') return tr('digest.usage');
      await ensureChat();
      await store.setDigest(chat, period, now);
      return tr(period === 'off' ? 'digest.off' : period === 'hourly' ? 'digest.hourly' : 'digest.daily');
    }
    case 'quiet':
      if (!command.argument) return tr('quiet.usage');
      return answerQuiet(tr, command.argument, chat, await ensureChat(), store, config);
    case 'languages':
      await ensureChat();
      return answerLanguages(tr, command.argument, chat, store);
    case 'lang':
      await ensureChat();
      return answerLang(tr, command.argument, chat, store, languageCode);
    case 'why': {
      if (!isLink(command.argument)) return tr('why.usage');
      const traces = await store.traceLinks(linkVariants(command.argument));
      const rows = await store.chatWatchlists(chat);
      // Named to the chat as it wrote them: the preset, or its own query.
      const names = new Map(rows.map((r) => [`chat:${r.chat}:${r.id}`, r.preset ?? r.query ?? '']));
      const watchlists = compileChatWatchlists(rows, config).map(({ watchlist }) => ({ watchlist, label: names.get(watchlist.name) ?? watchlist.name }));
      return whyAnswer(traces, { tr, config, now, chat: record, watchlists });
    }
    default:
      return tr('unknown', { name: command.name });
  }
}

/** A chat's watchlists as the matcher takes them, under names that say whose they are. */
export function compileChatWatchlists(rows: ChatWatchlist[], config: Config): Array<{ chat: string; watchlist: Watchlist; label: string }> {
  const compiled: Array<{ chat: string; watchlist: Watchlist; label: string }> = [];
  for (const row of rows) {
    const name = `chat:${row.chat}:${row.id}`;
    if (row.preset !== null) {
      const preset = config.watchlists.get(row.preset);
      if (preset) compiled.push({ chat: row.chat, watchlist: { ...preset, name }, label: row.preset });
      continue;
    }
    try {
      compiled.push({ chat: row.chat, watchlist: compileWatchlist(name, row.query ?? '', config.entities), label: 'watch' });
    } catch {
      // Checked when written; a query an upgrade no longer parses is skipped, not fatal.
    }
  }
  return compiled;
}

/** An inline keyboard: rows of buttons, each with the data its press sends back. */
export type Keyboard = Array<Array<{ text: string; callback_data: string }>>;

const TEMPLATES = ['full', 'compact'] as const;
const UPDATES = ['edit', 'reply', 'silent'] as const;

/** The /settings message for a chat: its template and update mode, as buttons to change them. */
export function settingsMessage(settings: Pick<ChatSettings, 'template' | 'updates'>, tr: Translate = translator('en')): { html: string; keyboard: Keyboard } {
  const mark = (on: boolean, label: string) => (on ? `✓ ${label}` : label);
  const valueOf = (value: (typeof TEMPLATES)[number] | (typeof UPDATES)[number]) => tr(`settings.value.${value}`);
  return {
    html: tr('settings.text'),
    keyboard: [
      TEMPLATES.map((v) => ({ text: mark(settings.template === v, unescapeHtml(tr('settings.template', { value: valueOf(v) }))), callback_data: `set:template:${v}` })),
      UPDATES.map((v) => ({ text: mark(settings.updates === v, unescapeHtml(tr('settings.updates', { value: valueOf(v) }))), callback_data: `set:updates:${v}` })),
    ],
  };
}

/** Applies a settings button's data; the new settings, or null for data that is not ours. */
export async function applySetting(chat: string, data: string, store: SubscriptionStore): Promise<Pick<ChatSettings, 'template' | 'updates'> | null> {
  const [, key, value] = /^set:(template|updates):(\w+)$/u.exec(data) ?? [];
  if (key === 'template' && (TEMPLATES as readonly string[]).includes(value ?? '')) await store.setChatSettings(chat, { template: value as ChatSettings['template'] });
  else if (key === 'updates' && (UPDATES as readonly string[]).includes(value ?? '')) await store.setChatSettings(chat, { updates: value as ChatSettings['updates'] });
  else return null;
  const record = await store.getChat(chat);
  return record ? { template: record.template, updates: record.updates } : null;
}
