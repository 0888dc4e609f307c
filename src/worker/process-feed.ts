// One feed's parsed items through the pipeline: seen? → backlog/stale? → match → route to
// channels → same story as an earlier alert? → summarise → render → one batch for the store.

import type { ChannelConfig, Config, FeedConfig } from '../config/load.js';
import { itemKey, storyKeys } from '../dedup/identity.js';
import type { Item, ParsedFeed } from '../feeds/item.js';
import type { WatchlistMatch } from '../match/matcher.js';
import type { Alert } from '../summary/render.js';
import { renderHtml, renderText } from '../summary/render.js';
import { summarize } from '../summary/summarize.js';
import { destinationKey, type FeedBatch, type ItemRecord, type Store, type StoryRef } from '../store/store.js';

export interface FeedOutcome {
  batch: FeedBatch;
  counts: { items: number; new: number; matched: number; alerts: number; folded: number };
}

interface Destination {
  channel: ChannelConfig;
  watchlists: string[];
}

function destinationsFor(channels: ChannelConfig[], matches: WatchlistMatch[]): Destination[] {
  const matched = new Set(matches.map((m) => m.watchlist));
  return channels.flatMap((channel) => {
    const watchlists = channel.watchlists.filter((w) => matched.has(w));
    return watchlists.length > 0 ? [{ channel, watchlists }] : [];
  });
}

/**
 * When an item counts as published: its date, except that undated items and items dated in the
 * future (clock skew, time-zone bugs) count as published when first seen.
 */
function publishedAt(item: Item, now: number): number {
  return Math.min(item.published?.getTime() ?? now, now);
}

/** Which new items the poll may alert on; the rest are recorded as backlog or stale. */
function selectFresh(items: Item[], firstPoll: boolean, config: Config, now: number): Set<Item> {
  const oldest = now - config.backlog.windowMs;
  const recent = items.filter((item) => publishedAt(item, now) >= oldest);
  if (!firstPoll) return new Set(recent);
  // A new feed must not flood the chat with its backlog.
  const newestFirst = [...recent].sort((a, b) => publishedAt(b, now) - publishedAt(a, now));
  return new Set(newestFirst.slice(0, config.backlog.maxItems));
}

/** Decides what each new item of a feed becomes, and builds the batch that records it. */
export async function processFeed(
  feed: FeedConfig,
  parsed: ParsedFeed,
  poll: { firstPoll: boolean; etag: string | null; lastModified: string | null },
  config: Config,
  store: Store,
  now: number,
): Promise<FeedOutcome> {
  const { firstPoll } = poll;
  const source = feed.name ?? parsed.title ?? new URL(feed.url).hostname;

  // A feed may list one item twice; the first occurrence wins.
  const byKey = new Map<string, Item>();
  for (const item of parsed.items) {
    const key = itemKey(item);
    if (!byKey.has(key)) byKey.set(key, item);
  }
  const unseen = await store.unseenItemKeys(feed.url, [...byKey.keys()]);
  const newItems = [...byKey].filter(([key]) => unseen.has(key));
  const fresh = selectFresh(newItems.map(([, item]) => item), firstPoll, config, now);

  const batch: FeedBatch = {
    feedUrl: feed.url,
    at: now,
    items: [],
    newStories: [],
    storyKeys: [],
    outbox: [],
    fetch: { etag: poll.etag, lastModified: poll.lastModified },
  };
  const counts = { items: parsed.items.length, new: newItems.length, matched: 0, alerts: 0, folded: 0 };
  // Stories created earlier in this batch, by key, so two reports in one feed fold too.
  const batchStories = new Map<string, { ref: StoryRef; destinations: Set<string> }>();

  // Oldest first, so the first report of a story is the one that alerts.
  newItems.sort(([, a], [, b]) => publishedAt(a, now) - publishedAt(b, now));
  for (const [key, item] of newItems) {
    const record: ItemRecord = {
      key,
      title: item.title,
      link: item.link,
      publishedAt: publishedAt(item, now),
      decision: 'no-match',
      watchlists: [],
      story: null,
    };
    batch.items.push(record);
    if (!fresh.has(item)) {
      record.decision = firstPoll ? 'backlog' : 'stale';
      continue;
    }
    const matches = config.matcher.match(item.title, item.text);
    if (matches.length === 0) continue;
    counts.matched++;
    record.watchlists = matches.map((m) => m.watchlist);
    const destinations = destinationsFor(config.channels, matches);
    if (destinations.length === 0) {
      record.decision = 'unrouted';
      continue;
    }

    const keys = storyKeys(item);
    let story = keys.map((k) => batchStories.get(k)).find((s) => s !== undefined);
    if (!story) {
      const existing = await store.findStory(keys, now - config.dedup.windowMs);
      if (existing) {
        story = { ref: { id: existing.id }, destinations: existing.destinations };
        for (const k of keys) batch.storyKeys.push({ storyId: existing.id, key: k });
      }
    }
    if (!story) {
      batch.newStories.push({ title: item.title, link: item.link, keys });
      story = { ref: { newIndex: batch.newStories.length - 1 }, destinations: new Set() };
    }
    for (const k of keys) batchStories.set(k, story);
    record.story = story.ref;

    const pending = destinations.filter((d) => !story.destinations.has(destinationKey(d.channel.chat, d.channel.threadId)));
    if (pending.length === 0) {
      record.decision = 'folded';
      counts.folded++;
      continue;
    }
    record.decision = 'alerted';
    const forms = new Set(matches.flatMap((m) => [...m.forms]));
    const summary = summarize(item, forms);
    for (const { channel, watchlists: names } of pending) {
      const alert: Alert = { summary, source, link: item.link, time: new Date(publishedAt(item, now)), watchlists: names };
      batch.outbox.push({ story: story.ref, chat: channel.chat, threadId: channel.threadId, html: renderHtml(alert), text: renderText(alert) });
      story.destinations.add(destinationKey(channel.chat, channel.threadId));
      counts.alerts++;
    }
  }
  return { batch, counts };
}
