// One polling cycle: fetch every feed (concurrently, within limits), push each through the
// pipeline (one feed at a time, so story decisions never race), then drain the outbox.

import { availableParallelism } from 'node:os';
import type { Config, FeedConfig } from '../config/load.js';
import { queueDueDigests } from '../delivery/digest.js';
import type { DrainReport } from '../delivery/outbox.js';
import type { AlertSink } from '../delivery/sink.js';
import { AddressAllowList, isPrivateTargetCached } from '../feeds/address.js';
import { createFeedAgent, FetchError, fetchFeed } from '../feeds/fetch.js';
import { nextPollAfterFailure } from '../feeds/health.js';
import { encodeReason, nextPoll, type CacheHeaders } from '../feeds/pace.js';
import { FeedParseError } from '../feeds/parse.js';
import { readFeed } from '../feeds/read.js';
import { withOlderPosts } from '../feeds/telegram-channel.js';
import { itemKey } from '../dedup/identity.js';
import { discoverHub, linksFromHeader } from '../feeds/websub.js';
import type { PushSubscriptions } from './push.js';
import type { Logger } from '../log.js';
import type { FeedState, Store } from '../store/store.js';
import type { Summarizer } from '../summary/llm.js';
import { createKeyedLimiter, createLimiter, createSerialQueue } from '../concurrency.js';
import { decideStories, prepareFeed, type FeedOutcome } from './process-feed.js';
import { buildRouting } from './routing.js';
import { StoryIndex } from '../dedup/story-index.js';
import type { Embedder } from '../dedup/embeddings.js';
import { storeProblem } from '../store/problem.js';
import { StoreBusyError } from '../store/store.js';
import { DIGESTS_ROLE, PRUNE_ROLE } from './roles.js';
import { sendQueued, type DeliveryMode } from './sender.js';

/** Entry times adaptive polling reads per feed: enough for a busy feed's rate, few enough to read every poll. */
const PACE_SAMPLE = 200;

/** The store lock held while a feed's items are decided and committed (see pollFeed). */
export const STORY_LOCK = 'stories';

function hostOf(feed: FeedConfig): string {
  return new URL(feed.url).host;
}

/** Requests one host may have in flight: its `fetch.hosts` entry (host:port, then host), else `per_host`. */
export function perHostLimit(config: Config, host: string): number {
  const named = config.fetch.hosts.get(host.toLowerCase()) ?? config.fetch.hosts.get(host.toLowerCase().replace(/:\d+$/u, ''));
  return named?.perHost ?? config.fetch.perHost;
}

export interface CycleDeps {
  config: Config;
  store: Store;
  sink: AlertSink;
  log: Logger;
  /** how alerts are summarised: extractively unless an endpoint is configured */
  summarizer?: Summarizer;
  /** the story index this process keeps between cycles (a cache of the store's reports); one is made if absent */
  stories?: StoryIndex;
  /** an embeddings endpoint for folds across languages, when configured */
  embedder?: Embedder | null;
  signal?: AbortSignal;
  /**
   * The round this cycle polls in: the time its feeds are recorded as polled at (default: when the
   * cycle starts). `run` gives the schedule's tick, the same in every worker on that tick, so a
   * feed one worker polled is not polled again by another in the same round.
   */
  round?: number;
  /**
   * A feed recorded as polled within this long before `round` counts as polled this round too
   * (default 0). `run`'s first cycle, at start and off the schedule, gives half the schedule
   * period: workers started together share it.
   */
  roundMs?: number;
  /** what the cycle does with the outbox (see DeliveryMode; default `wait`) */
  delivery?: DeliveryMode;
  /**
   * Whether a feed waits for the next poll adaptive polling chose after its last answer (`run`,
   * with `polling.adaptive`); otherwise (`once`, default) every feed is polled, and only a
   * failing one waits for its backoff. The pace is recorded either way.
   */
  paced?: boolean;
  /** runs the cycle's drain in turn with the process's other drains (the worker's sender loop) */
  sendQueue?: <R>(section: () => Promise<R>) => Promise<R>;
  /** WebSub (`run` with http.public_url): feeds a hub pushes wait for their safety poll; a found hub is subscribed to */
  push?: Pick<PushSubscriptions, 'pollDue' | 'discovered'>;
}

