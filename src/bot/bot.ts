// The bot's side of Telegram: telegraf receives commands (getUpdates, our own loop, so `once` can
// take what is waiting and stop) and answers them through commands.ts. Where the bot stands in
// its update stream is kept in the store, so a restart neither loses nor repeats a command.

import { timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Telegraf, TelegramError } from 'telegraf';
import type { Update } from 'telegraf/types';
import type { Config } from '../config/load.js';
import { chatLocale, LOCALES, t, translator, type Locale } from '../i18n/i18n.js';
import type { Logger } from '../log.js';
import { unescapeHtml } from '../summary/render.js';
import { answerCommand, applySetting, MENU, parseCommand, settingsMessage, type BotStore } from './commands.js';

export interface BotOptions {
  token: string;
  apiRoot: string;
  store: BotStore;
  /** the config in use, read per command: a reload changes presets, admins and limits at once */
  config: () => Config;
  log: Logger;
}

const ALLOWED_UPDATES = ['message', 'channel_post', 'callback_query'] as const;
const POLL_TIMEOUT_S = 25;
const ADMIN_CACHE_MS = 60_000;

/** The command menu in one language, as setMyCommands takes it. */
export function commandMenu(locale: Locale): Array<{ command: string; description: string }> {
  // Menu descriptions are plain text: the catalogs' HTML escapes are undone, Arabic isolates kept.
  return MENU.map((command) => ({ command, description: unescapeHtml(t(locale, `command.${command}`)) }));
}

/** The longest flood wait a reply waits out (a longer one drops the reply, logged). */
const REPLY_WAIT_LIMIT_S = 30;

/** Sends a reply, waiting out Telegram's 429 (retry_after) up to twice: a command's answer is not lost to a flood wait. */
async function withFloodRetry<T>(send: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await send();
    } catch (error) {
      const retryAfter = error instanceof TelegramError && error.code === 429 ? error.parameters?.retry_after : undefined;
      if (attempt >= 2 || typeof retryAfter !== 'number' || retryAfter > REPLY_WAIT_LIMIT_S) throw error;
      await sleep(retryAfter * 1000);
    }
  }
}

export class Bot {
  private readonly bot: Telegraf;
  /** per user: when their recent commands came, for the flood limit */
  private readonly recent = new Map<string, number[]>();
  /** per chat and user: whether Telegram called them an administrator, and when it was asked */
  private readonly admins = new Map<string, { admin: boolean; at: number }>();

  constructor(private readonly options: BotOptions) {
    this.bot = new Telegraf(options.token, { telegram: { apiRoot: options.apiRoot } });
    this.bot.on(['message', 'channel_post'], async (ctx) => {
      const post = ctx.channelPost ?? ctx.message;
      if (post && 'migrate_to_chat_id' in post && ctx.chat) {
        // The group became a supergroup: its subscriptions follow it to the new id.
        const to = String(post.migrate_to_chat_id);
        await options.store.moveChat(String(ctx.chat.id), to, Date.now());
        options.log.info({ from: String(ctx.chat.id), to }, 'group upgraded to a supergroup; its subscriptions moved');
        return;
      }
      const text = post && 'text' in post ? post.text : '';
      if (!text.startsWith('/') || !ctx.chat) return;
      const userId = ctx.from ? String(ctx.from.id) : null;
      if (userId !== null && this.flooding(userId, Date.now())) return;
      const chat = ctx.chat;
      const config = options.config();
      const languageCode = ctx.from?.language_code ?? null;
      // A command in a forum topic: the chat's alerts go to that topic.
      const threadId = post && 'is_topic_message' in post && post.is_topic_message === true && post.message_thread_id !== undefined ? post.message_thread_id : null;
      if (parseCommand(text)?.name === 'settings') {
        const record = await options.store.upsertChat(String(chat.id), chat.type, Date.now());
        const { html, keyboard } = settingsMessage(record, translator(chatLocale(record, languageCode)));
        await withFloodRetry(() => ctx.reply(html, { parse_mode: 'HTML', reply_markup: { inline_keyboard: keyboard } }));
        return;
      }
      const answer = await answerCommand(
        {
          chat: { id: String(chat.id), kind: chat.type },
          userId,
          text,
          threadId,
          languageCode,
          isChatAdmin: async () => {
            // Only a channel's administrators can post in it; in groups, ask Telegram.
            if (chat.type === 'channel' || chat.type === 'private') return true;
            if (!ctx.from) return false;
            return this.isAdmin(chat.id, ctx.from.id);
          },
        },
        options.store,
        config,
        { maxWatchlists: config.bot.maxWatchlists, maxQueryLength: config.bot.maxQueryLength },
        Date.now(),
      );
      if (answer !== null) await withFloodRetry(() => ctx.reply(answer, { parse_mode: 'HTML', link_preview_options: { is_disabled: true } }));
    });
    this.bot.on('callback_query', async (ctx) => {
      const data = 'data' in ctx.callbackQuery ? ctx.callbackQuery.data : '';
      const chat = ctx.chat;
      if (!chat) return;
      const tr = translator(chatLocale(await options.store.getChat(String(chat.id)), ctx.from.language_code ?? null));
      // A private chat is the presser's own (its id is theirs); anywhere else, a channel too
      // (any subscriber can press a button under a channel post), Telegram says who is an admin.
      const own = chat.type === 'private' && chat.id === ctx.from.id;
      if (!own && !(await this.isAdmin(chat.id, ctx.from.id))) {
        await ctx.answerCbQuery(unescapeHtml(tr('settings.adminsOnly')));
        return;
      }
      const settings = await applySetting(String(chat.id), data, options.store);
      if (!settings) {
        await ctx.answerCbQuery();
        return;
      }
      await ctx.answerCbQuery(unescapeHtml(tr('settings.saved')));
      const { html, keyboard } = settingsMessage(settings, tr);
      await ctx.editMessageText(html, { parse_mode: 'HTML', reply_markup: { inline_keyboard: keyboard } });
    });
    this.bot.catch((error, ctx) => {
      options.log.warn({ err: (error as Error).message, update: ctx.update.update_id }, 'bot command failed');
    });
  }

