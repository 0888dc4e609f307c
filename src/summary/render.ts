// Renders an alert for Telegram (HTML parse mode) and as plain text for the console.
// Every piece of feed text passes through escapeHtml; links are http(s) only.

import { safeLink } from '../feeds/adapt.js';
import type { Summary } from './summarize.js';

export interface Alert {
  summary: Summary;
  /** feed name as configured, else the feed's own title */
  source: string;
  link: string | null;
  /** publication time, else the time the item was first seen */
  time: Date;
  watchlists: string[];
}

/** Escapes text for Telegram's HTML parse mode (and for attribute values). */
export function escapeHtml(text: string): string {
  return text.replace(/&/gu, '&amp;').replace(/</gu, '&lt;').replace(/>/gu, '&gt;').replace(/"/gu, '&quot;');
}

/** Checked again here, not only at ingestion: whatever reaches an href must be http(s). */
function safeHref(link: string | null): string | null {
  return safeLink(link, null);
}

function formatTime(time: Date): string {
  return `${time.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function hashtag(watchlist: string): string {
  return `#${watchlist.replace(/[^\p{L}\p{N}_]/gu, '_')}`;
}

/** Telegram HTML: bold title, summary, source and time, link, watchlist hashtags. */
export function renderHtml(alert: Alert): string {
  const lines = [`<b>${escapeHtml(alert.summary.title)}</b>`];
  if (alert.summary.sentences.length > 0) lines.push(escapeHtml(alert.summary.sentences.join(' ')));
  lines.push('');
  lines.push(`<i>${escapeHtml(alert.source)}</i> · ${formatTime(alert.time)}`);
  const href = safeHref(alert.link);
  if (href) lines.push(`<a href="${escapeHtml(href)}">${escapeHtml(new URL(href).hostname)}</a>`);
  if (alert.watchlists.length > 0) lines.push(alert.watchlists.map(hashtag).join(' '));
  return lines.join('\n');
}

/** The same alert as plain text. */
export function renderText(alert: Alert): string {
  const lines = [alert.summary.title];
  if (alert.summary.sentences.length > 0) lines.push(alert.summary.sentences.join(' '));
  lines.push('');
  lines.push(`${alert.source} · ${formatTime(alert.time)}`);
  const href = safeHref(alert.link);
  if (href) lines.push(href);
  if (alert.watchlists.length > 0) lines.push(alert.watchlists.map(hashtag).join(' '));
  return lines.join('\n');
}

/** Another outlet's report of a story already alerted. */
export interface OtherReport {
  source: string;
  link: string | null;
}

// Telegram's limit is 4096 characters; the list of other reports stops well before it.
const MAX_LISTED_REPORTS = 12;
export const BREAKING_PREFIX = '🔴 BREAKING';

/**
 * The story's alert kept current: the first alert as rendered, marked breaking when the story
 * spreads fast, with «also reported by» and the other outlets' links.
 */
export function renderStoryUpdate(base: { html: string; text: string }, breaking: boolean, others: OtherReport[]): { html: string; text: string } {
  const listed = others.slice(0, MAX_LISTED_REPORTS);
  const more = others.length - listed.length;
  const htmlLinks = listed.map((r) => {
    const href = safeHref(r.link);
    return href ? `<a href="${escapeHtml(href)}">${escapeHtml(r.source)}</a>` : escapeHtml(r.source);
  });
  const textLinks = listed.map((r) => (r.link ? `${r.source} (${r.link})` : r.source));
  const tail = more > 0 ? ` and ${more} more` : '';
  const html = [
    ...(breaking ? [`<b>${BREAKING_PREFIX}</b>`] : []),
    base.html,
    ...(listed.length > 0 ? [`\nAlso reported by: ${htmlLinks.join(', ')}${tail}`] : []),
  ].join('\n');
  const text = [...(breaking ? [BREAKING_PREFIX] : []), base.text, ...(listed.length > 0 ? [`\nAlso reported by: ${textLinks.join(', ')}${tail}`] : [])].join('\n');
  return { html, text };
}

/** A short reply under the first alert, for a report that adds something (numbers, names). */
export function renderReply(report: OtherReport & { title: string }, breaking: boolean): { html: string; text: string } {
  const href = safeHref(report.link);
  const title = escapeHtml(report.title);
  const lead = breaking ? `<b>${BREAKING_PREFIX}</b> · ` : '';
  return {
    html: `${lead}${escapeHtml(report.source)}: ${href ? `<a href="${escapeHtml(href)}">${title}</a>` : title}`,
    text: `${breaking ? `${BREAKING_PREFIX} · ` : ''}${report.source}: ${report.title}${report.link ? ` ${report.link}` : ''}`,
  };
}
