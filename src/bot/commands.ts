// What the bot answers to each command. No Telegram wire here: a command comes in as the chat,
// the sender and the text; the answer goes out as Telegram HTML. Subscriptions live in the store.

import type { Config } from '../config/load.js';
import { parseDuration } from '../config/duration.js';
import { compileWatchlist, type Watchlist } from '../match/matcher.js';
import { QueryError } from '../match/query.js';
import type { ChatRecord, ChatSettings, ChatWatchlist, FeedState, Store, SubscriptionStore } from '../store/store.js';
import { escapeHtml } from '../summary/render.js';

export interface CommandInput {
  chat: { id: string; kind: ChatRecord['kind'] };
  /** the sender's user id (absent for posts in channels) */
  userId: string | null;
  text: string;
  /** whether the sender may change this chat's settings (always in private chats; admins in groups) */
  isChatAdmin: () => Promise<boolean>;
}

export interface BotLimits {
  maxWatchlists: number;
  maxQueryLength: number;
}

const HELP = [
  '<b>steppewatch</b> sends one alert per story from news feeds that match your watchlists.',
  '',
  '/presets — ready-made watchlists',
  '/subscribe <i>preset</i> — follow a preset',
  '/unsubscribe <i>preset</i> — stop following it',
  '/watch <i>query</i> — your own watchlist, e.g. <code>/watch almaty AND (protest* OR "state of emergency")</code>',
  '/unwatch <i>n</i> — remove watchlist n (see /list)',
  '/list — your watchlists',
  '/mute [<i>duration</i>] — pause alerts (e.g. /mute 2h; no duration: until /unmute)',
  '/unmute — resume alerts',
  '/digest off|hourly|daily — alerts one by one, or collected into one message per hour or day',
  '/settings — how alerts look and what later reports do',
].join('\n');

// Commands that change what a group receives: only its administrators may use them.
const CHANGES = new Set(['subscribe', 'unsubscribe', 'watch', 'unwatch', 'mute', 'unmute', 'start', 'digest']);

/** "/watch@steppewatch_bot almaty" → ["watch", "almaty"]; null when the text is not a command. */
export function parseCommand(text: string): { name: string; argument: string } | null {
  const match = /^\/([a-z_]+)(?:@\w+)?(?:\s+([\s\S]*))?$/iu.exec(text.trim());
  return match ? { name: (match[1] ?? '').toLowerCase(), argument: (match[2] ?? '').trim() } : null;
}

function describe(watchlist: ChatWatchlist, n: number): string {
  return watchlist.preset !== null ? `${n}. preset <b>${escapeHtml(watchlist.preset)}</b>` : `${n}. <code>${escapeHtml(watchlist.query ?? '')}</code>`;
}

/** The store as the bot sees it: subscriptions, and the feed and outbox figures admins ask for. */
export type BotStore = SubscriptionStore & Pick<Store, 'feedStates' | 'outboxCounts'>;

// For the bot's administrators (config `admins`) only.
const ADMIN_COMMANDS = new Set(['stats', 'feeds', 'failing']);

function feedLine(feed: FeedState, now: number): string {
  const state =
    feed.failingSince !== null
      ? `failing for ${Math.round((now - feed.failingSince) / 60_000)} min: ${escapeHtml(feed.lastError ?? 'unknown error')}`
      : feed.lastSuccessAt !== null
        ? 'ok'
        : 'not polled yet';
  return `• ${escapeHtml(feed.url)} — ${state}`;
}

async function answerAdmin(name: string, store: BotStore, config: Config, now: number): Promise<string> {
  const feeds = await store.feedStates();
  switch (name) {
    case 'stats': {
      const outbox = await store.outboxCounts();
      const chats = await store.chatCounts();
      const failing = feeds.filter((f) => f.failingSince !== null).length;
      return [
        `<b>Feeds</b>: ${config.feeds.length} configured, ${failing} failing`,
        `<b>Chats</b>: ${chats.active} active, ${chats.inactive} gone`,
        `<b>Outbox</b>: ${outbox.pending} pending, ${outbox.sent} sent, ${outbox.failed} failed`,
      ].join('\n');
    }
    case 'feeds':
      return feeds.length > 0 ? feeds.slice(0, 50).map((f) => feedLine(f, now)).join('\n') : 'No feed polled yet.';
    default: {
      const failing = feeds.filter((f) => f.failingSince !== null);
      return failing.length > 0 ? failing.map((f) => feedLine(f, now)).join('\n') : 'No feed is failing.';
    }
  }
}

