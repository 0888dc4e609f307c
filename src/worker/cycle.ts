// One polling cycle: fetch every feed (concurrently, within limits), push each through the
// pipeline (one feed at a time, so story decisions never race), then drain the outbox.

import type { Config, FeedConfig } from '../config/load.js';
import { drainOutbox, type DrainReport } from '../delivery/outbox.js';
import type { AlertSink } from '../delivery/sink.js';
import { FetchError, fetchFeed } from '../feeds/fetch.js';
import { FeedParseError } from '../feeds/parse.js';
import { readFeed } from '../feeds/read.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/store.js';
import { processFeed, type FeedOutcome } from './process-feed.js';

export interface CycleDeps {
  config: Config;
  store: Store;
  sink: AlertSink;
  log: Logger;
  signal?: AbortSignal;
}

export interface CycleReport {
  feeds: { ok: number; unchanged: number; failed: number };
  items: { fetched: number; new: number; matched: number; folded: number };
  alertsQueued: number;
  delivery: DrainReport;
  durationMs: number;
}

/** Runs `task` over `inputs` with at most `limit` running at once. */
async function forEachLimited<T>(inputs: T[], limit: number, task: (input: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, inputs.length) }, async () => {
    while (next < inputs.length) {
      const input = inputs[next++] as T;
      await task(input);
    }
  });
  await Promise.all(workers);
}

/** Serialises async sections: each runs after the previous one has settled. */
function createSerialQueue(): <R>(section: () => Promise<R>) => Promise<R> {
  let tail: Promise<unknown> = Promise.resolve();
  return <R>(section: () => Promise<R>) => {
    const run = tail.then(section, section);
    tail = run.catch(() => undefined);
    return run;
  };
}

export async function runCycle(deps: CycleDeps): Promise<CycleReport> {
  const { config, store, sink, log, signal } = deps;
  const started = Date.now();
  const report: CycleReport = {
    feeds: { ok: 0, unchanged: 0, failed: 0 },
    items: { fetched: 0, new: 0, matched: 0, folded: 0 },
    alertsQueued: 0,
    delivery: { sent: 0, retried: 0, failed: 0, pending: 0 },
    durationMs: 0,
  };
  const serial = createSerialQueue();

  /** Fetches and parses one feed; null when it failed (logged and recorded) or did not change. */
  const fetchAndParse = async (feed: FeedConfig) => {
    const feedLog = log.child({ feed: feed.url });
    try {
      const state = await store.getFeedState(feed.url);
      const polledBefore = state?.firstPolledAt != null;
      const fetched = await fetchFeed({
        url: feed.url,
        etag: polledBefore ? state.etag : null,
        lastModified: polledBefore ? state.lastModified : null,
        timeoutMs: config.fetch.timeoutMs,
        maxBytes: config.fetch.maxBytes,
        ...(signal ? { signal } : {}),
      });
      if (fetched.kind === 'not-modified') {
        await store.recordFeedUnchanged(feed.url, Date.now());
        report.feeds.unchanged++;
        feedLog.debug('feed not modified');
        return null;
      }
      const parsed = await readFeed(fetched.body, fetched.contentType, fetched.url, feed.language);
      // Items keep the configured URL as their feed, so identity survives redirects.
      for (const item of parsed.items) item.feedUrl = feed.url;
      return { parsed, poll: { firstPoll: !polledBefore, etag: fetched.etag, lastModified: fetched.lastModified } };
    } catch (error) {
      if (!(error instanceof FetchError || error instanceof FeedParseError)) throw error;
      // A broken feed is logged and skipped; it never stops the cycle.
      report.feeds.failed++;
      feedLog.warn({ error: error.message, errorType: error.name }, 'feed skipped');
      await store.recordFeedFailure(feed.url, error.message, Date.now());
      return null;
    }
  };

  const pollFeed = async (feed: FeedConfig): Promise<void> => {
    if (signal?.aborted) return;
    const fetched = await fetchAndParse(feed);
    if (!fetched) return;
    await serial(async () => {
      let outcome: FeedOutcome;
      try {
        outcome = await processFeed(feed, fetched.parsed, fetched.poll, config, store, Date.now());
      } catch (error) {
        // An item that trips the pipeline is our bug, but it must not stop the other feeds.
        report.feeds.failed++;
        log.error({ feed: feed.url, err: error }, 'feed could not be processed');
        await store.recordFeedFailure(feed.url, `processing failed: ${(error as Error).message}`, Date.now());
        return;
      }
      const { batch, counts } = outcome;
      // A failed commit is the store's fault, not the feed's: it propagates and fails the cycle.
      await store.commitFeedBatch(batch);
      report.feeds.ok++;
      report.items.fetched += counts.items;
      report.items.new += counts.new;
      report.items.matched += counts.matched;
      report.items.folded += counts.folded;
      report.alertsQueued += counts.alerts;
      log.debug({ feed: feed.url, ...counts }, 'feed processed');
    });
  };

  await forEachLimited(config.feeds, config.fetch.concurrency, pollFeed);
  report.delivery = await drainOutbox({
    store,
    sink,
    log,
    deadline: Date.now() + config.delivery.maxWaitMs,
    ...(signal ? { signal } : {}),
  });
  report.durationMs = Date.now() - started;
  log.info(report, 'cycle finished');
  return report;
}
