// A fake Telegram Bot API on 127.0.0.1 that telegraf reaches through `apiRoot`. It answers like
// Telegram: HTML checked strictly (400), 429 with retry_after, 403 for blocked chats, 401 for a
// wrong token. Tests inject failures and read what was delivered.

import { createServer, type Server } from 'node:http';
import { closeServer, listenLocal } from './local-server.js';
import { checkTelegramHtml } from './telegram-html.js';

export const FAKE_TOKEN = '123456789:TEST-fake-token-ABCdefGHIjklMNOpqr';

export interface DeliveredMessage {
  message_id: number;
  chat_id: string;
  text: string;
  parse_mode: string | null;
  message_thread_id: number | null;
  /** the message this one replies to (reply_parameters.message_id) */
  reply_to: number | null;
  /** how many times editMessageText changed it; `text` is the latest */
  edits: number;
  /** its inline keyboard's button labels, row by row, if it has one */
  buttons: string[][];
}

function buttonsOf(body: Record<string, unknown>): string[][] {
  const markup = body.reply_markup as { inline_keyboard?: Array<Array<{ text: string }>> } | undefined;
  return markup?.inline_keyboard?.map((row) => row.map((button) => button.text)) ?? [];
}

/** The text a message shows once Telegram has parsed its HTML, or the error it answers. */
function visibleText(body: Record<string, unknown>): { ok: true; text: string } | { ok: false; error: string } {
  const text = typeof body.text === 'string' ? body.text : '';
  return body.parse_mode === 'HTML' ? checkTelegramHtml(text) : { ok: true, text };
}

function replyTo(body: Record<string, unknown>): number | null {
  const parameters = body.reply_parameters;
  if (typeof parameters !== 'object' || parameters === null) return null;
  const id = (parameters as Record<string, unknown>).message_id;
  return typeof id === 'number' ? id : null;
}

export interface ApiCall {
  method: string;
  body: Record<string, unknown>;
  status: number;
}

type Failure = { status: number; description: string; retryAfter?: number };

export class FakeTelegram {
  readonly messages: DeliveredMessage[] = [];
  readonly calls: ApiCall[] = [];
  /** chats that answer 403 "bot was blocked by the user" */
  readonly blocked = new Set<string>();
  /** while true, sendMessage answers 502 Bad Gateway, as when Telegram has an outage */
  down = false;
  private readonly failures: Failure[] = [];
  private server: Server | null = null;
  private nextMessageId = 1;
  /** updates getUpdates serves, as users' messages arrive */
  private readonly updates: Array<{ update_id: number } & Record<string, unknown>> = [];
  private nextUpdateId = 1;
  /** Telegram's global limit, when enforced: at most `messages` sends in any `windowMs` */
  private rate: { messages: number; windowMs: number; sent: number[] } | null = null;
  /** a share of sends (0–1) that fail at random: a 502, a dropped connection, or a 429 */
  flakiness = 0;
  private flakyState = 12345;
  /** called with each message delivered, so a test can act at a given point without polling */
  onDelivered: ((message: DeliveredMessage) => void) | null = null;
  /** how long each answer takes, like a network round trip to Telegram */
  latencyMs = 0;
  /** how many sends answered 429 for going over the enforced limit */
  tooFast = 0;
  /** the texts the bot answered button presses with (answerCallbackQuery) */
  readonly callbackAnswers: string[] = [];
  /** the webhook the bot registered, if any */
  webhook: { url: string; secret: string | null } | null = null;
  /** the commands the bot announced with setMyCommands (the menu for every language) */
  commands: string[] = [];
  /** every menu announced, by language_code ('' for the default one): command → description */
  readonly menus = new Map<string, Array<{ command: string; description: string }>>();
  /** groups Telegram upgraded to supergroups: sends to the old id answer 400 with migrate_to_chat_id */
  readonly migrated = new Map<string, string>();
  /** long-polling getUpdates calls waiting for an update */
  private readonly updateWaiters = new Set<() => void>();
  /** per group: the user ids getChatMember calls administrators */
  readonly admins = new Map<string, Set<number>>();
  apiRoot = '';

  constructor(readonly token = FAKE_TOKEN) {}

  /** The next sendMessage calls fail with these answers, in order. */
  failNext(...failures: Failure[]): void {
    this.failures.push(...failures);
  }

  private wakeUpdateWaiters(): void {
    for (const wake of [...this.updateWaiters]) wake();
  }

  /** Answers 429 (retry_after 1) to sends beyond `messages` in any `windowMs`, as Telegram does. */
  enforceRate(messages: number, windowMs: number): void {
    this.rate = { messages, windowMs, sent: [] };
  }