/** Answers one command; null for text that is not a command (the bot stays silent). */
export async function answerCommand(input: CommandInput, store: BotStore, config: Config, limits: BotLimits, now: number): Promise<string | null> {
  const command = parseCommand(input.text);
  if (!command) return null;
  const chat = input.chat.id;
  if (ADMIN_COMMANDS.has(command.name)) {
    if (input.userId === null || !config.admins.includes(input.userId)) return "This command is for the bot's administrators.";
    return answerAdmin(command.name, store, config, now);
  }
  if (CHANGES.has(command.name) && input.chat.kind !== 'private' && !(await input.isChatAdmin())) {
    return 'Only the administrators of this chat can change what it receives.';
  }
  const presets = [...config.watchlists.keys()].sort();
  switch (command.name) {
    case 'start':
      await store.upsertChat(chat, input.chat.kind, now);
      return `${HELP}\n\nStart with /presets.`;
    case 'help':
      return HELP;
    case 'presets':
      return presets.length > 0 ? `Presets:\n${presets.map((p) => `• <b>${escapeHtml(p)}</b>`).join('\n')}\n\nFollow one with /subscribe <i>name</i>.` : 'No presets are installed.';
    case 'subscribe': {
      if (!config.watchlists.has(command.argument)) {
        return `No preset named “${escapeHtml(command.argument)}”. Presets: ${presets.map((p) => `<b>${escapeHtml(p)}</b>`).join(', ')}.`;
      }
      await store.upsertChat(chat, input.chat.kind, now);
      const existing = await store.chatWatchlists(chat);
      if (existing.some((w) => w.preset === command.argument)) return `Already following <b>${escapeHtml(command.argument)}</b>.`;
      if (existing.length >= limits.maxWatchlists) return `A chat can have ${limits.maxWatchlists} watchlists; remove one with /unwatch first.`;
      await store.addChatWatchlist(chat, { preset: command.argument }, now);
      return `Following <b>${escapeHtml(command.argument)}</b>. Alerts will arrive here.`;
    }
    case 'unsubscribe': {
      const found = (await store.chatWatchlists(chat)).find((w) => w.preset === command.argument);
      if (!found) return `Not following “${escapeHtml(command.argument)}”. See /list.`;
      await store.removeChatWatchlist(chat, found.id);
      return `Stopped following <b>${escapeHtml(command.argument)}</b>.`;
    }
    case 'watch': {
      const query = command.argument;
      if (!query) return 'Give a query, e.g. <code>/watch almaty AND protest*</code>.';
      if ([...query].length > limits.maxQueryLength) return `A query can be ${limits.maxQueryLength} characters at most.`;
      try {
        compileWatchlist('check', query, config.entities);
      } catch (error) {
        if (error instanceof QueryError) return `That query does not parse: ${escapeHtml(error.reason)} at position ${error.position}.`;
        throw error;
      }
      await store.upsertChat(chat, input.chat.kind, now);
      const existing = await store.chatWatchlists(chat);
      if (existing.length >= limits.maxWatchlists) return `A chat can have ${limits.maxWatchlists} watchlists; remove one with /unwatch first.`;
      await store.addChatWatchlist(chat, { query }, now);
      return `Watching <code>${escapeHtml(query)}</code>. See /list.`;
    }
    case 'unwatch': {
      const n = Number(command.argument);
      const list = await store.chatWatchlists(chat);
      const target = Number.isInteger(n) && n >= 1 ? list[n - 1] : undefined;
      if (!target) return `Give the number of a watchlist from /list (1–${Math.max(1, list.length)}).`;
      await store.removeChatWatchlist(chat, target.id);
      return `Removed ${describe(target, n)}`;
    }
    case 'list': {
      const list = await store.chatWatchlists(chat);
      const record = await store.getChat(chat);
      const muted = record?.mutedUntil != null && record.mutedUntil > now ? `\n\nMuted until ${new Date(record.mutedUntil).toISOString().slice(0, 16).replace('T', ' ')} UTC.` : '';
      return list.length > 0 ? `Your watchlists:\n${list.map((w, i) => describe(w, i + 1)).join('\n')}${muted}` : 'No watchlists yet: /presets, /subscribe or /watch.';
    }
    case 'mute': {
      await store.upsertChat(chat, input.chat.kind, now);
      if (!command.argument) {
        await store.setMutedUntil(chat, Number.MAX_SAFE_INTEGER);
        return 'Muted until /unmute.';
      }
      const ms = parseDuration(command.argument);
      if (ms === null) return 'Give a duration such as 30m, 2h or 1d.';
      await store.setMutedUntil(chat, now + ms);
      return `Muted for ${escapeHtml(command.argument)}.`;
    }
    case 'unmute':
      await store.setMutedUntil(chat, null);
      return 'Alerts resume.';
    case 'digest': {
      const period = command.argument.toLowerCase();
      if (period !== 'off' && period !== 'hourly' && period !== 'daily') return 'Say /digest off, /digest hourly or /digest daily.';
      await store.upsertChat(chat, input.chat.kind, now);
      await store.setDigest(chat, period, now);
      return period === 'off' ? 'Alerts come one by one again.' : `Alerts now come as one ${period} digest.`;
    }
    default:
      return `Unknown command /${escapeHtml(command.name)}. /help lists them.`;
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
export function settingsMessage(settings: Pick<ChatSettings, 'template' | 'updates'>): { html: string; keyboard: Keyboard } {
  const mark = (on: boolean, label: string) => (on ? `✓ ${label}` : label);
  return {
    html: '<b>Settings</b>\nTemplate: how alerts look (full: with summary; compact: title and link).\nUpdates: what later reports of a story do to its alert.',
    keyboard: [
      TEMPLATES.map((t) => ({ text: mark(settings.template === t, `template: ${t}`), callback_data: `set:template:${t}` })),
      UPDATES.map((u) => ({ text: mark(settings.updates === u, `updates: ${u}`), callback_data: `set:updates:${u}` })),
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
