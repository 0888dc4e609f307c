// The long-running worker: a cycle at start, then on the cron schedule; cycles never overlap.
// A new config takes effect from the next cycle (the running one finishes on the old). Stopping
// ends scheduling, lets the running cycle finish within a bound (then cuts it short), sends what
// the rate limits allow before the bound, and leaves the rest queued in the store.

import cron, { type ScheduledTask } from 'node-cron';
import type { Config } from '../config/load.js';
import { drainOutbox, type DrainReport } from '../delivery/outbox.js';
import { runCycle, type CycleDeps, type CycleReport } from './cycle.js';
import { drainAsSender } from './sender.js';
import { StoryIndex } from '../dedup/story-index.js';
import { createSerialQueue } from '../concurrency.js';
import { BOT_ROLE, SENDER_ROLE } from './roles.js';
import { storeProblem } from '../store/problem.js';
import { PushSubscriptions, type PushEndpoint } from './push.js';

/** What the worker tells whoever watches it (metrics); called synchronously, must not throw. */
export interface WorkerObserver {
  cycleFinished?(report: CycleReport): void;
  cycleFailed?(error: unknown, durationMs: number): void;
  /** a scheduled cycle did not run: the one before was still running */
  cycleSkipped?(): void;
  /** the last send of queued alerts while stopping */
  flushed?(report: DrainReport): void;
  /** the sender loop sent what other workers (or a retry) made due between cycles */
  drained?(report: DrainReport): void;
}

export interface WorkerOptions extends Omit<CycleDeps, 'signal'> {
  /** how long stopping waits for the running cycle and the last sends (default: config.shutdown.graceMs) */
  graceMs?: number;
  observer?: WorkerObserver;
}

export interface WorkerStatus {
  startedAt: number;
  /** a cycle is running now */
  running: boolean;
  /** when the last cycle that completed ended; null before the first */
  lastCycleFinishedAt: number | null;
  /** why the last cycle failed, if it did */
  lastCycleError: string | null;
  /** the longest gap between two scheduled cycles: readiness allows two of them */
  periodMs: number;
  /** the roles this worker holds on the database (sender, bot, digests, prune) */
  roles: string[];
  /** the database failure that failed the last cycle, in words (read-only, damaged, disk full) */
  storeProblem?: string | null;
  /** what keeps delivery from working now (a refused bot token), if anything */
  deliveryProblem?: string | null;
}

export interface Worker {
  /** resolves once the worker has stopped */
  readonly stopped: Promise<void>;
  /** stops scheduling, waits (within the bound) for the running cycle, sends what it may */
  stop(reason: string): Promise<void>;
  /** uses `config` from the next cycle on; a changed schedule takes effect at once */
  reload(config: Config): void;
  /** the config in use */
  config(): Config;
  status(): WorkerStatus;
  /** WebSub callbacks (http.public_url set), else null */
  readonly push: PushEndpoint | null;
}

/** The share of the shutdown bound the running cycle may use before it is cut short. */
const CYCLE_SHARE = 0.75;

/** The longest gap between the next runs of a schedule: its period, or its worst case if irregular. */
export function schedulePeriodMs(task: Pick<ScheduledTask, 'getNextRuns'>): number {
  const runs = task.getNextRuns(25).map((d) => d.getTime());
  let longest = 0;
  for (let i = 1; i < runs.length; i++) longest = Math.max(longest, (runs[i] ?? 0) - (runs[i - 1] ?? 0));
  return longest;
}

