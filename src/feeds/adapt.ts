// Shared pieces for adapting any format's entry to the one Item model.

import { createHash } from 'node:crypto';
import { guessLanguage } from '../text/language.js';
import { cap, cleanTitle, htmlToText, MAX_HTML_CHARS, MAX_TEXT_CHARS, stripActive } from './html.js';
import type { Item } from './item.js';

const MAX_LINK_CHARS = 8_192;
/** A guid or author longer than this is cut: they are stored with every item. */
const MAX_FIELD_CHARS = 1_000;

/** An absolute http(s) URL, resolved against `base`; anything else (javascript:, file:, junk) is null. */
export function safeLink(href: string | null | undefined, base: string | null): string | null {
  // Longer than any browser takes: not a link worth storing.
  if (!href || href.length > MAX_LINK_CHARS) return null;
  try {
    const url = base ? new URL(href.trim(), base) : new URL(href.trim());
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}

// Zone abbreviations seen in RFC 822 dates of our region's feeds that Date.parse does not know.
const ZONES: Record<string, string> = {
  MSK: '+0300',
  ALMT: '+0500', // Almaty, since March 2024
  AQTT: '+0500',
  ORAT: '+0500',
  QYZT: '+0500',
  EET: '+0200',
  EEST: '+0300',
  CET: '+0100',
  CEST: '+0200',
  AST: '+0300', // Arabia Standard Time, as Arab outlets use it
};
const ZONE_SUFFIX = new RegExp(`\\s(${Object.keys(ZONES).join('|')})$`, 'u');

/** A date, or null when missing or unparseable (RFC 822 variants, ISO 8601). */
export function parseDate(text: string | null | undefined): Date | null {
  if (!text) return null;
  const trimmed = text.trim().replace(ZONE_SUFFIX, (_m, zone: string) => ` ${ZONES[zone] ?? ''}`);
  const date = new Date(trimmed);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** An RSS <ttl> in minutes: a positive whole number, else null (absent, junk, zero). */
export function parseTtl(text: string | null | undefined): number | null {
  const trimmed = text?.trim() ?? '';
  if (!/^\d{1,7}$/u.test(trimmed)) return null;
  const minutes = Number(trimmed);
  return minutes > 0 ? minutes : null;
}

/**
 * A language tag's primary subtag ("ru-RU" → "ru"), or null when it is none: the value is stored
 * and printed, so anything but two or three letters (markup, junk) is dropped.
 */
export function languageTag(tag: string | null | undefined): string | null {
  const primary = tag?.trim().toLowerCase().split(/[-_]/u)[0] ?? '';
  return /^[a-z]{2,3}$/u.test(primary) ? primary : null;
}

/** A feed's title as one line of plain text (feeds put markup, entities and scripts in it too), or null. */
export function feedTitle(html: string | null | undefined): string | null {
  return html ? cleanTitle(html) || null : null;
}

/** A plain-text field that is stored as given (guid, author): trimmed, capped, active markup dropped. */
function plainField(text: string | null): string | null {
  return text ? stripActive(cap(text.trim(), MAX_FIELD_CHARS)).trim() || null : null;
}

export interface RawEntry {
  guid: string | null;
  link: string | null;
  titleHtml: string | null;
  bodyHtml: string | null;
  published: Date | null;
  author: string | null;
  language: string | null;
}

/** How much HTML one document may have converted in full: past it, each body is read from its first 2,000 characters. */
export const DOCUMENT_HTML_BUDGET = 1_000_000;
const HTML_AFTER_BUDGET = 2_000;
/** The most items one document gives (news feeds list tens, archives a few thousand). */
export const MAX_ITEMS = 5_000;

/** What every entry of one document shares: where it comes from, and the HTML it may still have converted. */
export interface ItemContext {
  feedUrl: string;
  feedLanguage: string | null;
  /** the operator's language hint from the config */
  languageHint?: string | undefined;
  /** characters of HTML left to convert in full for this document (see DOCUMENT_HTML_BUDGET) */
  htmlLeft: number;
}

export function itemContext(feedUrl: string, feedLanguage: string | null, languageHint?: string): ItemContext {
  return { feedUrl, feedLanguage, languageHint, htmlLeft: DOCUMENT_HTML_BUDGET };
}

/**
 * Maps one entry, already pulled out of its format, to an Item. Language: the item's own, else
 * the operator's hint, else the feed's, else guessed from script.
 */
export function toItem(entry: RawEntry, context: ItemContext): Item {
  const { feedUrl, feedLanguage, languageHint } = context;
  // A document's bodies together are converted within a budget: a feed of a hundred 100 KB items
  // costs what one long article does, not a hundred times it.
  const maxHtml = Math.min(MAX_HTML_CHARS, Math.max(HTML_AFTER_BUDGET, context.htmlLeft));
  const text = entry.bodyHtml ? htmlToText(entry.bodyHtml, MAX_TEXT_CHARS, maxHtml) : '';
  if (entry.bodyHtml) context.htmlLeft -= Math.min(entry.bodyHtml.length, maxHtml);
  let title = entry.titleHtml ? cleanTitle(entry.titleHtml) : '';
  if (!title) title = text.split('\n')[0]?.slice(0, 140) ?? '';
  const guid = plainField(entry.guid);
  const id =
    guid ??
    entry.link ??
    `sha1:${createHash('sha1').update(`${title}\n${entry.published?.toISOString() ?? ''}\n${text.slice(0, 500)}`).digest('hex')}`;
  return {
    id,
    feedUrl,
    guid,
    link: entry.link,
    title,
    text,
    published: entry.published,
    author: plainField(entry.author),
    language: entry.language ?? languageHint ?? feedLanguage ?? guessLanguage(`${title} ${text}`),
  };
}
