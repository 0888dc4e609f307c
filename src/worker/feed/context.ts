// What every stage of one feed's processing reads and writes: the job (the feed, its items, the
// config, the store, the story index, how to summarise) and what the stages build (the batch the
// store commits in one transaction, the counts, the stories the batch has touched).

import type { Config, FeedConfig } from '../../config/load.js';
import type { Embedder } from '../../dedup/embeddings.js';
import type { FeatureFinder } from '../../dedup/features.js';
import type { StoryIndex } from '../../dedup/story-index.js';
import type { StoryRules } from '../../dedup/story.js';
import type { ParsedFeed } from '../../feeds/item.js';
import type { Logger } from '../../log.js';
import type { FeedBatch, Store } from '../../store/store.js';
import type { Summarizer } from '../../summary/llm.js';
import type { Routing } from '../routing.js';
import type { StoryBook } from './story-book.js';

export interface FeedPoll {
  /** the feed's first successful poll: it only records the backlog, bar the newest few */
  firstPoll: boolean;
  etag: string | null;
  lastModified: string | null;
}

/** One feed poll to decide: what processFeed is given. */
export interface FeedJob {
  feed: FeedConfig;
  parsed: ParsedFeed;
  poll: FeedPoll;
  config: Config;
  store: Store;
  /** the shared story index; refreshed from the store before the decisions */
  stories: StoryIndex;
  now: number;
  /** extractive unless an endpoint is configured */
  summarizer?: Summarizer;
  /** the config's channels alone unless given (subscriptions) */
  routing?: Routing;
  /** confirms and finds folds across languages, when an embeddings endpoint is configured */
  embedder?: Embedder | null;
  log?: Logger;
}

export interface FeedCounts {
  items: number;
  new: number;
  matched: number;
  /** new stories this feed's items started */
  stories: number;
  alerts: number;
  folded: number;
  updated: number;
}

export interface FeedContext extends Required<Omit<FeedJob, 'embedder' | 'log'>> {
  embedder: Embedder | null;
  log: Logger | null;
  /** the feed's name as alerts show it */
  source: string;
  rules: StoryRules;
  finder: FeatureFinder;
  batch: FeedBatch;
  counts: FeedCounts;
  book: StoryBook;
}
