// What the operator page shows, worked out from plain reads of the store and the config: feed
// health, alerts per hour per watchlist, where each story's messages went. Pure, so each rule is
// tested alone. Subscribers' chats are never named here: a destination is shown by name only when
// the config names it (a channel of the operator's), and chats that subscribed through the bot
// are counted.

import type { ChannelConfig, FeedConfig } from '../config/load.js';
import type { FeedState, SentAlerts, StoryOverview } from '../store/store.js';

export const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** The plot's window: the last seven days, hour by hour. */
export const VOLUME_HOURS = 7 * 24;

/** Who a destination is, as the page may show it. */
export class Destinations {
  /** chat (as stored) → the config's name for it */
  private readonly named = new Map<string, string>();

  constructor(channels: readonly ChannelConfig[], moves: ReadonlyMap<string, string>) {
    for (const channel of channels) {
      this.named.set(channel.chat, channel.chat);
      // A config channel Telegram moved (group → supergroup) is still the config's.
      const moved = moves.get(channel.chat);
      if (moved !== undefined) this.named.set(moved, channel.chat);
    }
  }

  /** The config's name for `chat`, or null for a subscriber's chat. */
  nameOf(chat: string): string | null {
    return this.named.get(chat) ?? null;
  }
}

export type FeedHealth = 'ok' | 'failing' | 'new';

export interface FeedRow {
  name: string;
  /** the feed's URL without credentials */
  url: string;
  health: FeedHealth;
  failingSince: number | null;
  lastSuccessAt: number | null;
  failures: number;
  lastError: string | null;
  nextPollAt: number | null;
  /** new entries a day over the last week (or since its first poll), null before one */
  perDay: number | null;
}

/** A URL as the page shows it: user and password taken out. */
export function shownUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.username === '' && parsed.password === '') return url;
    parsed.username = '';
    parsed.password = '';
    return parsed.href;
  } catch {
    return url;
  }
}

/** The configured feeds with what the store knows of each: failing first (the longest first), then those not polled yet, then the rest, each in config order. */
export function feedRows(feeds: readonly FeedConfig[], states: readonly FeedState[], itemCounts: ReadonlyMap<string, number>, now: number): FeedRow[] {
  const byUrl = new Map(states.map((s) => [s.url, s]));
  const rank: Record<FeedHealth, number> = { failing: 0, new: 1, ok: 2 };
  const rows = feeds.map((feed) => {
    const state = byUrl.get(feed.url) ?? null;
    const health: FeedHealth = state && state.consecutiveFailures > 0 ? 'failing' : state?.lastSuccessAt != null ? 'ok' : 'new';
    let perDay: number | null = null;
    if (state?.firstPolledAt != null) {
      const days = Math.min(7, Math.max(1, (now - state.firstPolledAt) / DAY));
      perDay = (itemCounts.get(feed.url) ?? 0) / days;
    }
    return {
      name: feed.name ?? state?.title ?? (feed.telegram !== undefined ? `@${feed.telegram}` : new URL(feed.url).hostname),
      url: shownUrl(feed.url),
      health,
      failingSince: state?.failingSince ?? null,
      lastSuccessAt: state?.lastSuccessAt ?? null,
      failures: state?.consecutiveFailures ?? 0,
      lastError: state?.lastError ?? null,
      nextPollAt: state?.nextPollAt ?? null,
      perDay,
    };
  });
  // Array.prototype.sort is stable: config order within each group.
  return rows.sort((a, b) => rank[a.health] - rank[b.health] || (a.health === 'failing' ? (a.failingSince ?? now) - (b.failingSince ?? now) : 0));
}

/** The series' names for alerts to subscribers' chats, and for alerts no watchlist of their destination explains. */
export const SUBSCRIBERS = 'subscribers';
export const OTHER = 'other';

export interface VolumeSeries {
  /** a watchlist's name, or SUBSCRIBERS, or OTHER */
  name: string;
  /** alerts per hour, oldest first */
  counts: number[];
  total: number;
  /** in the last 24 hours */
  lastDay: number;
}

