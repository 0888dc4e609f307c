// One feed's parsed items through the pipeline: seen? → backlog/stale? → match → route to
// channels → same story as an earlier alert? → summarise → render → one batch for the store.

import { createHash } from 'node:crypto';
import type { ChannelConfig, Config, FeedConfig } from '../config/load.js';
import { EntityFinder, fingerprint, jaccard } from '../dedup/fingerprint.js';
import { itemKey, storyKeys } from '../dedup/identity.js';
import type { SimilarReport } from '../dedup/report-index.js';
import { DEFAULT_STORY_RULES, findStory, type StoryRules } from '../dedup/story.js';
import type { Item, ParsedFeed } from '../feeds/item.js';
import type { WatchlistMatch } from '../match/matcher.js';
import {
  MESSAGE_LIMIT,
  renderHtml,
  renderReply,
  renderStoryUpdate,
  renderText,
  UPDATE_ROOM,
  type Alert,
  type OtherReport,
  type RenderOptions,
} from '../summary/render.js';
import { extractive, type Summarizer } from '../summary/llm.js';
import { configRouting, type Routing } from './routing.js';
import {
  destinationKey,
  type FeedBatch,
  type ItemRecord,
  type KnownReport,
  type OutboxMessage,
  type Store,
  type StoryAlert,
  type StoryMatch,
  type StoryRef,
} from '../store/store.js';

export interface FeedOutcome {
  batch: FeedBatch;
  /** stories: new stories this feed's items started */
  counts: { items: number; new: number; matched: number; stories: number; alerts: number; folded: number; updated: number };
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

/** A story as this batch knows it: from the store, or created by the batch. */
interface BatchStory {
  ref: StoryRef;
  destinations: Set<string>;
  /** its alerts from earlier polls (rows in the outbox) */
  alerts: StoryAlert[];
  /** its alerts created by this batch, by destination, with their text as first rendered: rewritten in place */
  newAlerts: Map<string, { message: OutboxMessage; base: { html: string; text: string } }>;
  reports: KnownReport[];
  breaking: boolean;
}

// The entity finder is built once per loaded config (it compiles every entity).
const finders = new WeakMap<Config, EntityFinder>();
function finderFor(config: Config): EntityFinder {
  let finder = finders.get(config);
  if (!finder) {
    finder = new EntityFinder(config.entities);
    finders.set(config, finder);
  }
  return finder;
}

/** What an item says, hashed: a feed that changes an item in place changes this. */
export function contentHash(item: Item): string {
  return createHash('sha1').update(`${item.title}\u0000${item.text}`).digest('base64url');
}

/** The other outlets' reports, for «also reported by»: one per outlet, not the alerting one. */
function otherOutlets(reports: KnownReport[]): OtherReport[] {
  const first = reports[0]?.source;
  const seen = new Set<string>(first === undefined ? [] : [first]);
  const others: OtherReport[] = [];
  for (const report of reports) {
    if (seen.has(report.source)) continue;
    seen.add(report.source);
    others.push({ source: report.source, link: report.link });
  }
  return others;
}

/** Whether the story now has `reports` reports from `outlets` outlets within the last `withinMs`. */
function isBurst(reports: KnownReport[], now: number, burst: Config['dedup']['burst']): boolean {
  const recent = reports.filter((r) => r.at >= now - burst.withinMs);
  return recent.length >= burst.reports && new Set(recent.map((r) => r.source)).size >= burst.outlets;
}

/** Decides what each new item of a feed becomes, and builds the batch that records it. */
export async function processFeed(
  feed: FeedConfig,
  parsed: ParsedFeed,
  poll: { firstPoll: boolean; etag: string | null; lastModified: string | null },
  config: Config,
  store: Store,
  now: number,
  summarizer: Summarizer = extractive,
  routing: Routing = configRouting(config),
): Promise<FeedOutcome> {
  const { firstPoll } = poll;
  const source = feed.name ?? parsed.title ?? new URL(feed.url).hostname;
  const since = now - config.dedup.windowMs;
  const rules: StoryRules = {
    ...DEFAULT_STORY_RULES,
    threshold: config.dedup.similarity,
    crossLanguage: config.dedup.crossLanguage,
  };

  // A feed may list one item twice; the first occurrence wins.
  const byKey = new Map<string, Item>();
  for (const item of parsed.items) {
    const key = itemKey(item);
    if (!byKey.has(key)) byKey.set(key, item);
  }
  const known = await store.itemHashes(feed.url, [...byKey.keys()]);
  const counts = { items: parsed.items.length, new: 0, matched: 0, stories: 0, alerts: 0, folded: 0, updated: 0 };
  // An item seen before whose title or text changed is an update in place, never a new alert.
  for (const [key, item] of byKey) {
    if (!known.has(key)) continue;
    const hash = contentHash(item);
    if (known.get(key) === hash) continue;
    if (known.get(key) !== null) counts.updated++;
    await store.recordItemUpdate(feed.url, key, hash, now);
  }
  const newItems = [...byKey].filter(([key]) => !known.has(key));
  counts.new = newItems.length;
  const fresh = selectFresh(newItems.map(([, item]) => item), firstPoll, config, now);

  const batch: FeedBatch = {
    feedUrl: feed.url,
    at: now,
    items: [],
    newStories: [],
    storyKeys: [],
    reports: [],
    outbox: [],
    outboxRewrites: [],
    breaking: [],
    digestItems: [],
    fetch: { etag: poll.etag, lastModified: poll.lastModified },
  };
  // Stories this batch has touched, by key and by id, so two reports in one feed fold too.
  const byStoryKey = new Map<string, BatchStory>();
  const byStoryId = new Map<number, BatchStory>();
  // Reports this batch adds, for near-duplicates within the batch (the store knows them after commit).
  const batchReports: Array<{ story: BatchStory; report: SimilarReport; termHashes: Uint32Array }> = [];

  const fromStore = (match: StoryMatch): BatchStory => {
    const known = byStoryId.get(match.id);
    if (known) return known;
    const story: BatchStory = {
      ref: { id: match.id },
      destinations: match.destinations,
      alerts: match.alerts,
      newAlerts: new Map(),
      reports: match.reports,
      breaking: match.breakingAt !== null,
    };
    byStoryId.set(match.id, story);
    return story;
  };

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
      contentHash: contentHash(item),
    };
    batch.items.push(record);
    if (!fresh.has(item)) {
      record.decision = firstPoll ? 'backlog' : 'stale';
      continue;
    }
    const matches = routing.matcher.match(item.title, item.text);
    if (matches.length === 0) continue;
    counts.matched++;
    record.watchlists = matches.map((m) => m.watchlist);
    const destinations = destinationsFor(routing.channels, matches);
    if (destinations.length === 0) {
      record.decision = 'unrouted';
      continue;
    }

