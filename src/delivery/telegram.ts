// The Telegram sink: the only module that speaks the Bot API's wire (through telegraf's client)
// and turns its errors into typed outcomes.

import { Telegram, TelegramError } from 'telegraf';
import type { AlertSink, OutgoingMessage, SendOutcome } from './sink.js';

export const DEFAULT_API_ROOT = 'https://api.telegram.org';
const REQUEST_TIMEOUT_MS = 30_000;
/** A refused token is tried again after this long (one request), not at every drain. */
const TOKEN_RETRY_MS = 60_000;

// Descriptions that mean the bot can no longer post to the chat (DESIGN.md, "Telegram facts").
const CHAT_GONE = [
  'bot was blocked by the user',
  'bot was kicked',
  'user is deactivated',
  'chat not found',
  'have no rights to send',
  'need administrator rights',
  'not enough rights',
  'chat_write_forbidden',
];
const BAD_HTML = /can't parse entities|unsupported start tag|unexpected end tag/iu;

export interface TelegramSinkOptions {
  token: string;
  apiRoot?: string;
  /** pause between two sends; default 35 ms, about 28.5 a second, under Telegram's ~30 */
  minIntervalMs?: number;
  /** Telegram's global limit; default 30 messages in any second */
  rateLimit?: { messages: number; windowMs: number };
}

export class TelegramSink implements AlertSink {
  readonly name = 'telegram';
  readonly minIntervalMs: number;
  readonly rateLimit: { messages: number; windowMs: number };
  private readonly telegram: Telegram;
  private readonly token: string;
  /** set while Telegram refuses the token, cleared by the next send that works */
  private refused: string | null = null;
  private refusedAt = 0;

  constructor(options: TelegramSinkOptions) {
    this.telegram = new Telegram(options.token, { apiRoot: options.apiRoot ?? DEFAULT_API_ROOT });
    this.token = options.token;
    this.minIntervalMs = options.minIntervalMs ?? 35;
    this.rateLimit = options.rateLimit ?? { messages: 30, windowMs: 1000 };
  }

  private async sendMessage(message: OutgoingMessage, asHtml: boolean): Promise<number> {
    const content = {
      text: asHtml ? message.html : message.text,
      ...(asHtml ? { parse_mode: 'HTML' as const } : {}),
      link_preview_options: { is_disabled: !message.linkPreview },
    };
    // telegraf types `signal` with the abort-controller polyfill; Node's own AbortSignal works at run time.
    const signal = AbortSignal.timeout(REQUEST_TIMEOUT_MS) as unknown as NonNullable<Parameters<Telegram['callApi']>[2]>['signal'];
    if (message.kind === 'edit') {
      if (message.targetMessageId === null) throw new MissingTarget();
      const edited = await this.telegram.callApi('editMessageText', { chat_id: message.chat, message_id: message.targetMessageId, ...content }, { signal });
      return typeof edited === 'object' ? edited.message_id : message.targetMessageId;
    }
    const payload = {
      chat_id: message.chat,
      ...content,
      ...(message.threadId !== null ? { message_thread_id: message.threadId } : {}),
      // A reply whose alert was deleted is still worth sending, as a message of its own.
      ...(message.kind === 'reply' && message.targetMessageId !== null
        ? { reply_parameters: { message_id: message.targetMessageId, allow_sending_without_reply: true } }
        : {}),
    };
    const sent = await this.telegram.callApi('sendMessage', payload, { signal });
    return sent.message_id;
  }

  async send(message: OutgoingMessage): Promise<SendOutcome> {
    const outcome = this.withoutToken(await this.attempt(message));
    if (outcome.kind === 'unauthorized') {
      this.refused = outcome.reason;
      this.refusedAt = Date.now();
    } else if (outcome.kind === 'sent') this.refused = null;
    return outcome;
  }

  /** The outcome with the token cut out of its reason: a server that echoes it must not put it in the store. */
  private withoutToken(outcome: SendOutcome): SendOutcome {
    if (outcome.kind === 'sent' || !outcome.reason.includes(this.token)) return outcome;
    return { ...outcome, reason: outcome.reason.split(this.token).join('[redacted]') };
  }

  resumeAt(): number {
    return this.refused === null ? 0 : this.refusedAt + TOKEN_RETRY_MS;
  }

  problem(): string | null {
    return this.refused === null ? null : `Telegram refuses the bot token (${this.refused}); every alert stays queued until it works`;
  }

  private async attempt(message: OutgoingMessage): Promise<SendOutcome> {
    try {
      return { kind: 'sent', messageId: await this.sendMessage(message, true) };
    } catch (error) {
      const outcome = classify(error);
      if (outcome.kind !== 'rejected' || !BAD_HTML.test(outcome.reason)) return outcome;
    }
    // Telegram could not parse our HTML: an alert in plain text beats a lost alert.
    try {
      return { kind: 'sent', messageId: await this.sendMessage(message, false) };
    } catch (error) {
      return classify(error);
    }
  }
}

/** An edit of a message whose id was never recorded (sent through a sink without ids). */
class MissingTarget extends Error {
  constructor() {
    super('the alert to edit has no Telegram message id');
    this.name = 'MissingTarget';
  }
}

/** Maps a Bot API or network error to what the outbox should do about it. */
export function classify(error: unknown): SendOutcome {
  if (error instanceof MissingTarget) return { kind: 'rejected', reason: error.message };
  if (error instanceof TelegramError) {
    const reason = `${error.code}: ${error.description}`;
    // An edit that changes nothing has done its job.
    if (error.code === 400 && /message is not modified/iu.test(error.description)) return { kind: 'sent', messageId: null };
    if (error.code === 429) {
      const retryAfter = error.parameters?.retry_after;
      return { kind: 'retry', reason, afterMs: typeof retryAfter === 'number' ? retryAfter * 1000 : null, rateLimited: true };
    }
    if (error.code >= 500) return { kind: 'retry', reason, afterMs: null };
    // A revoked or mistyped token: not this message's fault, and no message can go until it is fixed.
    if (error.code === 401 || error.code === 404) return { kind: 'unauthorized', reason };
    const migrateTo = error.parameters?.migrate_to_chat_id;
    if (typeof migrateTo === 'number') return { kind: 'moved', reason, to: String(migrateTo) };
    const description = error.description.toLowerCase();
    if (error.code === 403 || CHAT_GONE.some((text) => description.includes(text))) return { kind: 'gone', reason };
    return { kind: 'rejected', reason };
  }
  // Network failures, timeouts, malformed answers: worth another try.
  const cause = (error as { cause?: { code?: string } } | null)?.cause?.code;
  return { kind: 'retry', reason: cause ?? (error as Error | null)?.message ?? String(error), afterMs: null };
}