  /**
   * A user sends `text` to the bot in `chat` (a private chat when the chat id is the user's), from
   * an app in `languageCode`, in forum topic `topic` when given.
   */
  userSays(chat: { id: number; type: 'private' | 'group' | 'supergroup' }, userId: number, text: string, options: { languageCode?: string; topic?: number } = {}): void {
    queueMicrotask(() => this.wakeUpdateWaiters());
    const update_id = this.nextUpdateId++;
    this.updates.push({
      update_id,
      message: {
        message_id: 10_000 + update_id,
        date: Math.floor(Date.now() / 1000),
        chat: chat.type === 'private' ? { id: chat.id, type: 'private', first_name: `user${userId}` } : { id: chat.id, type: chat.type, title: `group ${chat.id}`, ...(options.topic !== undefined ? { is_forum: true } : {}) },
        from: { id: userId, is_bot: false, first_name: `user${userId}`, ...(options.languageCode !== undefined ? { language_code: options.languageCode } : {}) },
        text,
        ...(options.topic !== undefined ? { message_thread_id: options.topic, is_topic_message: true } : {}),
        ...(text.startsWith('/') ? { entities: [{ type: 'bot_command', offset: 0, length: text.split(/\s/u)[0]?.length ?? 0 }] } : {}),
      },
    });
  }

  /**
   * Telegram upgrades group `from` to supergroup `to`: sends to `from` answer 400 with
   * migrate_to_chat_id; with `announce`, the bot also gets the service message in the old group.
   */
  migrate(from: number, to: number, announce = false): void {
    this.migrated.set(String(from), String(to));
    if (!announce) return;
    queueMicrotask(() => this.wakeUpdateWaiters());
    const update_id = this.nextUpdateId++;
    this.updates.push({
      update_id,
      message: { message_id: 10_000 + update_id, date: Math.floor(Date.now() / 1000), chat: { id: from, type: 'group', title: `group ${from}` }, from: { id: 1, is_bot: false, first_name: 'admin' }, migrate_to_chat_id: to },
    });
  }

  /** A user presses a button (callback data `data`) under the bot's message `messageId`. */
  userPresses(chat: { id: number; type: 'private' | 'group' | 'supergroup' }, userId: number, messageId: number, data: string): void {
    queueMicrotask(() => this.wakeUpdateWaiters());
    const from = { id: userId, is_bot: false, first_name: `user${userId}` };
    const message = this.messages.find((m) => m.message_id === messageId);
    this.updates.push({
      update_id: this.nextUpdateId++,
      callback_query: {
        id: `cb${this.nextUpdateId}`,
        from,
        chat_instance: 'ci',
        data,
        message: { message_id: messageId, date: Math.floor(Date.now() / 1000), chat: chat.type === 'private' ? { id: chat.id, type: 'private', first_name: 'u' } : { id: chat.id, type: chat.type, title: 'g' }, text: message?.text ?? '' },
      },
    });
  }

  /** The messages the bot sent to a chat, as their visible text. */
  sentTo(chat: string | number): string[] {
    return this.messages.filter((m) => m.chat_id === String(chat)).map((m) => m.text);
  }

