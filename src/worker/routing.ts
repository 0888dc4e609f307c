// Who gets what this cycle: the config's channels and watchlists, plus every subscribed chat's
// own (presets and queries from bot commands), compiled into one matcher. Built once per cycle
// from the store, so a subscription made a minute ago counts in the next cycle.

import { compileChatWatchlists } from '../bot/commands.js';
import type { ChannelConfig, Config } from '../config/load.js';
import { Matcher } from '../match/matcher.js';
import type { SubscriptionStore } from '../store/store.js';

export interface Routing {
  matcher: Matcher;
  /** destinations with the watchlists (by name) each receives */
  channels: ChannelConfig[];
  /** watchlist name → how alerts name it (a subscriber's watchlists have internal names) */
  labels: ReadonlyMap<string, string>;
}

/** Routing from the config alone. */
export function configRouting(config: Config): Routing {
  return { matcher: config.matcher, channels: config.channels, labels: new Map() };
}

/** The config's routing plus the active, unmuted subscriptions at `now`. */
export async function buildRouting(config: Config, store: SubscriptionStore, now: number): Promise<Routing> {
  const rows = await store.activeWatchlists(now);
  if (rows.length === 0) return configRouting(config);
  const compiled = compileChatWatchlists(rows, config);
  const settings = await store.chatSettings();
  const byChat = new Map<string, string[]>();
  const labels = new Map<string, string>();
  for (const { chat, watchlist, label } of compiled) {
    byChat.set(chat, [...(byChat.get(chat) ?? []), watchlist.name]);
    labels.set(watchlist.name, label);
  }
  const subscribers: ChannelConfig[] = [...byChat].map(([chat, watchlists]) => ({
    chat,
    threadId: null,
    watchlists,
    updates: settings.get(chat)?.updates ?? 'edit',
    template: settings.get(chat)?.template ?? 'full',
    linkPreview: false,
    digest: settings.get(chat)?.digest ?? 'off',
  }));
  return {
    matcher: new Matcher([...config.watchlists.values(), ...compiled.map((c) => c.watchlist)]),
    channels: [...config.channels, ...subscribers],
    labels,
  };
}
