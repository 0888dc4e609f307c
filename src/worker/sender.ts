// The sender's duties after a cycle: draining the outbox (only one worker on a database at a time
// may, the holder of the sender role: Telegram's limits are per bot token) and telling admins of
// feeds failing too long (through the sink, so within those limits too).

import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config/load.js';
import { drainOutbox, type DrainReport } from '../delivery/outbox.js';
import type { AlertSink } from '../delivery/sink.js';
import { failureNeedsReport } from '../feeds/health.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/store.js';
import { escapeHtml } from '../summary/render.js';
import { SENDER_ROLE } from './roles.js';

/** How often `once` looks whether another worker, the sender, has sent what it queued. */
const SENDER_WAIT_MS = 250;

/**
 * What a cycle does with the outbox: `wait` (once, tests) sends as the sender, or waits until
 * the worker that is has sent what this cycle queued; `if-sender` sends only when this process
 * holds the sender role; `none` leaves it to the worker's sender loop.
 */
export type DeliveryMode = 'wait' | 'if-sender' | 'none';

export interface SenderDeps {
  config: Config;
  store: Store;
  sink: AlertSink;
  log: Logger;
  signal?: AbortSignal;
  /** runs the drain in turn with the process's other drains (the worker's sender loop) */
  sendQueue?: <R>(section: () => Promise<R>) => Promise<R>;
  /** whether the drain waits for what cannot go yet (see DrainOptions.waitForDue; default true) */
  waitForDue?: boolean;
}

const NOTHING_SENT: DrainReport = { sent: 0, retried: 0, failed: 0, rateLimited: 0, pending: 0 };

/** Sends what is queued if this process is (or, in `wait` mode, becomes) the sender. */
export async function sendQueued(deps: SenderDeps, mode: DeliveryMode): Promise<DrainReport> {
  const { config, store, log, signal } = deps;
  if (mode === 'none') return { ...NOTHING_SENT };
  const notSender = async (): Promise<DrainReport> => ({ ...NOTHING_SENT, pending: (await store.outboxCounts()).pending });
  // `run`'s cycles: what cannot go at once is the sender loop's, so the next tick's polls are not held up.
  if (mode === 'if-sender') return (await store.tryRole(SENDER_ROLE)) ? sendAsSender({ ...deps, waitForDue: false }) : notSender();
  // One sender at a time per database: two processes draining at once could both send a row.
  // Another worker holding the role sends what this cycle queued; this one waits until it has
  // (or the role is free to take: another `once` finished), within max_wait.
  const deadline = Date.now() + config.delivery.maxWaitMs;
  for (;;) {
    if (await store.tryRole(SENDER_ROLE)) return sendAsSender(deps);
    const due = await store.nextOutboxDue();
    if (due === null || due > Date.now() || Date.now() >= deadline || signal?.aborted) {
      log.info({ pending: due !== null && due <= Date.now() }, 'another worker is the sender: it delivers what this cycle queued');
      return notSender();
    }
    await sleep(SENDER_WAIT_MS * (0.5 + Math.random()));
  }
}

/** The sender's turn: failing-feed notices, then the outbox. */
async function sendAsSender(deps: SenderDeps): Promise<DrainReport> {
  await reportFailingFeeds(deps);
  return drainAsSender(deps);
}

/** Drains the outbox as the sender, stopping if the role is lost meanwhile. */
export function drainAsSender(deps: SenderDeps): Promise<DrainReport> {
  const { config, store, sink, log, signal } = deps;
  const sendQueue = deps.sendQueue ?? (<R>(section: () => Promise<R>) => section());
  // A drain stops starting sends when the role is lost: the new sender sends what is left.
  const stillSender = () => store.heldRoles().includes(SENDER_ROLE);
  return sendQueue(() =>
    drainOutbox({ store, sink, log, deadline: Date.now() + config.delivery.maxWaitMs, stillSender, ...(signal ? { signal } : {}), ...(deps.waitForDue === false ? { waitForDue: false } : {}) }),
  );
}

/**
 * Tells of feeds failing for longer than `fetch.report_failing_after`, once per run of failures:
 * in the log and to the administrators. Any worker may have polled them; the sender tells.
 */
export async function reportFailingFeeds(deps: Pick<SenderDeps, 'config' | 'store' | 'sink' | 'log'>): Promise<number> {
  const { config, store, sink, log } = deps;
  const configured = new Set(config.feeds.map((feed) => feed.url));
  const now = Date.now();
  let reported = 0;
  for (const state of await store.feedStates()) {
    if (!configured.has(state.url) || !failureNeedsReport(state, now, config.fetch.reportFailingAfterMs)) continue;
    const since = state.failingSince ?? now;
    log.error(
      { feed: state.url, failingSince: new Date(since).toISOString(), failures: state.consecutiveFailures, error: state.lastError },
      'feed has been failing for too long',
    );
    await store.markFeedFailureReported(state.url, now);
    reported++;
    // Administrators hear of it too, once per run of failures; best effort, as logs are.
    for (const admin of config.admins) {
      const text = `Feed failing since ${new Date(since).toISOString().slice(0, 16).replace('T', ' ')} UTC: ${state.url}\n${state.lastError ?? ''}`;
      await sink.send({ kind: 'alert', targetMessageId: null, chat: admin, threadId: null, linkPreview: false, html: escapeHtml(text), text });
    }
  }
  return reported;
}
