// Where alerts go. A sink reports what happened as a typed outcome; the outbox decides what next.

export interface OutgoingMessage {
  /** a new alert; an edit of an alert sent before (`targetMessageId`); or a reply under it */
  kind: 'alert' | 'edit' | 'reply' | 'digest';
  /** the Telegram message an edit or reply concerns (null from sinks without message ids) */
  targetMessageId: number | null;
  chat: string;
  threadId: number | null;
  /** whether Telegram shows a preview of the message's first link */
  linkPreview: boolean;
  html: string;
  text: string;
}

export type SendOutcome =
  /** delivered; messageId is Telegram's, null for sinks without one */
  | { kind: 'sent'; messageId: number | null }
  /** try again later: rate limited (429: `rateLimited`, afterMs from Telegram) or a passing server/network fault */
  | { kind: 'retry'; reason: string; afterMs: number | null; rateLimited?: boolean }
  /** the chat is gone for us: blocked, kicked, deleted, no rights */
  | { kind: 'gone'; reason: string }
  /** the destination refuses our credentials (Telegram: 401/404 on the bot token): nothing can be sent until they work */
  | { kind: 'unauthorized'; reason: string }
  /** the group became a supergroup with a new id (Telegram's migrate_to_chat_id): send there */
  | { kind: 'moved'; reason: string; to: string }
  /** Telegram refused this message and will refuse it again */
  | { kind: 'rejected'; reason: string };

export interface AlertSink {
  readonly name: string;
  /** pause between two sends that the destination needs (Telegram: ~30 messages/second) */
  readonly minIntervalMs: number;
  /** a hard limit the destination enforces, if any: at most `messages` in any `windowMs` */
  readonly rateLimit?: { messages: number; windowMs: number };
  send(message: OutgoingMessage): Promise<SendOutcome>;
  /** what keeps every send from succeeding now (a refused token), for readiness; null when none */
  problem?(): string | null;
  /** while a problem lasts: when to try again (a drain before then sends nothing) */
  resumeAt?(): number;
}
