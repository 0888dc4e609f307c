// What the two stores read and write alike: a feed's row, the fingerprints' bytes.

import type { ChatRecord, ChatSettings, FeedState, ItemDecision, ItemTrace, OutboxKind, OutboxStatus, QuietHours, WebsubSubscription } from './store.js';

/** How many of a story's newest reports are read to keep its alert current (plus its first). */
export const STORY_REPORTS_READ = 30;

/** A poll that worked ends any run of failures. */
export const FEED_HEALTHY = `consecutive_failures = 0, last_error = NULL, next_poll_at = NULL, failing_since = NULL, failure_reported_at = NULL`;

export interface FeedRow {
  url: string;
  title?: string | null;
  etag: string | null;
  last_modified: string | null;
  first_polled_at: number | null;
  last_success_at: number | null;
  last_error: string | null;
  consecutive_failures: number;
  next_poll_at: number | null;
  fetch_url: string | null;
  failing_since: number | null;
  failure_reported_at: number | null;
  poll_interval_ms?: number | null;
  poll_reason?: string | null;
  ttl_minutes?: number | null;
  poll_earliest_at?: number | null;
}

export function feedState(row: FeedRow): FeedState {
  return {
    url: row.url,
    title: row.title ?? null,
    etag: row.etag,
    lastModified: row.last_modified,
    firstPolledAt: row.first_polled_at,
    lastSuccessAt: row.last_success_at,
    lastError: row.last_error,
    consecutiveFailures: row.consecutive_failures,
    nextPollAt: row.next_poll_at,
    fetchUrl: row.fetch_url,
    failingSince: row.failing_since,
    failureReportedAt: row.failure_reported_at,
    pollIntervalMs: row.poll_interval_ms ?? null,
    pollReason: row.poll_reason ?? null,
    ttlMinutes: row.ttl_minutes ?? null,
    pollEarliestAt: row.poll_earliest_at ?? null,
  };
}

/** A typed array's bytes, to store as a BLOB or BYTEA (in this machine's byte order, in both stores). */
export function bytesOf(values: Uint32Array): Buffer {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength);
}

/** Stored bytes as 32-bit values (copied: the Buffer may not be aligned). */
export function uint32s(bytes: Buffer): Uint32Array {
  const values = new Uint32Array(bytes.byteLength / 4);
  new Uint8Array(values.buffer).set(bytes);
  return values;
}

/** A chats row as both stores read it. */
export interface ChatRow {
  chat: string;
  kind: ChatRecord['kind'];
  active: number | boolean;
  muted_until: number | null;
  digest: ChatSettings['digest'];
  template: ChatSettings['template'];
  updates: ChatSettings['updates'];
  thread_id: number | null;
  languages: string | null;
  quiet: string | null;
  language: string | null;
  app_language: string | null;
  deactivated_reason: string | null;
}

/** The columns of a ChatRow, for SELECT. */
export const CHAT_COLUMNS = 'chat, kind, active, muted_until, digest, template, updates, thread_id, languages, quiet, language, app_language, deactivated_reason';

export function chatSettingsOf(row: ChatRow): ChatSettings {
  return {
    digest: row.digest,
    template: row.template,
    updates: row.updates,
    threadId: row.thread_id,
    languages: row.languages === null ? null : (JSON.parse(row.languages) as string[]),
    quiet: row.quiet === null ? null : (JSON.parse(row.quiet) as QuietHours),
    language: row.language,
    appLanguage: row.app_language,
  };
}

export function chatRecordOf(row: ChatRow): ChatRecord {
  return {
    chat: row.chat,
    kind: row.kind,
    active: row.active === 1 || row.active === true,
    mutedUntil: row.muted_until,
    deactivatedReason: row.deactivated_reason,
    ...chatSettingsOf(row),
  };
}

/** A settings change as column → value (JSON for the structured ones); keys not given stay. */
export function chatSettingsColumns(change: Partial<Omit<ChatSettings, 'digest'>>): Array<[string, string | number | null]> {
  const columns: Array<[string, string | number | null]> = [];
  if (change.template !== undefined) columns.push(['template', change.template]);
  if (change.updates !== undefined) columns.push(['updates', change.updates]);
  if (change.threadId !== undefined) columns.push(['thread_id', change.threadId]);
  if (change.languages !== undefined) columns.push(['languages', change.languages === null ? null : JSON.stringify(change.languages)]);
  if (change.quiet !== undefined) columns.push(['quiet', change.quiet === null ? null : JSON.stringify(change.quiet)]);
  if (change.language !== undefined) columns.push(['language', change.language]);
  if (change.appLanguage !== undefined) columns.push(['app_language', change.appLanguage]);
  return columns;
}