  /** Shorthand for a flood-wait answer. */
  static tooManyRequests(retryAfter: number): Failure {
    return { status: 429, description: `Too Many Requests: retry after ${retryAfter}`, retryAfter };
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      let raw = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (raw += chunk));
      req.on('end', () => {
        const reply = (status: number, payload: unknown, method = '', body: Record<string, unknown> = {}) => {
          this.calls.push({ method, body, status });
          const answer = () => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(payload));
          if (this.latencyMs > 0) setTimeout(answer, this.latencyMs);
          else answer();
        };
        const match = /^\/bot([^/]+)\/([A-Za-z]+)$/u.exec(req.url ?? '');
        if (!match) return reply(404, { ok: false, error_code: 404, description: 'Not Found' });
        const [, token, method = ''] = match;
        if (token !== this.token) return reply(401, { ok: false, error_code: 401, description: 'Unauthorized' }, method);
        let body: Record<string, unknown> = {};
        try {
          body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
        } catch {
          return reply(400, { ok: false, error_code: 400, description: 'Bad Request: invalid JSON' }, method);
        }
        const error = (status: number, description: string, parameters?: Record<string, unknown>) =>
          reply(status, { ok: false, error_code: status, description, ...(parameters ? { parameters } : {}) }, method, body);

        switch (method) {
          case 'getMe':
            return reply(200, { ok: true, result: { id: 123456789, is_bot: true, first_name: 'Fake', username: 'fake_bot' } }, method, body);
          case 'sendMessage': {
            if (this.flakiness > 0) {
              this.flakyState = (this.flakyState * 48271) % 2147483647;
              const roll = (this.flakyState % 10_000) / 10_000;
              if (roll < this.flakiness / 3) return error(502, 'Bad Gateway');
              if (roll < (2 * this.flakiness) / 3) return req.socket.destroy();
              if (roll < this.flakiness) return error(429, 'Too Many Requests: retry after 1', { retry_after: 1 });
            }
            const failure = this.down ? { status: 502, description: 'Bad Gateway' } : this.failures.shift();
            if (failure) {
              return error(failure.status, failure.description, failure.retryAfter !== undefined ? { retry_after: failure.retryAfter } : undefined);
            }
            const chat = String(body.chat_id);
            if (this.blocked.has(chat)) return error(403, 'Forbidden: bot was blocked by the user');
            const movedTo = this.migrated.get(chat);
            if (movedTo !== undefined) return error(400, 'Bad Request: group chat was upgraded to a supergroup chat', { migrate_to_chat_id: Number(movedTo) });
            if (this.rate) {
              const now = performance.now();
              const sent = this.rate.sent.filter((t) => t > now - this.rate!.windowMs);
              this.rate.sent = sent;
              if (sent.length >= this.rate.messages) {
                this.tooFast++;
                return error(429, 'Too Many Requests: retry after 1', { retry_after: 1 });
              }
              sent.push(now);
            }
            const text = typeof body.text === 'string' ? body.text : '';
            const visible = visibleText(body);
            if (!visible.ok) return error(400, visible.error);
            if (visible.text.trim().length === 0) return error(400, 'Bad Request: message text is empty');
            if ([...visible.text].length > 4096) return error(400, 'Bad Request: message is too long');
            const message: DeliveredMessage = {
              message_id: this.nextMessageId++,
              chat_id: chat,
              text,
              parse_mode: typeof body.parse_mode === 'string' ? body.parse_mode : null,
              message_thread_id: typeof body.message_thread_id === 'number' ? body.message_thread_id : null,
              reply_to: replyTo(body),
              edits: 0,
              buttons: buttonsOf(body),
            };
            this.messages.push(message);
            this.onDelivered?.(message);
            return reply(200, { ok: true, result: { message_id: message.message_id, chat: { id: chat }, date: Math.floor(Date.now() / 1000), text: visible.text } }, method, body);
          }
          case 'getUpdates': {
            if (this.down) return error(502, 'Bad Gateway');
            const offset = typeof body.offset === 'number' ? body.offset : 0;
            const pending = () => this.updates.filter((u) => u.update_id >= offset).slice(0, 100);
            const timeout = typeof body.timeout === 'number' ? body.timeout : 0;
            if (pending().length > 0 || timeout === 0) return reply(200, { ok: true, result: pending() }, method, body);
            // Long polling, as Telegram does it: the answer waits for an update or the timeout.
            const answer = () => {
              clearTimeout(timer);
              this.updateWaiters.delete(answer);
              reply(200, { ok: true, result: pending() }, method, body);
            };
            const timer = setTimeout(answer, timeout * 1000);
            this.updateWaiters.add(answer);
            // A client that gives up (a bot stopping) closes the connection: forget it.
            res.on('close', () => {
              clearTimeout(timer);
              this.updateWaiters.delete(answer);
            });
            return undefined;
          }
          case 'setWebhook':
            this.webhook = { url: String(body.url), secret: typeof body.secret_token === 'string' ? body.secret_token : null };
            return reply(200, { ok: true, result: true }, method, body);
          case 'answerCallbackQuery':
            this.callbackAnswers.push(typeof body.text === 'string' ? body.text : '');
            return reply(200, { ok: true, result: true }, method, body);
          case 'setMyCommands': {
            const commands = Array.isArray(body.commands) ? (body.commands as Array<{ command: string; description: string }>) : [];
            const invalid = commands.find((c) => !/^[a-z0-9_]{1,32}$/u.test(c.command) || [...c.description].length < 1 || [...c.description].length > 256);
            if (invalid) return error(400, 'Bad Request: BOT_COMMAND_INVALID');
            const language = typeof body.language_code === 'string' ? body.language_code : '';
            this.menus.set(language, commands.map(({ command, description }) => ({ command, description })));
            if (language === '') this.commands = commands.map((c) => c.command);
            return reply(200, { ok: true, result: true }, method, body);
          }
          case 'getChatMember': {
            const isAdmin = this.admins.get(String(body.chat_id))?.has(Number(body.user_id)) ?? false;
            const user = { id: Number(body.user_id), is_bot: false, first_name: 'user' };
            return reply(200, { ok: true, result: isAdmin ? { status: 'administrator', user, can_be_edited: false } : { status: 'member', user } }, method, body);
          }
          case 'editMessageText': {
            const failure = this.down ? { status: 502, description: 'Bad Gateway' } : this.failures.shift();
            if (failure) {
              return error(failure.status, failure.description, failure.retryAfter !== undefined ? { retry_after: failure.retryAfter } : undefined);
            }
            const chat = String(body.chat_id);
            const target = this.messages.find((m) => m.chat_id === chat && m.message_id === body.message_id);
            if (!target) return error(400, 'Bad Request: message to edit not found');
            const text = typeof body.text === 'string' ? body.text : '';
            const visible = visibleText(body);
            if (!visible.ok) return error(400, visible.error);
            if ([...visible.text].length > 4096) return error(400, 'Bad Request: MESSAGE_TOO_LONG');
            if (text === target.text && JSON.stringify(buttonsOf(body)) === JSON.stringify(target.buttons)) {
              return error(400, 'Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message');
            }
            target.text = text;
            target.buttons = buttonsOf(body);
            target.edits++;
            return reply(200, { ok: true, result: { message_id: target.message_id, chat: { id: chat }, date: Math.floor(Date.now() / 1000), text: visible.text } }, method, body);
          }
          default:
            return error(404, 'Not Found: method not found');
        }
      });
    });
    this.apiRoot = await listenLocal(this.server);
    return this;
  }

  stop(): Promise<void> {
    return closeServer(this.server);
  }
}
