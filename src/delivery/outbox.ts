// Drains the durable outbox through a sink: in order per chat, paced, retrying what may succeed
// later and recording what never will. A row leaves "pending" only once its fate is known.

import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../log.js';
import { destinationKey, type OutboxRow, type Store } from '../store/store.js';
import type { AlertSink, SendOutcome } from './sink.js';

export interface DrainOptions {
  store: Store;
  sink: AlertSink;
  log: Logger;
  /** stop starting sends after this time (epoch ms); what is left stays pending */
  deadline: number;
  /** pause between two sends; default: what the sink asks for */
  minIntervalMs?: number;
  /** stop early when this aborts (shutdown) */
  signal?: AbortSignal;
  /**
   * asked before each send: false once this process is no longer the sender (its role's
   * connection or lease went), so that it does not send beside the new sender; sends already
   * started finish
   */
  stillSender?: () => boolean;
  /**
   * when nothing can go now (a chat's pace, a retry's time): wait for it within the deadline
   * (default, `once`), or stop and leave it to the next drain (`run`'s sender loop comes back
   * every role_check: a drain waiting out a group's 20 messages a minute must not hold up polls)
   */
  waitForDue?: boolean;
}

export interface DrainReport {
  sent: number;
  retried: number;
  failed: number;
  /** sends Telegram refused with 429 Too Many Requests */
  rateLimited: number;
  /** rows still pending when the drain ended */
  pending: number;
}

const BATCH = 100;
const TARGET_WAIT_MS = 30_000;
/** Sends at once, each to a different chat: enough to keep ~30 a second over a 100 ms round trip. */
const MAX_IN_FLIGHT = 8;
const LIMIT_MARGIN = 3;
const MAX_BACKOFF_MS = 10 * 60_000;

/**
 * The least time between two messages to one chat, as Telegram allows: a person (positive id)
 * about one a second, a group or channel (negative id or @name) twenty a minute. Sinks without
 * such limits (the console) have none.
 */
function perChatIntervalMs(chat: string, sink: AlertSink): number {
  if (sink.minIntervalMs === 0) return 0;
  return /^\d+$/u.test(chat) ? 1_000 : 3_000;
}

/** Per destination, until when it must wait: kept with the sink, whose bot token Telegram's limits are per. */
const pauses = new WeakMap<AlertSink, Map<string, number>>();
function pausesOf(sink: AlertSink): Map<string, number> {
  let paused = pauses.get(sink);
  if (!paused) pauses.set(sink, (paused = new Map<string, number>()));
  const now = Date.now();
  for (const [destination, until] of paused) if (until <= now) paused.delete(destination);
  return paused;
}

/** Exponential backoff with jitter for faults that carry no retry_after. */
export function backoffMs(attempts: number): number {
  const base = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.min(attempts, 20));
  return Math.round(base * (0.5 + Math.random() / 2));
}

async function settle(store: Store, row: OutboxRow, outcome: SendOutcome, log: Logger, now: number): Promise<number | null> {
  const context = { outboxId: row.id, chat: row.chat, storyId: row.storyId, attempt: row.attempts + 1 };
  switch (outcome.kind) {
    case 'sent':
      await store.markSent(row.id, outcome.messageId, now);
      log.debug({ ...context, messageId: outcome.messageId }, 'alert delivered');
      return null;
    case 'retry': {
      const delay = outcome.afterMs ?? backoffMs(row.attempts);
      await store.markRetry(row.id, outcome.reason, now + delay, outcome.rateLimited === true);
      log.warn({ ...context, reason: outcome.reason, retryInMs: delay }, 'alert not delivered yet; will retry');
      return delay;
    }
    case 'gone':
      await store.markFailed(row.id, outcome.reason, now);
      // A subscriber who blocked the bot or left is deactivated: nothing more is queued for them.
      await store.deactivateChat(row.chat, outcome.reason, now);
      log.error({ ...context, reason: outcome.reason }, 'chat no longer reachable; alert dropped and the chat deactivated');
      return null;
    case 'unauthorized':
      // The row keeps its place, due at once: nothing is lost to a revoked or mistyped token, and
      // a restart with the right one sends it without delay. The sink paces the tries meanwhile.
      await store.markRetry(row.id, outcome.reason, now);
      log.error({ ...context, reason: outcome.reason }, 'Telegram refuses the bot token: delivery paused, every alert stays queued until the token works');
      return null;
    case 'moved':
      // Everything of the chat moves to its new id, this row too, due at once.
      await store.moveChat(row.chat, outcome.to, now);
      await store.markRetry(row.id, outcome.reason, now);
      log.warn({ ...context, to: outcome.to }, 'group upgraded to a supergroup; its alerts and subscriptions moved to the new id');
      return null;
    case 'rejected':
      await store.markFailed(row.id, outcome.reason, now);
      log.error({ ...context, reason: outcome.reason }, 'Telegram rejected the alert');
      return null;
  }
}

