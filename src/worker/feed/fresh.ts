// Stage 1, fresh: which of a poll's items are new, which changed in place, and which of the new
// ones may alert (not backlog, not stale). Every new item gets its decision record here.

import { createHash } from 'node:crypto';
import type { Config } from '../../config/load.js';
import { itemKey } from '../../dedup/identity.js';
import type { Fingerprint } from '../../dedup/fingerprint.js';
import type { Item } from '../../feeds/item.js';
import type { ItemRecord } from '../../store/store.js';
import type { FeedContext } from './context.js';

/** A new item with its decision record, which later stages fill in. */
export interface NewItem {
  key: string;
  item: Item;
  record: ItemRecord;
  /** when it counts as published (see publishedAt) */
  at: number;
  /** its fingerprint, made once it is routed (before the story step, which is serialized) */
  print?: Fingerprint;
}

/**
 * When an item counts as published: its date, except that undated items and items dated in the
 * future (clock skew, time-zone bugs) count as published when first seen.
 */
export function publishedAt(item: Item, now: number): number {
  return Math.min(item.published?.getTime() ?? now, now);
}

/** What an item says, hashed: a feed that changes an item in place changes this. */
export function contentHash(item: Item): string {
  return createHash('sha1').update(`${item.title}\u0000${item.text}`).digest('base64url');
}

/** Which new items the poll may alert on; the rest are recorded as backlog or stale. */
export function selectFresh(items: Item[], firstPoll: boolean, config: Config, now: number): Set<Item> {
  const oldest = now - config.backlog.windowMs;
  const recent = items.filter((item) => publishedAt(item, now) >= oldest);
  if (!firstPoll) return new Set(recent);
  // A new feed must not flood the chat with its backlog.
  const newestFirst = [...recent].sort((a, b) => publishedAt(b, now) - publishedAt(a, now));
  return new Set(newestFirst.slice(0, config.backlog.maxItems));
}

/**
 * The poll's new items, oldest first (so the first report of a story is the one that alerts),
 * each recorded in the batch; items seen before whose text changed are recorded as updates in
 * place, never alerted again. Returns the new items that may alert.
 */
export async function freshItems(ctx: FeedContext): Promise<NewItem[]> {
  const { store, feed, now, config, batch, counts } = ctx;
  // A feed may list one item twice; the first occurrence wins.
  const byKey = new Map<string, Item>();
  for (const item of ctx.parsed.items) {
    const key = itemKey(item);
    if (!byKey.has(key)) byKey.set(key, item);
  }
  const known = await store.itemHashes(feed.url, [...byKey.keys()]);
  for (const [key, item] of byKey) {
    if (!known.has(key)) continue;
    const hash = contentHash(item);
    if (known.get(key) === hash) continue;
    if (known.get(key) !== null) counts.updated++;
    await store.recordItemUpdate(feed.url, key, hash, now);
  }
  const newItems: NewItem[] = [...byKey]
    .filter(([key]) => !known.has(key))
    .map(([key, item]) => {
      const at = publishedAt(item, now);
      const record: ItemRecord = { key, title: item.title, link: item.link, publishedAt: at, decision: 'no-match', watchlists: [], story: null, contentHash: contentHash(item), language: item.language };
      return { key, item, record, at };
    })
    .sort((a, b) => a.at - b.at);
  counts.new = newItems.length;
  const fresh = selectFresh(newItems.map((n) => n.item), ctx.poll.firstPoll, config, now);
  const alertable: NewItem[] = [];
  for (const entry of newItems) {
    batch.items.push(entry.record);
    if (fresh.has(entry.item)) alertable.push(entry);
    else entry.record.decision = ctx.poll.firstPoll ? 'backlog' : 'stale';
  }
  return alertable;
}