/** An items row joined with its story, as traceLinks reads it. */
export interface TraceRow {
  feed_url: string;
  title: string;
  link: string | null;
  published_at: number | null;
  first_seen_at: number;
  updated_at: number | null;
  decision: ItemDecision;
  watchlists: string;
  forms: string | null;
  language: string | null;
  story_id: number | null;
  story_title: string | null;
  story_link: string | null;
  story_created_at: number | null;
  story_breaking_at: number | null;
}

/** Items with their stories; the caller adds WHERE, ORDER and LIMIT. */
export const TRACE_SELECT = `SELECT i.feed_url, i.title, i.link, i.published_at, i.first_seen_at, i.updated_at, i.decision, i.watchlists, i.forms, i.language,
    i.story_id, s.title AS story_title, s.link AS story_link, s.created_at AS story_created_at, s.breaking_at AS story_breaking_at
  FROM items i LEFT JOIN stories s ON s.id = i.story_id`;

export interface DeliveryRow {
  chat: string;
  thread_id: number;
  kind: OutboxKind;
  status: OutboxStatus;
  attempts: number;
  last_error: string | null;
  sent_at: number | null;
  next_attempt_at: number;
  source: string | null;
}

export interface DigestRow {
  chat: string;
  created_at: number;
  queued_at: number | null;
}

/** A story's outbox rows; `param` is the store's placeholder for its id. */
export function traceDeliveriesSql(param: string): string {
  return `SELECT chat, thread_id, kind, status, attempts, last_error, sent_at, next_attempt_at, source FROM outbox WHERE story_id = ${param} ORDER BY id`;
}

export function traceDigestsSql(param: string): string {
  return `SELECT chat, created_at, queued_at FROM digest_items WHERE story_id = ${param} ORDER BY id`;
}

export function traceOf(row: TraceRow, deliveries: DeliveryRow[], digests: DigestRow[]): ItemTrace {
  return {
    feedUrl: row.feed_url,
    title: row.title,
    link: row.link,
    publishedAt: row.published_at,
    firstSeenAt: row.first_seen_at,
    updatedAt: row.updated_at,
    decision: row.decision,
    watchlists: JSON.parse(row.watchlists) as string[],
    forms: row.forms === null ? [] : (JSON.parse(row.forms) as string[]),
    language: row.language,
    story:
      row.story_id === null
        ? null
        : { id: row.story_id, title: row.story_title ?? '', link: row.story_link, createdAt: row.story_created_at ?? 0, breakingAt: row.story_breaking_at },
    deliveries: deliveries.map((d) => ({
      chat: d.chat,
      threadId: d.thread_id === 0 ? null : d.thread_id,
      kind: d.kind,
      status: d.status,
      attempts: d.attempts,
      lastError: d.last_error,
      sentAt: d.sent_at,
      nextAttemptAt: d.next_attempt_at,
      source: d.source,
    })),
    digests: digests.map((d) => ({ chat: d.chat, createdAt: d.created_at, queuedAt: d.queued_at })),
  };
}

/** A websub_subscriptions row as both stores read it (PostgreSQL's BIGINTs come back as strings). */
export interface WebsubRow {
  id: string;
  feed_url: string;
  topic: string;
  hub: string;
  secret: string;
  state: string;
  lease_seconds: number | string | null;
  expires_at: number | string | null;
  requested_at: number | string;
}

export const WEBSUB_COLUMNS = 'id, feed_url, topic, hub, secret, state, lease_seconds, expires_at, requested_at';

const WEBSUB_STATES = new Set<WebsubSubscription['state']>(['pending', 'active', 'denied', 'unsubscribing']);

export function websubOf(row: WebsubRow): WebsubSubscription {
  const state = WEBSUB_STATES.has(row.state as WebsubSubscription['state']) ? (row.state as WebsubSubscription['state']) : 'pending';
  return {
    id: row.id,
    feedUrl: row.feed_url,
    topic: row.topic,
    hub: row.hub,
    secret: row.secret,
    state,
    leaseSeconds: row.lease_seconds === null ? null : Number(row.lease_seconds),
    expiresAt: row.expires_at === null ? null : Number(row.expires_at),
    requestedAt: Number(row.requested_at),
  };
}

/** The values of a subscription in WEBSUB_COLUMNS order. */
export function websubValues(s: WebsubSubscription): Array<string | number | null> {
  return [s.id, s.feedUrl, s.topic, s.hub, s.secret, s.state, s.leaseSeconds, s.expiresAt, s.requestedAt];
}