    // Same story? Exact keys first, then a near-duplicate or a report in another language.
    const keys = storyKeys(item);
    const print = fingerprint(item.title, item.text, finderFor(config));
    const probe = { fingerprint: print, language: item.language };
    let story = keys.map((k) => byStoryKey.get(k)).find((s) => s !== undefined);
    if (!story) {
      const existing = await store.findStory(keys, since);
      if (existing) story = fromStore(existing);
    }
    if (!story) {
      const local = batchReports.map(({ story: s, report, termHashes }) => ({ ...report, similarity: jaccard(print.termHashes, termHashes), storyId: batchReports.findIndex((r) => r.story === s) }));
      const localVerdict = findStory(probe, { similar: local.sort((a, b) => b.similarity - a.similarity), withNumbers: local }, now, rules);
      if (localVerdict) story = batchReports[localVerdict.storyId]?.story;
    }
    if (!story) {
      const crossSince = Math.max(since, now - rules.crossLanguageWindowMs);
      const verdict = findStory(
        probe,
        {
          similar: await store.similarReports(print.signature, print.bands, print.termHashes, since, rules.threshold),
          withNumbers: rules.crossLanguage ? await store.reportsWithNumbers(print.numbers, crossSince) : [],
        },
        now,
        rules,
      );
      const match = verdict ? await store.getStory(verdict.storyId) : null;
      if (match) story = fromStore(match);
    }
    if (!story) {
      batch.newStories.push({ title: item.title, link: item.link, keys });
      story = { ref: { newIndex: batch.newStories.length - 1 }, destinations: new Set(), alerts: [], newAlerts: new Map(), reports: [], breaking: false };
    } else if ('id' in story.ref) {
      for (const k of keys) batch.storyKeys.push({ storyId: story.ref.id, key: k });
    }
    for (const k of keys) byStoryKey.set(k, story);
    record.story = story.ref;

    const report = { at: now, source, link: item.link, entities: print.entities, numbers: print.numbers };
    const addsSomething =
      story.reports.length > 0 &&
      (print.numbers.some((n) => !story.reports.some((r) => r.numbers.includes(n))) ||
        print.entities.some((e) => !story.reports.some((r) => r.entities.includes(e))));
    const newOutlet = story.reports.length > 0 && !story.reports.some((r) => r.source === source);
    story.reports.push(report);
    batch.reports.push({ story: story.ref, title: item.title, language: item.language, signature: print.signature, bands: print.bands, termHashes: print.termHashes, ...report });
    batchReports.push({
      story,
      report: { storyId: 0, at: now, language: item.language, similarity: 0, entities: print.entities, numbers: print.numbers },
      termHashes: print.termHashes,
    });
    const becameBreaking = !story.breaking && isBurst(story.reports, now, config.dedup.burst);
    if (becameBreaking) {
      story.breaking = true;
      batch.breaking.push(story.ref);
    }
    if (newOutlet || becameBreaking) updateStoryAlerts(story, batch, routing.channels, { title: item.title, source, link: item.link }, addsSomething || becameBreaking);