export interface CycleReport {
  feeds: { ok: number; unchanged: number; failed: number; deferred: number };
  /** bytes of feed bodies downloaded */
  bytes: number;
  items: { fetched: number; new: number; matched: number; folded: number; updated: number };
  /** new stories: matched items that were not another report of an earlier story */
  stories: number;
  alertsQueued: number;
  delivery: DrainReport;
  /** shutdown cut the cycle short: feeds not polled yet wait for the next run */
  interrupted: boolean;
  durationMs: number;
}

export async function runCycle(deps: CycleDeps): Promise<CycleReport> {
  const { config, store, sink, log, signal } = deps;
  const started = Date.now();
  const report: CycleReport = {
    feeds: { ok: 0, unchanged: 0, failed: 0, deferred: 0 },
    bytes: 0,
    items: { fetched: 0, new: 0, matched: 0, folded: 0, updated: 0 },
    stories: 0,
    alertsQueued: 0,
    delivery: { sent: 0, retried: 0, failed: 0, rateLimited: 0, pending: 0 },
    interrupted: false,
    durationMs: 0,
  };
  const serial = createSerialQueue();
  const stories = deps.stories ?? new StoryIndex(store, { windowMs: config.dedup.windowMs });
  // Watchlists with a story breaking now: their feeds are polled at the minimum interval.
  const breakingWatchlists = await store.breakingWatchlists(started - config.polling.breakingMs);
  // Subscriptions as they stand when the cycle starts.
  const routing = await buildRouting(config, store, started);

  /** Records a failed poll and schedules the next try (the sender tells of a feed failing too long). */
  const recordFailure = async (feed: FeedConfig, error: Error, failures: number): Promise<void> => {
    const now = Date.now();
    report.feeds.failed++;
    log.warn({ feed: feed.url, error: error.message, errorType: error.name, failures }, 'feed skipped');
    await store.recordFeedFailure(feed.url, error.message, now, nextPollAfterFailure(failures, error, now));
  };

  /**
   * After an answer (200 or 304): when the feed is polled again (src/feeds/pace.ts), from its
   * recent entries, its own floor (cache headers, <ttl>) and whether its watchlists have a story breaking.
   */
  const paceRound = deps.round ?? started;
  const recordPace = async (feed: FeedConfig, cache: CacheHeaders, ttlMinutes: number | null): Promise<void> => {
    const now = Date.now();
    const { polling } = config;
    const activity = await store.feedActivity(feed.url, now - polling.windowMs, PACE_SAMPLE);
    const breaking = activity.watchlists.some((name) => breakingWatchlists.has(name));
    const pace = nextPoll({
      now,
      round: paceRound,
      times: activity.times,
      cache,
      ttlMinutes,
      breaking,
      bounds: { minMs: polling.minMs, maxMs: polling.maxMs, windowMs: polling.windowMs },
    });
    const reason = encodeReason(pace.reason);
    await store.recordFeedPace(feed.url, { intervalMs: pace.intervalMs, reason, nextPollAt: pace.nextPollAt, earliestAt: pace.earliestAt, ttlMinutes });
    log.debug({ feed: feed.url, intervalMs: pace.intervalMs, reason, nextPollAt: new Date(pace.nextPollAt).toISOString() }, 'feed paced');
  };

  /**
   * A paced feed waiting for its next poll is polled sooner once a story breaks in its watchlists,
   * as soon as its own floor (cache headers, <ttl>) and the minimum interval allow. A failing feed keeps its backoff.
   */
  const breaksSooner = async (feed: FeedConfig, state: FeedState, failing: boolean): Promise<boolean> => {
    if (failing || breakingWatchlists.size === 0 || state.pollEarliestAt === null || state.pollEarliestAt > Date.now()) return false;
    const { watchlists } = await store.feedActivity(feed.url, Date.now() - config.polling.windowMs, 1);
    const sooner = watchlists.some((name) => breakingWatchlists.has(name));
    if (sooner) log.debug({ feed: feed.url }, 'feed polled sooner: a story is breaking in its watchlists');
    return sooner;
  };

  /**
   * Fetches one feed, holding a request slot (of its host and of the cycle) only while the request
   * runs; null when it failed (logged and recorded), did not change, must wait or is no longer ours.
   */
  const fetchBody = async (feed: FeedConfig, stillOurs: () => Promise<boolean>) => {
    const state = await store.getFeedState(feed.url);
    const failing = (state?.consecutiveFailures ?? 0) > 0;
    if (state?.nextPollAt != null && state.nextPollAt > Date.now() && (failing || deps.paced === true) && !(await breaksSooner(feed, state, failing))) {
      report.feeds.deferred++;
      log.debug({ feed: feed.url, until: new Date(state.nextPollAt).toISOString() }, failing ? 'feed waits (backoff or Retry-After)' : 'feed waits (adaptive polling)');
      return null;
    }
    if (deps.push && !deps.push.pollDue(feed.url)) {
      report.feeds.deferred++;
      log.debug({ feed: feed.url }, 'feed waits (its hub pushes it; polled every websub.safety_poll)');
      return null;
    }
    const polledBefore = state?.firstPolledAt != null;
    const access = await accessFor(feed);
    try {
      const fetched = await requests.run(hostOf(feed), async () => {
        if (signal?.aborted || !(await stillOurs())) return null;
        return fetchFeed({
          url: state?.fetchUrl ?? feed.url,
          etag: polledBefore ? state.etag : null,
          lastModified: polledBefore ? state.lastModified : null,
          timeoutMs: config.fetch.timeoutMs,
          maxBytes: config.fetch.maxBytes,
          agent: access.allowPrivate ? localAgent : agent,
          access,
          ...(signal ? { signal } : {}),
        });
      });
      if (!fetched) return null;
      if (fetched.permanentRedirect && fetched.permanentRedirect !== state?.fetchUrl) {
        await store.setFeedFetchUrl(feed.url, fetched.permanentRedirect);
        log.warn({ feed: feed.url, movedTo: fetched.permanentRedirect }, 'feed moved permanently; polling the new URL (update the config)');
      }
      if (fetched.kind === 'not-modified') {
        if (state?.failureReportedAt != null) log.info({ feed: feed.url }, 'feed recovered');
        await store.recordFeedUnchanged(feed.url, Date.now());
        await recordPace(feed, fetched.cache, state?.ttlMinutes ?? null);
        report.feeds.unchanged++;
        return null;
      }
      report.bytes += fetched.body.byteLength;
      // the feed's <ttl>, once its body is read (parseAndPrepare)
      return { fetched, state, polledBefore, ttlMinutes: null as number | null };
    } catch (error) {
      return failed(feed, error, state);
    }
  };

  /** A fetch or parse error is the feed's: logged, recorded, skipped. Anything else propagates. */
  const failed = async (feed: FeedConfig, error: unknown, state: FeedState | null): Promise<null> => {
    if (!(error instanceof FetchError || error instanceof FeedParseError)) throw error;
    // Cut short by shutdown: not the feed's fault, so no failure and no backoff; it is polled next run.
    if (signal?.aborted) return null;
    // A broken feed is logged and skipped; it never stops the cycle.
    await recordFailure(feed, error, (state?.consecutiveFailures ?? 0) + 1);
    return null;
  };

  /** Parses a fetched body and prepares its items, in one CPU slot: a parsed document lives only inside it. */
  const parseAndPrepare = async (feed: FeedConfig, body: NonNullable<Awaited<ReturnType<typeof fetchBody>>>) => {
    const { fetched, state, polledBefore } = body;
    let parsed;
    try {
      parsed = await readFeed(fetched.body, fetched.contentType, fetched.url, feed.language, feed.telegram);
    } catch (error) {
      return failed(feed, error, state);
    }
    // Items keep the configured URL as their feed, so identity survives redirects.
    for (const item of parsed.items) item.feedUrl = feed.url;
    // A channel that posted more since the last poll than its preview page shows: its older pages too, no gap.
    if (feed.telegram !== undefined && polledBefore) {
      parsed.items = await withOlderPosts(parsed.items, {
        channel: feed.telegram,
        pageUrl: fetched.url,
        feedUrl: feed.url,
        languageHint: feed.language,
        seen: async (items) => (await store.itemHashes(feed.url, items.map(itemKey))).size > 0,
        fetchPage: async (url) => {
          const access = await accessFor(feed);
          const older = await requests.run(hostOf(feed), () =>
            fetchFeed({ url, timeoutMs: config.fetch.timeoutMs, maxBytes: config.fetch.maxBytes, agent: access.allowPrivate ? localAgent : agent, access, ...(signal ? { signal } : {}) }),
          );
          if (older.kind !== 'ok') throw new FetchError('http', 'HTTP 304 to an unconditional request');
          report.bytes += older.body.byteLength;
          return older;
        },
        onError: (url, error) => log.warn({ feed: feed.url, page: url, error: error.message }, 'older posts of the channel could not be read'),
      });
    }
    if (deps.push) {
      const document = { hubs: parsed.hubs ?? [], self: parsed.self ?? null };
      const discovery = discoverHub({ header: linksFromHeader(fetched.link, fetched.url), document, fetchedUrl: fetched.url });
      void deps.push.discovered(feed, discovery).catch((error: unknown) => log.error({ err: error, feed: feed.url }, 'WebSub: could not subscribe'));
    }
    body.ttlMinutes = parsed.ttlMinutes ?? null;
    if (state?.failureReportedAt != null) log.info({ feed: feed.url }, 'feed recovered');
    const poll = { firstPoll: !polledBefore, etag: fetched.etag, lastModified: fetched.lastModified };
    return guarded(feed, () =>
      prepareFeed({
        feed,
        parsed,
        poll,
        config,
        store,
        stories,
        now: Date.now(),
        routing,
        log,
        ...(deps.summarizer ? { summarizer: deps.summarizer } : {}),
        ...(deps.embedder ? { embedder: deps.embedder } : {}),
      }),
    );
  };

  const pollFeed = async (feed: FeedConfig, stillOurs: () => Promise<boolean>): Promise<void> => {
    if (signal?.aborted) return;
    const body = await fetchBody(feed, stillOurs);
    if (!body) return;
    const prepared = await stages.run(async () => {
      // Through the event loop first: responses that arrived meanwhile free their request slots
      // and the next requests go out before this feed's parsing holds the thread.
      await new Promise((resolve) => setImmediate(resolve));
      return parseAndPrepare(feed, body);
    });
    if (!prepared) return;
    // A feed with nothing to alert decides no story: it is recorded without the story lock.
    if (prepared.routed.length === 0) {
      await commit(feed, await decideStories(prepared));
      await recordPace(feed, body.fetched.cache, body.ttlMinutes);
      return;
    }
    let committed = false;
    // Story decisions never race: one feed at a time in this process, and across every process on
    // the database the decide-and-commit step holds the store's "stories" lock, so a report
    // committed by another worker is in the index before the next decision.
    await serial(() =>
      store.withLock(STORY_LOCK, async () => {
        const outcome = await guarded(feed, () => decideStories(prepared));
        if (outcome) await commit(feed, outcome);
        committed = outcome !== null;
      }),
    );
    if (committed) await recordPace(feed, body.fetched.cache, body.ttlMinutes);
  };

  /** Runs a stage; an item that trips it is our bug, but it must not stop the other feeds (null then). */
  const guarded = async <T>(feed: FeedConfig, stage: () => Promise<T>): Promise<T | null> => {
    try {
      return await stage();
    } catch (error) {
      // A database failing (read-only, damaged, full) is not the feed's fault: it fails the cycle.
      if (error instanceof StoreBusyError || storeProblem(error) !== null) throw error;
      log.error({ feed: feed.url, err: error }, 'feed could not be processed');
      const state = await store.getFeedState(feed.url);
      await recordFailure(feed, new Error(`processing failed: ${(error as Error).message}`), (state?.consecutiveFailures ?? 0) + 1);
      return null;
    }
  };

  const commit = async (feed: FeedConfig, outcome: FeedOutcome): Promise<void> => {
    const { batch, counts } = outcome;
    // A failed commit is the store's fault, not the feed's: it propagates and fails the cycle.
    await store.commitFeedBatch(batch);
    report.feeds.ok++;
    report.items.fetched += counts.items;
    report.items.new += counts.new;
    report.items.matched += counts.matched;
    report.items.folded += counts.folded;
    report.items.updated += counts.updated;
    report.stories += counts.stories;
    report.alertsQueued += counts.alerts;
    log.debug({ feed: feed.url, ...counts }, 'feed processed');
  };

  // Feeds configured at a public address connect only to public ones (and the allow-list); a feed
  // configured on a private address (a local feed) may reach private ones.
  const allowList = new AddressAllowList(config.fetch.allowPrivate);
  const connectionsFor = (host: string) => perHostLimit(config, host);
  const agent = createFeedAgent({ connectTimeoutMs: config.fetch.connectTimeoutMs, publicOnly: allowList, connectionsFor });
  const localAgent = createFeedAgent({ connectTimeoutMs: config.fetch.connectTimeoutMs, connectionsFor });
  // The public-only pool checks names when it connects; the pre-check is left address literals.
  const accessFor = async (feed: FeedConfig) => ({ allowPrivate: await isPrivateTargetCached(feed.url), allowList, checkedAtConnect: true });
  const byUrl = new Map(config.feeds.map((feed) => [feed.url, feed]));
  const urls = [...byUrl.keys()];
  // Feeds are claimed from the store a batch at a time: with several workers on one database each
  // polls the feeds nobody else has this round, and a feed whose claimant died is claimed again
  // once its lease ends. One worker alone claims them all, in the same batches. A feed this cycle
  // polled is recorded as polled in its round: never due again within it.
  const round = deps.round ?? started;
  const polledBefore = round - (deps.roundMs ?? 0);
  const batchSize = Math.max(50, config.fetch.concurrency * 4);
  // Requests are I/O: many may be in flight, at most per_host to one host (the politeness bound).
  const requests = createKeyedLimiter(config.fetch.concurrency, (host) => perHostLimit(config, host));
  // Parsing and preparing are CPU: a few at a time, enough to overlap their awaits.
  const stages = createLimiter(Math.max(2, availableParallelism() * 2));
  try {
    while (!signal?.aborted) {
      const claimedAt = Date.now();
      const claimed = await store.claimFeeds({ urls, now: claimedAt, polledBefore, leaseMs: config.workers.leaseMs, limit: batchSize });
      if (claimed.length === 0) break;
      const feeds = claimed.map((url) => byUrl.get(url)).filter((feed): feed is FeedConfig => feed !== undefined);
      // Every feed of the batch starts at once and waits for a request slot of its host and of
      // the cycle; parsing and matching then take one of the few CPU slots.
      await Promise.all(
        feeds.map(async (feed) => {
          // A batch slower than the lease (slow hosts): the feeds it reaches late may have gone to
          // another worker meanwhile. Claimed again (renewing the lease if still ours), or left.
          let ours = true;
          const stillOurs = async () => {
            const late = Date.now() - claimedAt > config.workers.leaseMs / 2;
            if (late) ours = (await store.claimFeeds({ urls: [feed.url], now: Date.now(), polledBefore, leaseMs: config.workers.leaseMs, limit: 1 })).length > 0;
            return ours;
          };
          await pollFeed(feed, stillOurs);
          if (!ours) return;
          // Recorded as polled in this cycle's round (not when it got to the feed, which in a long
          // cycle is late in the period): due again in the next round, whenever in it.
          // Cut short by shutdown: not polled, so the next run (of any worker) polls it at once.
          await store.finishFeed(feed.url, signal?.aborted ? null : round);
        }),
      );
    }
  } finally {
    await agent.close();
    await localAgent.close();
  }
  // The rest is each one worker's at a time: whoever holds the role (a role once taken is kept).
  if (await store.tryRole(DIGESTS_ROLE)) await queueDueDigests(store, Date.now());
  report.delivery = await sendQueued(
    { config, store, sink, log, ...(signal ? { signal } : {}), ...(deps.sendQueue ? { sendQueue: deps.sendQueue } : {}) },
    deps.delivery ?? 'wait',
  );
  // Retention: the store stays bounded; what a pending message still needs is kept.
  if (await store.tryRole(PRUNE_ROLE)) {
    const pruned = await store.prune(Date.now() - config.dedup.retentionMs);
    if (pruned.items > 0 || pruned.stories > 0) log.info(pruned, 'pruned items and stories past retention');
  }
  report.interrupted = signal?.aborted ?? false;
  report.durationMs = Date.now() - started;
  log.info(report, 'cycle finished');
  return report;
}
