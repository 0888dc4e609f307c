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
