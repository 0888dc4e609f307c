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
}

export interface DrainReport {
  sent: number;
  retried: number;
  failed: number;
  /** rows still pending when the drain ended */
  pending: number;
}

const BATCH = 100;
const TARGET_WAIT_MS = 30_000;
const MAX_BACKOFF_MS = 10 * 60_000;

/**
 * The least time between two messages to one chat, as Telegram allows: a person (positive id)
 * about one a second, a group or channel (negative id or @name) twenty a minute. Sinks without
 * such limits (the console) have none.
 */
export function perChatIntervalMs(chat: string, sink: AlertSink): number {
  if (sink.minIntervalMs === 0) return 0;
  return /^\d+$/u.test(chat) ? 1_000 : 3_000;
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
      await store.markRetry(row.id, outcome.reason, now + delay);
      log.warn({ ...context, reason: outcome.reason, retryInMs: delay }, 'alert not delivered yet; will retry');
      return delay;
    }
    case 'gone':
      await store.markFailed(row.id, outcome.reason, now);
      // A subscriber who blocked the bot or left is deactivated: nothing more is queued for them.
      await store.deactivateChat(row.chat, outcome.reason, now);
      log.error({ ...context, reason: outcome.reason }, 'chat no longer reachable; alert dropped and the chat deactivated');
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
  const minInterval = options.minIntervalMs ?? sink.minIntervalMs;
  const report: DrainReport = { sent: 0, retried: 0, failed: 0, pending: 0 };
  // A chat that must wait (429, fault) holds back its later rows too, so order per chat is kept.
  const pausedUntil = new Map<string, number>();
  // Chats that answered "gone" in this drain: their other rows fail without asking again.
  const gone = new Set<string>();
  let lastSendAt = 0;

  while (!signal?.aborted && Date.now() < deadline) {
    const rows = await store.dueOutbox(Date.now(), BATCH);
    let attempted = 0;
    for (const row of rows) {
      if (signal?.aborted || Date.now() >= deadline) break;
      const destination = destinationKey(row.chat, row.threadId);
      if ((pausedUntil.get(destination) ?? 0) > Date.now()) continue;
      if (gone.has(row.chat)) {
        await store.markFailed(row.id, 'the chat is gone', Date.now());
        report.failed++;
        continue;
      }
      if (row.kind !== 'alert') {
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
      const wait = lastSendAt + minInterval - Date.now();
      if (wait > 0) await sleep(wait);
      lastSendAt = Date.now();
      attempted++;
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
      if (outcome.kind === 'sent') report.sent++;
      else if (outcome.kind === 'retry') report.retried++;
      else report.failed++;
      if (delay !== null) pausedUntil.set(destination, Date.now() + delay);
      else if (outcome.kind === 'gone') gone.add(row.chat);
      // Telegram's per-chat limits: about one message a second to a person, 20 a minute to a group.
      else pausedUntil.set(destination, Math.max(pausedUntil.get(destination) ?? 0, lastSendAt + perChatIntervalMs(row.chat, sink)));
    }
    if (attempted > 0) continue;

    // Nothing could go now: wait for the next row or paused chat to come due, if before the deadline.
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
  report.pending = (await store.outboxCounts()).pending;
  return report;
}
