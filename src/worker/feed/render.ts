// Stage 4, render: the alerts a new story's destinations get, each rendered from the watchlists
// that routed it there (its summary sentences, bold words and hashtags), and the updates a
// further report makes to alerts already queued or sent (edit, reply, or nothing).

import { destinationKey, type FeedBatch, type OutboxMessage } from '../../store/store.js';
import { MESSAGE_LIMIT, renderHtml, renderReply, renderStoryUpdate, renderText, UPDATE_ROOM, type Alert, type OtherReport, type RenderOptions } from '../../summary/render.js';
import type { Summary } from '../../summary/summarize.js';
import { inQuietHours } from '../../delivery/quiet.js';
import { primaryLanguage } from '../../text/language.js';
import type { FeedContext } from './context.js';
import type { NewItem } from './fresh.js';
import type { Destination } from './route.js';
import type { BatchStory } from './story-book.js';
import type { StoryStep } from './story.js';

/**
 * The other outlets' reports, for «also reported by»: one per outlet, not the one whose report the
 * alert shows (by default the story's first, which alerted the config's channels).
 */
export function otherOutlets(story: BatchStory, alerting: string | null = story.reports[0]?.source ?? null): OtherReport[] {
  const seen = new Set<string>(alerting === null ? [] : [alerting]);
  const others: OtherReport[] = [];
  for (const report of story.reports) {
    if (seen.has(report.source)) continue;
    seen.add(report.source);
    others.push({ source: report.source, link: report.link, language: report.language });
  }
  return others;
}

/** Rewrites a pending outbox row; a later rewrite of the same row in this batch replaces an earlier one. */
function rewrite(batch: FeedBatch, id: number, content: FeedBatch['outboxRewrites'][number] | { html: string; text: string }): void {
  const earlier = batch.outboxRewrites.find((r) => r.id === id);
  if (earlier) Object.assign(earlier, content);
  else batch.outboxRewrites.push({ id, ...content });
}

/**
 * Keeps a story's alerts current after another outlet reported it, as each channel asks: an
 * alert not sent yet is rewritten in place; a sent one is edited (one pending edit per alert,
 * rewritten as reports come) or gets a reply when the report adds numbers or names.
 */
export function updateStoryAlerts(ctx: FeedContext, step: StoryStep, entry: NewItem): void {
  const { story } = step;
  if (!step.newOutlet && !step.becameBreaking) return;
  const { batch } = ctx;
  const modeOf = (chat: string, threadId: number | null) => ctx.routing.channels.find((c) => c.chat === chat && c.threadId === threadId)?.updates ?? 'edit';
  for (const { message, base, language } of story.newAlerts.values()) {
    if (modeOf(message.chat, message.threadId) === 'silent') continue;
    Object.assign(message, renderStoryUpdate(base, story.breaking, otherOutlets(story, message.origin?.source ?? null), language));
  }
  const latest = { title: entry.item.title, source: ctx.source, link: entry.item.link, language: entry.item.language };
  for (const alert of story.alerts) {
    const mode = modeOf(alert.chat, alert.threadId);
    if (mode === 'silent' || alert.status === 'failed') continue;
    // Each alert names the outlets other than its own, in its own language (alerts queued before
    // these were kept: the story's first report's).
    const first = story.reports[0];
    const others = otherOutlets(story, alert.source ?? first?.source ?? null);
    const updated = renderStoryUpdate({ html: alert.baseHtml, text: alert.baseText }, story.breaking, others, alert.source !== null ? alert.language : (first?.language ?? null));
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
    } else if (step.addsSomething || step.becameBreaking) {
      batch.outbox.push({ story: story.ref, kind: 'reply', targetId: alert.outboxId, chat: alert.chat, threadId: alert.threadId, linkPreview: false, ...renderReply(latest, story.breaking) });
    }
  }
}

/** The destinations that do not have the story yet. */
export function pendingDestinations(story: BatchStory, destinations: Destination[]): Destination[] {
  return destinations.filter((d) => !story.destinations.has(destinationKey(d.channel.chat, d.channel.threadId)));
}

/** One summary per distinct set of matched words, made once however many destinations share it. */
function summaries(ctx: FeedContext, entry: NewItem): (forms: ReadonlySet<string>) => Promise<Summary> {
  const made = new Map<string, Promise<Summary>>();
  return (forms) => {
    const key = [...forms].sort().join('\u0000');
    let summary = made.get(key);
    if (!summary) made.set(key, (summary = ctx.summarizer.summarize(entry.item, forms, ctx.config.summary.length)));
    return summary;
  };
}