    const pending = destinations.filter((d) => !story.destinations.has(destinationKey(d.channel.chat, d.channel.threadId)));
    if (pending.length === 0) {
      record.decision = 'folded';
      counts.folded++;
      continue;
    }
    record.decision = 'alerted';
    const forms = new Set(matches.flatMap((m) => [...m.forms]));
    const summary = await summarizer.summarize(item, forms, config.summary.length);
    for (const { channel, watchlists: names } of pending) {
      const labels = [...new Set(names.map((name) => routing.labels.get(name) ?? name))];
      const alert: Alert = { summary, source, link: item.link, time: new Date(publishedAt(item, now)), watchlists: labels, matchedForms: forms, language: item.language };
      // Room is left for what a later edit adds: the breaking mark and «also reported by».
      const options: RenderOptions = { template: channel.template, timeZone: config.summary.timeZone, now: new Date(now), maxLength: MESSAGE_LIMIT - UPDATE_ROOM };
      const destination = destinationKey(channel.chat, channel.threadId);
      if (channel.digest !== undefined && channel.digest !== 'off') {
        // Collected for the chat's digest: one line per story, sent with the others later.
        const line = { ...options, template: 'compact' as const };
        batch.digestItems.push({ story: story.ref, chat: channel.chat, html: renderHtml(alert, line), text: renderText(alert, line) });
        story.destinations.add(destination);
        counts.alerts++;
        continue;
      }
      const message: OutboxMessage = {
        story: story.ref,
        kind: 'alert',
        targetId: null,
        chat: channel.chat,
        threadId: channel.threadId,
        linkPreview: channel.linkPreview,
        html: renderHtml(alert, options),
        text: renderText(alert, options),
      };
      batch.outbox.push(message);
      story.destinations.add(destination);
      story.newAlerts.set(destination, { message, base: { html: message.html, text: message.text } });
      counts.alerts++;
    }
  }
  counts.stories = batch.newStories.length;
  return { batch, counts };
}

/**
 * Keeps a story's alerts current after another outlet reported it, as each channel asks: an
 * alert not sent yet is rewritten in place; a sent one is edited (one pending edit per alert,
 * rewritten as reports come) or gets a reply when the report adds numbers or names.
 */
function updateStoryAlerts(story: BatchStory, batch: FeedBatch, channels: ChannelConfig[], latest: OtherReport & { title: string }, worthAReply: boolean): void {
  const others = otherOutlets(story.reports);
  const modeOf = (chat: string, threadId: number | null) =>
    channels.find((c) => c.chat === chat && c.threadId === threadId)?.updates ?? 'edit';
  for (const { message, base } of story.newAlerts.values()) {
    if (modeOf(message.chat, message.threadId) === 'silent') continue;
    Object.assign(message, renderStoryUpdate(base, story.breaking, others));
  }
  for (const alert of story.alerts) {
    const mode = modeOf(alert.chat, alert.threadId);
    if (mode === 'silent' || alert.status === 'failed') continue;
    const updated = renderStoryUpdate({ html: alert.baseHtml, text: alert.baseText }, story.breaking, others);
    if (alert.status === 'pending') {
      rewrite(batch, alert.outboxId, updated);
      continue;
    }
    if (mode === 'edit') {
      const queued = batch.outbox.find((m) => m.kind === 'edit' && m.targetId === alert.outboxId);
      // One edit per alert waits at a time: a newer one replaces its text.
      if (queued) Object.assign(queued, updated);
      else if (alert.pendingEditId !== null) rewrite(batch, alert.pendingEditId, updated);
      else batch.outbox.push({ story: story.ref, kind: 'edit', targetId: alert.outboxId, chat: alert.chat, threadId: alert.threadId, linkPreview: alert.linkPreview, ...updated });
    } else if (worthAReply) {
      batch.outbox.push({ story: story.ref, kind: 'reply', targetId: alert.outboxId, chat: alert.chat, threadId: alert.threadId, linkPreview: false, ...renderReply(latest, story.breaking) });
    }
  }
}

/** Rewrites a pending outbox row; a later rewrite of the same row in this batch replaces an earlier one. */
function rewrite(batch: FeedBatch, id: number, content: { html: string; text: string }): void {
  const earlier = batch.outboxRewrites.find((r) => r.id === id);
  if (earlier) Object.assign(earlier, content);
  else batch.outboxRewrites.push({ id, ...content });
}
