// Who gets what this cycle: the config's channels and watchlists, plus every subscribed chat's
// own (presets and queries from bot commands), compiled into one matcher. Built once per cycle
// from the store, so a subscription made a minute ago counts in the next cycle.

import { compileChatWatchlists } from '../bot/commands.js';
import type { ChannelConfig, Config } from '../config/load.js';
import { Matcher } from '../match/matcher.js';
import type { SubscriptionStore } from '../store/store.js';
import { primaryLanguage } from '../text/language.js';

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

/** A config channel whose group Telegram moved (upgraded to a supergroup) goes to where it moved. */
function followMoves(channels: readonly ChannelConfig[], moves: ReadonlyMap<string, string>): ChannelConfig[] {
  if (moves.size === 0) return [...channels];
  return channels.map((c) => {
    const to = moves.get(c.chat);
    return to === undefined ? c : { ...c, chat: to };
  });
}

/** The config's routing plus the active, unmuted subscriptions at `now`. */
export async function buildRouting(config: Config, store: SubscriptionStore, now: number): Promise<Routing> {
  const rows = await store.activeWatchlists(now);
  const moves = await store.chatMoves();
  if (rows.length === 0) return moves.size === 0 ? configRouting(config) : { ...configRouting(config), channels: followMoves(config.channels, moves) };
  const compiled = compileChatWatchlists(rows, config);
  const settings = await store.chatSettings();
  const byChat = new Map<string, string[]>();
  const labels = new Map<string, string>();
  for (const { chat, watchlist, label } of compiled) {
    byChat.set(chat, [...(byChat.get(chat) ?? []), watchlist.name]);
    labels.set(watchlist.name, label);
  }
  const subscribers: ChannelConfig[] = [...byChat].map(([chat, watchlists]) => {
    const chatSettings = settings.get(chat);
    const spoken = chatSettings?.language ?? chatSettings?.appLanguage ?? null;
    return {
      chat,
      threadId: chatSettings?.threadId ?? null,
      watchlists,
      updates: chatSettings?.updates ?? 'edit',
      template: chatSettings?.template ?? 'full',
      linkPreview: false,
      digest: chatSettings?.digest ?? 'off',
      languages: chatSettings?.languages ?? null,
      quiet: chatSettings?.quiet ?? null,
      // The story's alert is best in the chat's first chosen language, else in the one it speaks.
      preferredLanguage: chatSettings?.languages?.[0] ?? (spoken !== null ? primaryLanguage(spoken) : null),
    };
  });
  return {
    matcher: new Matcher([...config.watchlists.values(), ...compiled.map((c) => c.watchlist)]),
    channels: [...followMoves(config.channels, moves), ...subscribers],
    labels,
  };
}