export interface Volume {
  /** the start of the first hour */
  start: number;
  hours: number;
  series: VolumeSeries[];
}

/**
 * Alerts per hour per watchlist over the last seven days. An alert counts under each watchlist
 * its destination follows that its story's first report matched; alerts to subscribers' chats
 * count under one series, so no subscriber's own watchlist is named.
 */
export function alertVolume(sent: SentAlerts, channels: readonly ChannelConfig[], destinations: Destinations, now: number): Volume {
  const end = Math.floor(now / HOUR) * HOUR + HOUR;
  const start = end - VOLUME_HOURS * HOUR;
  const follows = new Map<string, Set<string>>();
  for (const channel of channels) follows.set(channel.chat, new Set([...(follows.get(channel.chat) ?? []), ...channel.watchlists]));
  const series = new Map<string, VolumeSeries>();
  const add = (name: string, hour: number, at: number): void => {
    let entry = series.get(name);
    if (!entry) series.set(name, (entry = { name, counts: new Array<number>(VOLUME_HOURS).fill(0), total: 0, lastDay: 0 }));
    entry.counts[hour] = (entry.counts[hour] ?? 0) + 1;
    entry.total++;
    if (at >= now - DAY) entry.lastDay++;
  };
  // Per destination and story, the series an alert counts under (a story's many alerts share it).
  const seriesOf = new Map<string, string[]>();
  for (const alert of sent.alerts) {
    if (alert.at < start || alert.at >= end) continue;
    const hour = Math.floor((alert.at - start) / HOUR);
    const name = destinations.nameOf(alert.chat);
    if (name === null) {
      add(SUBSCRIBERS, hour, alert.at);
      continue;
    }
    const key = `${alert.storyId} ${name}`;
    let names = seriesOf.get(key);
    if (!names) {
      const watchlists = sent.watchlists.get(alert.storyId) ?? [];
      const followed = follows.get(name) ?? new Set<string>();
      const mine = watchlists.filter((w) => followed.has(w));
      const named = mine.length > 0 ? mine : watchlists.filter((w) => !w.startsWith('chat:'));
      seriesOf.set(key, (names = named.length > 0 ? named : [OTHER]));
    }
    for (const watchlist of names) add(watchlist, hour, alert.at);
  }
  // Config watchlists by name, then the subscribers', then what no watchlist explains.
  const rank = (name: string): number => (name === SUBSCRIBERS ? 1 : name === OTHER ? 2 : 0);
  return { start, hours: VOLUME_HOURS, series: [...series.values()].sort((a, b) => rank(a.name) - rank(b.name) || a.name.localeCompare(b.name)) };
}

export interface StoryDestination {
  /** a config destination's name ("@channel", with "#topic") */
  label: string;
  status: 'sent' | 'pending' | 'failed';
  sentAt: number | null;
}

export interface StoryDelivery {
  /** config destinations, by name */
  named: StoryDestination[];
  /** subscribers' chats, counted by the state of their alert */
  subscribers: { sent: number; pending: number; failed: number };
  /** chats that have it in a digest (or held for quiet hours), sent or waiting */
  digests: number;
}

/** Where a story's alerts went: each config destination by name, subscribers' chats counted. */
export function storyDelivery(story: StoryOverview, destinations: Destinations): StoryDelivery {
  const named: StoryDestination[] = [];
  const subscribers = { sent: 0, pending: 0, failed: 0 };
  for (const message of story.messages) {
    if (message.kind !== 'alert') continue;
    const name = destinations.nameOf(message.chat);
    if (name === null) subscribers[message.status]++;
    else named.push({ label: message.threadId === null ? name : `${name}#${message.threadId}`, status: message.status, sentAt: message.sentAt });
  }
  return { named, subscribers, digests: new Set(story.digests.map((d) => d.chat)).size };
}