/** The item as a destination's alert, and the options it is rendered with. */
async function alertFor(ctx: FeedContext, entry: NewItem, destination: Destination, summaryFor: (forms: ReadonlySet<string>) => Promise<Summary>): Promise<{ alert: Alert; options: RenderOptions }> {
  const { channel, watchlists, forms } = destination;
  const labels = [...new Set(watchlists.map((name) => ctx.routing.labels.get(name) ?? name))];
  const alert: Alert = { summary: await summaryFor(forms), source: ctx.source, link: entry.item.link, time: new Date(entry.at), watchlists: labels, matchedForms: forms, language: entry.item.language };
  // Room is left for what a later edit adds: the breaking mark and «also reported by».
  const options: RenderOptions = { template: channel.template, timeZone: ctx.config.summary.timeZone, now: new Date(ctx.now), maxLength: MESSAGE_LIMIT - UPDATE_ROOM };
  return { alert, options };
}

/** Whether the destination takes the story's alert as one line of a digest now: it takes digests, or it is in its quiet hours. */
function heldForDigest(channel: Destination['channel'], story: BatchStory, now: number): boolean {
  if (channel.digest !== undefined && channel.digest !== 'off') return true;
  if (!channel.quiet || !inQuietHours(channel.quiet, now)) return false;
  return !(channel.quiet.breaking && story.breaking);
}

/**
 * Queues the story's alert for each destination that does not have it: summarised around the
 * words *that destination's* watchlists matched (one summary per distinct set of words), as a
 * message or as a line of the chat's digest (digests, quiet hours).
 */
export async function renderAlerts(ctx: FeedContext, entry: NewItem, story: BatchStory, pending: Destination[]): Promise<void> {
  const { item } = entry;
  const { batch } = ctx;
  const summaryFor = summaries(ctx, entry);
  for (const destination of pending) {
    const { channel } = destination;
    const { alert, options } = await alertFor(ctx, entry, destination, summaryFor);
    const key = destinationKey(channel.chat, channel.threadId);
    story.destinations.add(key);
    ctx.counts.alerts++;
    if (heldForDigest(channel, story, ctx.now)) {
      // Collected for the chat's digest: one line per story, sent with the others later.
      const line = { ...options, template: 'compact' as const };
      batch.digestItems.push({ story: story.ref, chat: channel.chat, html: renderHtml(alert, line), text: renderText(alert, line) });
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
      origin: { source: ctx.source, language: item.language },
    };
    batch.outbox.push(message);
    story.newAlerts.set(key, { message, base: { html: message.html, text: message.text }, language: item.language });
  }
}

/**
 * A report in the language a destination prefers, arriving while the story's alert there waits
 * unsent in another language: the alert is redone from this report (its outlet, summary and
 * link), with the other outlets, the first one included, named under it.
 */
export async function preferLanguage(ctx: FeedContext, entry: NewItem, story: BatchStory, destinations: Destination[]): Promise<void> {
  const language = entry.item.language === null ? null : primaryLanguage(entry.item.language);
  if (language === null) return;
  const summaryFor = summaries(ctx, entry);
  for (const destination of destinations) {
    const { channel } = destination;
    if (channel.preferredLanguage !== language) continue;
    const key = destinationKey(channel.chat, channel.threadId);
    const fresh = story.newAlerts.get(key);
    const waiting = story.alerts.find((a) => a.status === 'pending' && a.chat === channel.chat && a.threadId === channel.threadId);
    const current = fresh ? fresh.language : waiting ? waiting.language : undefined;
    if (current === undefined || (current !== null && primaryLanguage(current) === language)) continue;
    const { alert, options } = await alertFor(ctx, entry, destination, summaryFor);
    const base = { html: renderHtml(alert, options), text: renderText(alert, options) };
    const updated = renderStoryUpdate(base, story.breaking, otherOutlets(story, ctx.source), entry.item.language);
    const origin = { source: ctx.source, language: entry.item.language };
    if (fresh) {
      Object.assign(fresh.message, updated, { origin });
      fresh.base = base;
      fresh.language = entry.item.language;
    } else if (waiting) {
      rewrite(ctx.batch, waiting.outboxId, { ...updated, base, origin });
      Object.assign(waiting, { baseHtml: base.html, baseText: base.text, source: ctx.source, language: entry.item.language });
    }
  }
}