  /**
   * Whether the user administers the chat, as Telegram says, remembered for a minute: a user
   * pressing buttons three hundred times costs one getChatMember, not three hundred.
   */
  private async isAdmin(chat: number, user: number): Promise<boolean> {
    const key = `${chat}:${user}`;
    const now = Date.now();
    const known = this.admins.get(key);
    if (known && known.at > now - ADMIN_CACHE_MS) return known.admin;
    const member = await this.bot.telegram.getChatMember(chat, user);
    const admin = member.status === 'creator' || member.status === 'administrator';
    if (this.admins.size > 10_000) this.admins.clear();
    this.admins.set(key, { admin, at: now });
    return admin;
  }

  /** Whether a user sent too many commands in the last minute; tells them once. */
  private flooding(userId: string, now: number): boolean {
    const times = (this.recent.get(userId) ?? []).filter((t) => t > now - 60_000);
    times.push(now);
    this.recent.set(userId, times);
    return times.length > this.options.config().bot.commandsPerMinute;
  }

  /**
   * Tells Telegram the bot's commands, for the menu clients show, once per start: the English
   * menu for everyone, and one per language we speak for users whose app is in it.
   */
  async announceCommands(): Promise<void> {
    const menus: Array<{ locale: Locale; languageCode: Locale | null }> = [{ locale: 'en', languageCode: null }, ...LOCALES.map((locale) => ({ locale, languageCode: locale }))];
    for (const { locale, languageCode } of menus) {
      try {
        await this.bot.telegram.setMyCommands(commandMenu(locale), languageCode === null ? {} : { language_code: languageCode });
      } catch (error) {
        this.options.log.warn({ err: (error as Error).message, language: languageCode }, 'setMyCommands failed');
      }
    }
  }

  /** Handles the updates waiting now and returns how many; `once` calls it before its cycle. */
  async processPending(): Promise<number> {
    return this.fetchAndHandle(0);
  }

  /**
   * Webhook mode: registers `url` with Telegram (with `secret`, which Telegram sends back in the
   * X-Telegram-Bot-Api-Secret-Token header) and serves updates on `port` until `signal` aborts.
   * Requests without the secret are refused. Resolves to the port listened on once listening.
   */
  async serveWebhook(webhook: { url: string; port: number; secret: string }, signal: AbortSignal): Promise<{ port: number; closed: Promise<void> }> {
    const expected = Buffer.from(webhook.secret);
    const server: Server = createServer((req, res) => {
      const given = Buffer.from(String(req.headers['x-telegram-bot-api-secret-token'] ?? ''));
      if (req.method !== 'POST' || given.length !== expected.length || !timingSafeEqual(given, expected)) {
        res.writeHead(401).end();
        return;
      }
      let body = '';
      req.setEncoding('utf8').on('data', (chunk: string) => {
        body += chunk;
        if (body.length > 1_000_000) req.destroy();
      });
      req.on('end', () => {
        let update: Update;
        try {
          update = JSON.parse(body) as Update; // telegraf validates what it handles
        } catch {
          res.writeHead(400).end();
          return;
        }
        // Answer at once: Telegram retries slow webhooks; the command is handled after.
        res.writeHead(200).end();
        void this.bot.handleUpdate(update).catch((error: unknown) => this.options.log.warn({ err: (error as Error).message }, 'webhook update failed'));
      });
    });
    await new Promise<void>((resolve) => server.listen(webhook.port, resolve));
    await this.bot.telegram.setWebhook(webhook.url, { secret_token: webhook.secret, allowed_updates: [...ALLOWED_UPDATES] });
    const closed = new Promise<void>((resolve) => {
      signal.addEventListener('abort', () => server.close(() => resolve()), { once: true });
    });
    return { port: (server.address() as AddressInfo).port, closed };
  }

  /** Long polling until `signal` aborts: the worker's way to take commands as they come. */
  async poll(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.fetchAndHandle(POLL_TIMEOUT_S, signal);
      } catch (error) {
        if (signal.aborted) return;
        this.options.log.warn({ err: (error as Error).message }, 'getUpdates failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, 5000).unref());
      }
    }
  }

  private async fetchAndHandle(timeoutS: number, signal?: AbortSignal): Promise<number> {
    let offset = await this.options.store.getBotOffset();
    let handled = 0;
    for (;;) {
      // Through callApi, so that stopping aborts a long poll at once instead of after its timeout.
      const abort = signal as unknown as NonNullable<Parameters<Telegraf['telegram']['callApi']>[2]>['signal'];
      const updates = await this.bot.telegram.callApi(
        'getUpdates',
        { timeout: timeoutS, limit: 100, offset, allowed_updates: [...ALLOWED_UPDATES] },
        signal ? { signal: abort } : {},
      );
      if (updates.length === 0 || signal?.aborted) return handled;
      for (const update of updates) {
        await this.bot.handleUpdate(update);
        offset = update.update_id + 1;
        await this.options.store.setBotOffset(offset);
        handled++;
      }
      if (timeoutS > 0) return handled;
    }
  }
}
