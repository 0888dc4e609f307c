// Stage 2, match and route: which watchlists an item matches, and which destinations take it,
// each with the watchlists that routed it there and the words those matched (so the alert a
// destination gets shows its own hits).

import type { ChannelConfig } from '../../config/load.js';
import type { WatchlistMatch } from '../../match/matcher.js';
import { acceptsLanguage } from '../../text/language.js';
import type { FeedContext } from './context.js';
import type { NewItem } from './fresh.js';

export interface Destination {
  channel: ChannelConfig;
  /** the destination's watchlists the item matched */
  watchlists: string[];
  /** the word forms those watchlists matched: bold in its alert, and what its summary is about */
  forms: ReadonlySet<string>;
}

/** The destinations of a match: every channel one of whose watchlists matched, that takes the item's language. */
export function destinationsFor(channels: readonly ChannelConfig[], matches: readonly WatchlistMatch[], language: string | null = null): Destination[] {
  const byName = new Map(matches.map((m) => [m.watchlist, m]));
  return channels.flatMap((channel) => {
    if (!acceptsLanguage(channel.languages, language)) return [];
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
  const present: string[] = [];
  const matches = matcher.match(entry.item.title, entry.item.text, present);
  if (matches.length === 0) {
    if (present.length > 0) entry.record.forms = present;
    return [];
  }
  ctx.counts.matched++;
  entry.record.watchlists = matches.map((m) => m.watchlist);
  const destinations = destinationsFor(channels, matches, entry.item.language);
  if (destinations.length === 0) entry.record.decision = 'unrouted';
  return destinations;
}
