// One feed's parsed items through the pipeline's stages (src/worker/feed/): fresh → match and
// route → story → render, each writing into one batch that the store commits in one transaction
// (items seen and their alerts together). The first two need this feed alone (prepareFeed); the
// story step needs every report any worker committed, so it runs serialized (decideStories),
// after bringing the story index up to date from the store.

import type { Config } from '../config/load.js';
import { FeatureFinder } from '../dedup/features.js';
import { DEFAULT_STORY_RULES, type StoryRules } from '../dedup/story.js';
import { extractive } from '../summary/llm.js';
import { emptyFeedBatch, type FeedBatch } from '../store/store.js';
import type { FeedContext, FeedCounts, FeedJob } from './feed/context.js';
import { freshItems, type NewItem } from './feed/fresh.js';
import { preferLanguage, renderAlerts, pendingDestinations, updateStoryAlerts } from './feed/render.js';
import { matchAndRoute, type Destination } from './feed/route.js';
import { fingerprint } from '../dedup/fingerprint.js';
import { assignStory } from './feed/story.js';
import { StoryBook } from './feed/story-book.js';
import { configRouting } from './routing.js';

export type { FeedJob } from './feed/context.js';
export { contentHash } from './feed/fresh.js';

export interface FeedOutcome {
  batch: FeedBatch;
  counts: FeedCounts;
}

// The feature finder is built once per loaded config (it compiles every entity and event word).
const finders = new WeakMap<Config, FeatureFinder>();
function finderFor(config: Config): FeatureFinder {
  let finder = finders.get(config);
  if (!finder) {
    finder = new FeatureFinder(config.entities, config.events);
    finders.set(config, finder);
  }
  return finder;
}

export function storyRules(config: Config): StoryRules {
  return { ...DEFAULT_STORY_RULES, threshold: config.dedup.similarity, crossLanguage: config.dedup.crossLanguage };
}

/** The context the stages share for one job: what they read, and the batch they build. */
export function feedContext(job: FeedJob): FeedContext {
  const { feed, parsed, config, now } = job;
  return {
    ...job,
    summarizer: job.summarizer ?? extractive,
    routing: job.routing ?? configRouting(config),
    embedder: job.embedder ?? null,
    log: job.log ?? null,
    source: feed.name ?? parsed.title ?? new URL(feed.url).hostname,
    rules: storyRules(config),
    finder: finderFor(config),
    batch: { ...emptyFeedBatch(feed.url, now, { etag: job.poll.etag, lastModified: job.poll.lastModified }), feedTitle: parsed.title ?? null },
    counts: { items: parsed.items.length, new: 0, matched: 0, stories: 0, alerts: 0, folded: 0, updated: 0 },
    book: new StoryBook(),
  };
}

/** A feed's items after the stages that need no other feed: which are new, and where each matched one goes. */
export interface PreparedFeed {
  ctx: FeedContext;
  /** the new items that go somewhere, with their destinations and fingerprints, oldest first */
  routed: Array<{ entry: NewItem; destinations: Destination[] }>;
}

/**
 * The stages that depend on this feed alone: fresh (the items this feed has not recorded; the
 * feed is this worker's while it holds the claim), match and route, and each routed item's
 * fingerprint. They run outside the story step, which is serialized across every worker.
 */
export async function prepareFeed(job: FeedJob): Promise<PreparedFeed> {
  const ctx = feedContext(job);
  const routed: PreparedFeed['routed'] = [];
  for (const entry of await freshItems(ctx)) {
    const destinations = matchAndRoute(ctx, entry);
    if (destinations.length === 0) continue;
    entry.print = fingerprint(entry.item.title, entry.item.text, ctx.finder);
    routed.push({ entry, destinations });
  }
  return { ctx, routed };
}

/**
 * The story step: brings the story index up to date from the store (so reports any worker
 * committed count), then decides each routed item's story and alerts. Run it, and commit its
 * batch, under the store's story lock when `routed` is not empty.
 */
export async function decideStories(prepared: PreparedFeed): Promise<FeedOutcome> {
  const { ctx, routed } = prepared;
  if (routed.length > 0) await ctx.stories.refresh(ctx.now);
  for (const { entry, destinations } of routed) {
    const step = await assignStory(ctx, entry);
    updateStoryAlerts(ctx, step, entry);
    const pending = pendingDestinations(step.story, destinations);
    if (pending.length < destinations.length) await preferLanguage(ctx, entry, step.story, destinations.filter((d) => !pending.includes(d)));
    if (pending.length === 0) {
      entry.record.decision = 'folded';
      ctx.counts.folded++;
      continue;
    }
    entry.record.decision = 'alerted';
    await renderAlerts(ctx, entry, step.story, pending);
  }
  ctx.counts.stories = ctx.batch.newStories.length;
  return { batch: ctx.batch, counts: ctx.counts };
}

/** Decides what each new item of a feed becomes, and builds the batch that records it. */
export async function processFeed(job: FeedJob): Promise<FeedOutcome> {
  return decideStories(await prepareFeed(job));
}