export function startWorker(options: WorkerOptions): Worker {
  const { store, sink, log, observer = {} } = options;
  let config = options.config;
  // Kept across cycles: each cycle only reads the reports committed since the last one.
  const stories = options.stories ?? new StoryIndex(store, { windowMs: config.dedup.windowMs });
  const shutdown = new AbortController();
  let running: Promise<void> | null = null;
  // `running` and `roles` are not kept here: they are read when asked (see status() below).
  const status: Omit<WorkerStatus, 'running' | 'roles'> = { startedAt: Date.now(), lastCycleFinishedAt: null, lastCycleError: null, periodMs: 0 };
  // Drains in this process take turns: the cycle's and the sender loop's never send one row twice.
  const sendQueue = createSerialQueue();
  let senderBusy = false;
  /** The roles (but the bot's, which says so itself) this worker held when last looked: a change is logged. */
  let rolesSeen = new Set<string>();
  const noteRoles = (): void => {
    const held = new Set(store.heldRoles().filter((role) => role !== BOT_ROLE));
    for (const role of held) if (!rolesSeen.has(role)) log.info({ role }, 'role taken');
    for (const role of rolesSeen) if (!held.has(role)) log.warn({ role }, 'role lost; another worker takes it over');
    rolesSeen = held;
  };

  /**
   * The sender loop: every role_check the worker tries to be the sender (the role moves to a
   * survivor when its holder dies) and, if it is, sends what has come due since: alerts other
   * workers queued, retries whose time has come.
   */
  const senderTick = async (): Promise<void> => {
    if (senderBusy || shutdown.signal.aborted) return;
    senderBusy = true;
    try {
      const sender = await store.tryRole(SENDER_ROLE);
      noteRoles();
      if (!sender) return;
      const due = await store.nextOutboxDue();
      if (due === null || due > Date.now()) return;
      const drained = await drainAsSender({ config, store, sink, log, signal: shutdown.signal, sendQueue, waitForDue: false });
      observer.drained?.(drained);
      if (drained.sent + drained.failed > 0) log.info({ ...drained }, 'queued messages sent');
    } catch (error) {
      const problem = storeProblem(error);
      log.error({ err: error, ...(problem ? { problem } : {}) }, `sender loop: could not send queued messages${problem ? `: ${problem}` : ''}; trying again`);
    } finally {
      senderBusy = false;
    }
  };
  const senderTimer = setInterval(() => void senderTick(), config.workers.roleCheckMs);
  senderTimer.unref();
  // A send asked for while the sender loop is busy runs right after it, not a role_check later.
  let sendAgain = false;
  const sendNow = (): void => {
    if (senderBusy) sendAgain = true;
    else void senderTick().then(() => {
      if (sendAgain && !shutdown.signal.aborted) {
        sendAgain = false;
        sendNow();
      }
    });
  };
  // WebSub: with a public URL, hubs push feeds to this worker's HTTP server (src/worker/push.ts).
  const push = config.http.publicUrl
    ? new PushSubscriptions({
        store,
        log,
        config: () => config,
        stories,
        ...(options.summarizer ? { summarizer: options.summarizer } : {}),
        ...(options.embedder ? { embedder: options.embedder } : {}),
        queued: sendNow,
      })
    : null;
  push?.start();
  let resolveStopped: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => {
    resolveStopped = resolve;
  });

  /** A cycle; `scheduledAt` is the schedule's tick it runs for (none: the cycle at start). */
  const tick = (scheduledAt?: number): void => {
    if (shutdown.signal.aborted) return;
    if (running) {
      log.warn('previous cycle still running; this one is skipped');
      observer.cycleSkipped?.();
      return;
    }
    const started = Date.now();
    running = runCycle({
      config,
      store,
      sink,
      log,
      stories,
      ...(options.summarizer ? { summarizer: options.summarizer } : {}),
      ...(options.embedder ? { embedder: options.embedder } : {}),
      signal: shutdown.signal,
      // A feed another worker polled on this tick (or, at start, within half a period) is not polled again.
      ...(scheduledAt !== undefined ? { round: scheduledAt } : { roundMs: Math.floor(status.periodMs / 2) }),
      delivery: 'if-sender',
      sendQueue,
      ...(push ? { push } : {}),
      // Each feed waits for the next poll its pace chose (polling.adaptive); the schedule is the tick.
      paced: config.polling.adaptive,
    })
      .then((report) => {
        // The cycle, as sender, told of failing feeds whichever worker polled them (sender.ts).
        noteRoles();
        status.lastCycleFinishedAt = Date.now();
        status.lastCycleError = null;
        status.storeProblem = null;
        observer.cycleFinished?.(report);
      })
      .catch((error: unknown) => {
        const problem = storeProblem(error);
        status.lastCycleError = problem ?? (error as Error).message;
        status.storeProblem = problem;
        log.error({ err: error, ...(problem ? { problem } : {}) }, problem ? `cycle failed: ${problem}` : 'cycle failed');
        observer.cycleFailed?.(error, Date.now() - started);
      })
      .finally(() => {
        running = null;
      });
  };

  const schedule = (): ScheduledTask => {
    const task = cron.schedule(config.schedule, (context) => tick(context.date.getTime()), { name: 'poll', ...(config.timezone ? { timezone: config.timezone } : {}) });
    status.periodMs = schedulePeriodMs(task);
    return task;
  };
  let task = schedule();
  log.info({ schedule: config.schedule, feeds: config.feeds.length, channels: config.channels.length }, 'worker started');
  tick();

  const reload = (next: Config): void => {
    const rescheduled = next.schedule !== config.schedule || next.timezone !== config.timezone;
    config = next;
    // A feed that left the config is unsubscribed at once.
    void push?.maintain();
    if (rescheduled && !shutdown.signal.aborted) {
      void task.destroy();
      task = schedule();
    }
  };

  let stopping: Promise<void> | null = null;
  const stop = (reason: string): Promise<void> => {
    stopping ??= (async () => {
      const graceMs = options.graceMs ?? config.shutdown.graceMs;
      const deadline = Date.now() + graceMs;
      log.info({ reason, graceMs, cycleRunning: running !== null }, 'stopping');
      await task.destroy();
      clearInterval(senderTimer);
      await push?.stop();
      if (running) {
        // The cycle gets three quarters of the bound; the last sends get the rest.
        const cycleMs = Math.round(graceMs * CYCLE_SHARE);
        const cutShort = setTimeout(() => {
          log.warn({ afterMs: cycleMs }, 'the running cycle did not finish in time; cutting it short (feeds it has not polled wait for the next run)');
          shutdown.abort();
        }, cycleMs);
        await running;
        clearTimeout(cutShort);
      }
      shutdown.abort();
      // What is queued and allowed by the rate limits goes out now; the rest stays in the store.
      // Only the sender sends: another worker holding the role sends what is queued.
      if (Date.now() < deadline && store.heldRoles().includes(SENDER_ROLE)) {
        try {
          const flushed = await sendQueue(() => drainOutbox({ store, sink, log, deadline }));
          observer.flushed?.(flushed);
          if (flushed.sent > 0 || flushed.pending > 0) log.info({ ...flushed }, 'queued alerts flushed before stopping');
        } catch (error) {
          // A store that fails now must not keep the process from stopping; the queue is where it was.
          log.error({ err: error }, 'could not send queued alerts before stopping');
        }
      }
      resolveStopped();
    })();
    return stopping;
  };
  return { stopped, stop, reload, push, config: () => config, status: () => ({ ...status, running: running !== null, roles: store.heldRoles(), deliveryProblem: sink.problem?.() ?? null }) };
}
