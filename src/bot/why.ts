// "Why did (not) this link reach me?": the store's record of an item (feed, time, decision, story)
// and of its story's deliveries, told in the chat's language. The bot answers /why with it for
// one chat; `steppewatch why URL` for every destination.

import type { Config } from '../config/load.js';
import { canonicalUrl } from '../dedup/identity.js';
import type { Translate } from '../i18n/i18n.js';
import type { Watchlist } from '../match/matcher.js';
import { missingParts } from '../match/missing.js';
import type { ChatRecord, ItemTrace, SubscriptionStore } from '../store/store.js';
import { escapeHtml } from '../summary/render.js';
import { acceptsLanguage } from '../text/language.js';

export interface WhyContext {
  tr: Translate;
  config: Config;
  now: number;
  /** the chat asking (its deliveries only, its own watchlists named), or null: every destination (operators) */
  chat: ChatRecord | null;
  /** the watchlists a non-matching item is explained against, by internal name, with their labels */
  watchlists: Array<{ watchlist: Watchlist; label: string }>;
  /** for every destination: the record of each chat, when known */
  chats?: ReadonlyMap<string, ChatRecord>;
  /**
   * For every destination, on a page others may see: how a chat is named (a subscriber's chat not
   * by its id); given, subscribers' own watchlists are counted, not named.
   */
  chatLabel?: (chat: string) => string;
}

/** The spellings of a link the store may hold it under: as given, canonical, with or without the final slash and TLS. */
export function linkVariants(link: string): string[] {
  const given = link.trim().replace(/^<|>$/gu, '');
  const canonical = canonicalUrl(given);
  const variants = new Set([given, canonical, `${canonical}/`]);
  for (const v of [...variants]) {
    if (v.startsWith('https://')) variants.add(`http://${v.slice(8)}`);
    else if (v.startsWith('http://')) variants.add(`https://${v.slice(7)}`);
  }
  return [...variants];
}

/** Whether the argument looks like a link at all. */
export function isLink(text: string): boolean {
  return /^<?https?:\/\/\S+$/iu.test(text.trim());
}

function timeOf(ms: number, ctx: WhyContext): string {
  const zone = ctx.chat?.quiet?.zone ?? ctx.config.summary.timeZone ?? 'UTC';
  const formatted = new Intl.DateTimeFormat('sv-SE', { timeZone: zone, dateStyle: 'short', timeStyle: 'short' }).format(new Date(ms));
  return `${formatted} (${zone})`;
}

/** How an item's matched watchlists are named to this reader: config names, the chat's own lists, others' counted, not shown. */
function watchlistNames(names: readonly string[], ctx: WhyContext): string {
  const own = new Map(ctx.watchlists.map((w) => [w.watchlist.name, w.label]));
  const shown = new Set<string>();
  let others = 0;
  for (const name of names) {
    const label = own.get(name);
    if (label !== undefined) shown.add(label);
    else if (!name.startsWith('chat:')) shown.add(name);
    else if (ctx.chat === null && ctx.chatLabel === undefined) shown.add(name);
    else others++;
  }
  return [...shown, ...(others > 0 ? [ctx.tr('why.others', { count: others })] : [])].join(', ');
}

/** What happened to the item in one chat. */
function chatLine(trace: ItemTrace, chat: string, record: ChatRecord | null, ctx: WhyContext): string {
  const { tr } = ctx;
  const alert = trace.deliveries.find((d) => d.chat === chat && (d.kind === 'alert' || d.kind === 'digest'));
  if (alert) {
    if (alert.status === 'sent') {
      const time = timeOf(alert.sentAt ?? trace.firstSeenAt, ctx);
      if (alert.kind === 'digest') return tr('why.digestSent', { time });
      if (trace.decision === 'folded' && trace.story) return tr('why.deliveredOther', { story: trace.story.id, time, link: trace.story.link ?? trace.story.title });
      return tr('why.delivered', { time });
    }
    if (alert.status === 'pending') {
      if (alert.attempts > 0 && alert.lastError?.startsWith('429')) return tr('why.rateLimited', { time: timeOf(alert.nextAttemptAt, ctx) });
      return tr('why.pending');
    }
    if (record && !record.active) return tr('why.gone');
    return tr('why.failed', { error: alert.lastError ?? '?' });
  }
  const digest = trace.digests.find((d) => d.chat === chat);
  if (digest) {
    if (digest.queuedAt !== null) return tr('why.digestSent', { time: timeOf(digest.queuedAt, ctx) });
    return record?.quiet && record.digest === 'off' ? tr('why.quiet') : tr('why.digest');
  }
  if (record && !record.active) return tr('why.gone');
  if (record?.mutedUntil != null && record.mutedUntil > trace.firstSeenAt) return tr('why.muted');
  if (record?.languages && !acceptsLanguage(record.languages, trace.language)) {
    return tr('why.language', { language: trace.language ?? '?', list: record.languages.join(', ') });
  }
  return tr('why.notFollowed');
}

