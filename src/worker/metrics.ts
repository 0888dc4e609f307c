// Prometheus metrics (prom-client): counters moved by what the worker reports after each cycle,
// gauges read from the store when scraped. One registry per process, not prom-client's global,
// so tests and embedders get their own.

import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Config } from '../config/load.js';
import type { DrainReport } from '../delivery/outbox.js';
import type { Store } from '../store/store.js';
import { VERSION } from '../version.js';
import type { CycleReport } from './cycle.js';
import type { WorkerObserver } from './worker.js';
import { ROLES } from './roles.js';

export interface MetricsSources {
  store: Pick<Store, 'feedStates' | 'outboxCounts' | 'chatCounts' | 'heldRoles'>;
  /** the config in use: which feeds count */
  config: () => Config;
}

const PREFIX = 'steppewatch_';

export class Metrics implements WorkerObserver {
  readonly registry = new Registry();
  private readonly cycles: Counter<'outcome'>;
  private readonly cycleSeconds: Histogram;
  private readonly lastCycle: Gauge;
  private readonly feedPolls: Counter<'result'>;
  private readonly fetchBytes: Counter;
  private readonly items: Counter<'stage'>;
  private readonly stories: Counter;
  private readonly alertsQueued: Counter;
  private readonly alertsSent: Counter;
  private readonly alertsFailed: Counter;
  private readonly alertRetries: Counter;
  private readonly rateLimited: Counter;
  private readonly reloads: Counter<'outcome'>;

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    new Gauge({ name: `${PREFIX}info`, help: 'steppewatch version', labelNames: ['version'], registers }).set({ version: VERSION }, 1);
    this.cycles = new Counter({
      name: `${PREFIX}cycles_total`,
      help: 'Polling cycles, by outcome: ok, failed, skipped (the one before was still running)',
      labelNames: ['outcome'],
      registers,
    });
    this.cycleSeconds = new Histogram({
      name: `${PREFIX}cycle_duration_seconds`,
      help: 'How long a polling cycle took, fetch to drained outbox',
      buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600],
      registers,
    });
    this.lastCycle = new Gauge({ name: `${PREFIX}last_cycle_timestamp_seconds`, help: 'When the last cycle that completed ended (Unix time)', registers });
    this.feedPolls = new Counter({
      name: `${PREFIX}feed_polls_total`,
      help: 'Feed polls, by result: ok (new content), unchanged (304 or same), failed, deferred (backoff or Retry-After)',
      labelNames: ['result'],
      registers,
    });
    this.fetchBytes = new Counter({ name: `${PREFIX}fetch_bytes_total`, help: 'Bytes of feed bodies downloaded', registers });
    this.items = new Counter({
      name: `${PREFIX}items_total`,
      help: 'Feed items, by stage: fetched, new (not seen before), matched (a watchlist hit), folded (another report of a story)',
      labelNames: ['stage'],
      registers,
    });
    this.stories = new Counter({ name: `${PREFIX}stories_total`, help: 'New stories: matched items that were not another report of an earlier one', registers });
    this.alertsQueued = new Counter({ name: `${PREFIX}alerts_queued_total`, help: 'Alerts queued, one per story and destination', registers });
    // "Alerts" here are every outbox message: alerts, their edits and replies, digests.
    this.alertsSent = new Counter({ name: `${PREFIX}alerts_sent_total`, help: 'Messages delivered to Telegram (alerts, edits, replies, digests)', registers });
    this.alertsFailed = new Counter({ name: `${PREFIX}alerts_failed_total`, help: 'Messages given up on: rejected by Telegram, or the chat is gone', registers });
    this.alertRetries = new Counter({ name: `${PREFIX}alert_retries_total`, help: 'Sends that failed for now and were kept for a later try (429, 5xx, network)', registers });
    this.rateLimited = new Counter({ name: `${PREFIX}telegram_rate_limited_total`, help: 'Sends Telegram answered with 429 Too Many Requests', registers });
    this.reloads = new Counter({ name: `${PREFIX}config_reloads_total`, help: 'Config reloads, by outcome (a rejected config leaves the old one in use)', labelNames: ['outcome'], registers });

    // Read when scraped; a store that cannot answer leaves them out (/readyz says why).
    const feeds = new Gauge({
      name: `${PREFIX}feeds`,
      help: 'Configured feeds, by state: ok, failing (its last poll failed), new (not polled yet)',
      labelNames: ['state'],
      registers,
      async collect() {
        const states = new Map((await sources.store.feedStates().catch(() => [])).map((s) => [s.url, s]));
        const counts = { ok: 0, failing: 0, new: 0 };
        for (const feed of sources.config().feeds) {
          const state = states.get(feed.url);
          if (state && state.consecutiveFailures > 0) counts.failing++;
          else if (state?.lastSuccessAt != null) counts.ok++;
          else counts.new++;
        }
        for (const [state, n] of Object.entries(counts)) feeds.set({ state }, n);
      },
    });
    const outbox = new Gauge({
      name: `${PREFIX}outbox_depth`,
      help: 'Messages queued for Telegram and not yet delivered',
      registers,
      async collect() {
        const counts = await sources.store.outboxCounts().catch(() => null);
        if (counts) outbox.set(counts.pending);
      },
    });
    const chats = new Gauge({
      name: `${PREFIX}chats`,
      help: 'Chats subscribed through the bot, by state: active, inactive (blocked the bot, left, gone)',
      labelNames: ['state'],
      registers,
      async collect() {
        const counts = await sources.store.chatCounts().catch(() => null);
        if (!counts) return;
        chats.set({ state: 'active' }, counts.active);
        chats.set({ state: 'inactive' }, counts.inactive);
      },
    });
    const roles = new Gauge({
      name: `${PREFIX}role_held`,
      help: 'Roles this worker holds for all the workers on the database (1 held, 0 not): sender, bot, digests, prune',
      labelNames: ['role'],
      registers,
      collect() {
        const held = new Set(sources.store.heldRoles());
        for (const role of ROLES) roles.set({ role }, held.has(role) ? 1 : 0);
      },
    });
    // Every series exists from the start, so rate() works from the first scrape.
    for (const outcome of ['ok', 'failed', 'skipped']) this.cycles.inc({ outcome }, 0);
    for (const result of ['ok', 'unchanged', 'failed', 'deferred']) this.feedPolls.inc({ result }, 0);
    for (const stage of ['fetched', 'new', 'matched', 'folded']) this.items.inc({ stage }, 0);
    for (const outcome of ['ok', 'rejected']) this.reloads.inc({ outcome }, 0);
  }

  cycleFinished(report: CycleReport): void {
    this.cycles.inc({ outcome: 'ok' });
    this.cycleSeconds.observe(report.durationMs / 1000);
    this.lastCycle.set(Date.now() / 1000);
    this.feedPolls.inc({ result: 'ok' }, report.feeds.ok);
    this.feedPolls.inc({ result: 'unchanged' }, report.feeds.unchanged);
    this.feedPolls.inc({ result: 'failed' }, report.feeds.failed);
    this.feedPolls.inc({ result: 'deferred' }, report.feeds.deferred);
    this.fetchBytes.inc(report.bytes);
    this.items.inc({ stage: 'fetched' }, report.items.fetched);
    this.items.inc({ stage: 'new' }, report.items.new);
    this.items.inc({ stage: 'matched' }, report.items.matched);
    this.items.inc({ stage: 'folded' }, report.items.folded);
    this.stories.inc(report.stories);
    this.alertsQueued.inc(report.alertsQueued);
    this.delivered(report.delivery);
  }

  cycleFailed(_error: unknown, durationMs: number): void {
    this.cycles.inc({ outcome: 'failed' });
    this.cycleSeconds.observe(durationMs / 1000);
  }

  cycleSkipped(): void {
    this.cycles.inc({ outcome: 'skipped' });
  }

  flushed(report: DrainReport): void {
    this.delivered(report);
  }

  drained(report: DrainReport): void {
    this.delivered(report);
  }

  configReloaded(ok: boolean): void {
    this.reloads.inc({ outcome: ok ? 'ok' : 'rejected' });
  }

  private delivered(report: DrainReport): void {
    this.alertsSent.inc(report.sent);
    this.alertsFailed.inc(report.failed);
    this.alertRetries.inc(report.retried);
    this.rateLimited.inc(report.rateLimited);
  }
}