/** Sends due outbox rows until none is due before the deadline. */
export async function drainOutbox(options: DrainOptions): Promise<DrainReport> {
  const { store, sink, log, deadline, signal } = options;
  const stillSender = options.stillSender ?? (() => true);
  const minInterval = options.minIntervalMs ?? sink.minIntervalMs;
  const report: DrainReport = { sent: 0, retried: 0, failed: 0, rateLimited: 0, pending: 0 };
  // A refused token: one try a minute, not one per drain.
  if ((sink.resumeAt?.() ?? 0) > Date.now()) {
    report.pending = (await store.outboxCounts()).pending;
    return report;
  }
  // A chat that must wait (429, fault, its pace) holds back its later rows too, so order per chat
  // is kept; remembered from drain to drain of the sink (run's sender loop drains every few seconds).
  const pausedUntil = pausesOf(sink);
  // Chats that answered "gone" in this drain: their other rows fail without asking again.
  const gone = new Set<string>();
  // Chats that moved in this drain: their rows read before the move are read again under the new id.
  const moved = new Set<string>();
  // Set when the token is refused: no send can work, so the drain stops and the rows wait.
  let refused = false;
  // Sends keep to a schedule, one slot per interval, so that the time a send takes does not slow
  // the rate: the sender runs close to the limit without exceeding it. A send takes a network
  // round trip, longer than the interval, so several are in flight at once, never two to one chat.
  let nextSlot = 0;
  const inFlight = new Set<Promise<void>>();
  const busy = new Set<string>();
  // When each row sent in this drain was settled: a list read before then is stale about it.
  const settledAt = new Map<number, number>();
  // Telegram's global limit, kept with three messages to spare in any window: requests reach the
  // server a little bunched, whatever the sender's timing.
  const recentSends: number[] = [];
  const limit = sink.rateLimit;

  const send = async (row: OutboxRow, destination: string): Promise<void> => {
    const sentAt = Date.now();
    const outcome = await sink.send({
      kind: row.kind,
      targetMessageId: row.target?.messageId ?? null,
      chat: row.chat,
      threadId: row.threadId,
      linkPreview: row.linkPreview,
      html: row.html,
      text: row.text,
    });
    const delay = await settle(store, row, outcome, log, Date.now());
    settledAt.set(row.id, performance.now());
    if (outcome.kind === 'sent') report.sent++;
    else if (outcome.kind === 'retry') {
      report.retried++;
      if (outcome.rateLimited) report.rateLimited++;
    } else if (outcome.kind === 'unauthorized') report.retried++;
    else if (outcome.kind !== 'moved') report.failed++;
    if (delay !== null) pausedUntil.set(destination, Date.now() + delay);
    else if (outcome.kind === 'gone') gone.add(row.chat);
    else if (outcome.kind === 'moved') moved.add(row.chat);
    if (outcome.kind === 'unauthorized') refused = true;
    // Telegram's per-chat limits: about one message a second to a person, 20 a minute to a group.
    else pausedUntil.set(destination, Math.max(pausedUntil.get(destination) ?? 0, sentAt + perChatIntervalMs(row.chat, sink)));
  };

  while (!signal?.aborted && Date.now() < deadline && stillSender() && !refused) {
    const fetchedAt = performance.now();
    const rows = await store.dueOutbox(Date.now(), BATCH);
    let started = 0;
    for (const row of rows) {
      if (signal?.aborted || Date.now() >= deadline || !stillSender() || refused) break;
      const destination = destinationKey(row.chat, row.threadId);
      if ((settledAt.get(row.id) ?? -1) >= fetchedAt) continue;
      if (moved.has(row.chat)) continue;
      if (busy.has(destination) || (pausedUntil.get(destination) ?? 0) > Date.now()) continue;
      if (gone.has(row.chat)) {
        await store.markFailed(row.id, 'the chat is gone', Date.now());
        report.failed++;
        continue;
      }
      if (row.kind === 'edit' || row.kind === 'reply') {
        // An edit or reply needs its alert delivered first.
        if (row.target === null || row.target.status === 'failed') {
          await store.markFailed(row.id, 'the alert it concerns was never delivered', Date.now());
          report.failed++;
          continue;
        }
        if (row.target.status === 'pending') {
          await store.markRetry(row.id, 'waiting for the alert it concerns', Date.now() + TARGET_WAIT_MS);
          continue;
        }
      }
      nextSlot = Math.max(nextSlot, Date.now());
      const wait = nextSlot - Date.now();
      if (wait > 0) await sleep(wait);
      nextSlot += minInterval;
      if (limit && recentSends.length >= limit.messages - LIMIT_MARGIN) {
        const windowOpensAt = (recentSends[recentSends.length - (limit.messages - LIMIT_MARGIN)] ?? 0) + limit.windowMs;
        if (windowOpensAt > performance.now()) await sleep(windowOpensAt - performance.now());
      }
      if (limit) {
        recentSends.push(performance.now());
        if (recentSends.length > limit.messages) recentSends.shift();
      }
      while (inFlight.size >= MAX_IN_FLIGHT) await Promise.race(inFlight);
      // The pacing waits above may have outlasted the role.
      if (!stillSender()) break;
      started++;
      busy.add(destination);
      const sending: Promise<void> = send(row, destination).finally(() => {
        busy.delete(destination);
        inFlight.delete(sending);
      });
      inFlight.add(sending);
    }
    if (started > 0) continue;
    if (inFlight.size > 0) {
      await Promise.race(inFlight);
      continue;
    }

    // Nothing could go now: wait for the next row or paused chat to come due, if before the deadline.
    if (options.waitForDue === false) break;
    const nextDue = await store.nextOutboxDue();
    if (nextDue === null) break;
    const waits = [nextDue, ...pausedUntil.values()].filter((t) => t > Date.now());
    const wakeAt = waits.length > 0 ? Math.min(...waits) : Date.now() + minInterval;
    if (wakeAt >= deadline) break;
    try {
      await sleep(wakeAt - Date.now(), undefined, signal ? { signal } : undefined);
    } catch {
      break; // aborted
    }
  }
  await Promise.all(inFlight);
  report.pending = (await store.outboxCounts()).pending;
  return report;
}