/** The watchlists the item lacked terms of, one line each. */
function missingLines(trace: ItemTrace, ctx: WhyContext): string[] {
  return ctx.watchlists.flatMap(({ watchlist, label }) => {
    const parts = missingParts(watchlist, trace.forms);
    return parts.length > 0 ? [`• ${ctx.tr('why.missing', { watchlist: label, terms: parts.join('; ') })}`] : [];
  });
}

/** One item's record. */
function itemAnswer(trace: ItemTrace, ctx: WhyContext): string[] {
  const { tr } = ctx;
  const feed = ctx.config.feeds.find((f) => f.url === trace.feedUrl);
  const lines = [tr('why.seen', { feed: feed?.name ?? trace.feedUrl, time: timeOf(trace.firstSeenAt, ctx) })];
  const watchlists = watchlistNames(trace.watchlists, ctx);
  const story = trace.story;
  switch (trace.decision) {
    case 'backlog':
      return [...lines, tr('why.backlog')];
    case 'stale':
      return [...lines, tr('why.stale')];
    case 'no-match':
      lines.push(tr('why.noMatch'), ...missingLines(trace, ctx));
      break;
    case 'unrouted':
      lines.push(tr('why.unrouted', { watchlists }));
      break;
    case 'alerted':
      lines.push(tr('why.alerted', { watchlists, story: story?.id ?? '?' }));
      break;
    case 'folded':
      lines.push(tr('why.folded', { watchlists, story: story?.id ?? '?', title: story?.title ?? '' }));
      break;
    case 'updated':
      lines.push(tr('why.updated', { watchlists, story: story?.id ?? '?' }));
      break;
  }
  if (ctx.chat) {
    if (trace.decision !== 'no-match' || ctx.chat.mutedUntil != null) lines.push(chatLine(trace, ctx.chat.chat, ctx.chat, ctx));
    return lines;
  }
  // For operators: every destination the story went to or waits for.
  const destinations = [...new Set([...trace.deliveries.filter((d) => d.kind === 'alert' || d.kind === 'digest').map((d) => d.chat), ...trace.digests.map((d) => d.chat)])];
  for (const chat of destinations) lines.push(`${escapeHtml(ctx.chatLabel?.(chat) ?? chat)}: ${chatLine(trace, chat, ctx.chats?.get(chat) ?? null, ctx)}`);
  return lines;
}

/** What an operator's answer is told with, beyond the items: the store's chats and the config's watchlists. */
export interface OperatorWhy {
  store: Pick<SubscriptionStore, 'getChat'>;
  config: Config;
  tr: Translate;
  now: number;
  chatLabel?: (chat: string) => string;
}

/** The answer for every destination (`steppewatch why`, the operator page), non-matching items explained against the config's watchlists. */
export async function operatorWhyAnswer(traces: readonly ItemTrace[], options: OperatorWhy): Promise<string> {
  const { store, config } = options;
  const chats = new Map<string, ChatRecord>();
  for (const chat of new Set(traces.flatMap((trace) => [...trace.deliveries.map((d) => d.chat), ...trace.digests.map((d) => d.chat)]))) {
    const record = await store.getChat(chat);
    if (record) chats.set(chat, record);
  }
  const named = [...new Set(config.channels.flatMap((c) => c.watchlists))];
  const watchlists = (named.length > 0 ? named : [...config.watchlists.keys()]).flatMap((name) => {
    const watchlist = config.watchlists.get(name);
    return watchlist ? [{ watchlist, label: name }] : [];
  });
  return whyAnswer(traces, { tr: options.tr, config, now: options.now, chat: null, watchlists, chats, ...(options.chatLabel ? { chatLabel: options.chatLabel } : {}) });
}

/** The answer to /why (or `steppewatch why`) for the items found under a link. */
export function whyAnswer(traces: readonly ItemTrace[], ctx: WhyContext): string {
  if (traces.length === 0) return ctx.tr('why.unknown');
  return traces.map((trace) => itemAnswer(trace, ctx).join('\n')).join('\n\n');
}
