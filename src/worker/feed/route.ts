// Stage 2, match and route: which watchlists an item matches, and which destinations take it,
// each with the watchlists that routed it there and the words those matched (so the alert a
// destination gets shows its own hits).

import type { ChannelConfig } from '../../config/load.js';
import type { WatchlistMatch } from '../../match/matcher.js';
import type { FeedContext } from './context.js';
import type { NewItem } from './fresh.js';

export interface Destination {
  channel: ChannelConfig;
  /** the destination's watchlists the item matched */
  watchlists: string[];
  /** the word forms those watchlists matched: bold in its alert, and what its summary is about */
  forms: ReadonlySet<string>;
}

/** The destinations of a match: every channel one of whose watchlists matched. */
export function destinationsFor(channels: readonly ChannelConfig[], matches: readonly WatchlistMatch[]): Destination[] {
  const byName = new Map(matches.map((m) => [m.watchlist, m]));
  return channels.flatMap((channel) => {
    const hit = channel.watchlists.flatMap((w) => {
      const match = byName.get(w);
      return match ? [match] : [];
    });
    if (hit.length === 0) return [];
    return [{ channel, watchlists: hit.map((m) => m.watchlist), forms: new Set(hit.flatMap((m) => [...m.forms])) }];
  });
}

/** Matches the item and records which watchlists hit; the destinations it goes to (none: no alert). */
export function matchAndRoute(ctx: FeedContext, entry: NewItem): Destination[] {
  const { matcher, channels } = ctx.routing;
  const matches = matcher.match(entry.item.title, entry.item.text);
  if (matches.length === 0) return [];
  ctx.counts.matched++;
  entry.record.watchlists = matches.map((m) => m.watchlist);
  const destinations = destinationsFor(channels, matches);
  if (destinations.length === 0) entry.record.decision = 'unrouted';
  return destinations;
}
