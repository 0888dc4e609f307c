// Renders an alert for Telegram (HTML parse mode) and as plain text for the console.
// Every piece of feed text passes through escapeHtml; links are http(s) only; the message is kept
// within Telegram's limits by shortening the summary, never by cutting markup.

import { safeLink } from '../feeds/adapt.js';
import { normalizeTokens, tokenForms } from '../text/normalize.js';
import { truncate, type Summary } from './summarize.js';

export interface Alert {
  summary: Summary;
  /** feed name as configured, else the feed's own title */
  source: string;
  link: string | null;
  /** publication time, else the time the item was first seen */
  time: Date;
  watchlists: string[];
  /** the normalised word forms the watchlists matched: shown in bold in the summary */
  matchedForms: ReadonlySet<string>;
  /** the item's language, if known: Arabic text gets its Latin words and numbers isolated */
  language: string | null;
}

export type Template = 'full' | 'compact';

export interface RenderOptions {
  /** full: title, summary, source, time, link, hashtags; compact: title and link */
  template: Template;
  /** IANA time zone for the absolute time */
  timeZone: string;
  /** when the alert is rendered, for the relative time */
  now: Date;
  /** most characters Telegram shows: 4096 for a message, 1024 for a caption */
  maxLength: number;
}

export const MESSAGE_LIMIT = 4096;
export const CAPTION_LIMIT = 1024;
export const DEFAULT_RENDER: RenderOptions = { template: 'full', timeZone: 'UTC', now: new Date(0), maxLength: MESSAGE_LIMIT };

/** Escapes text for Telegram's HTML parse mode (and for attribute values). */
export function escapeHtml(text: string): string {
  return text.replace(/&/gu, '&amp;').replace(/</gu, '&lt;').replace(/>/gu, '&gt;').replace(/"/gu, '&quot;');
}

/** Escaped HTML back to its text (for places that take plain text, such as button labels). */
export function unescapeHtml(text: string): string {
  return text.replace(/&lt;/gu, '<').replace(/&gt;/gu, '>').replace(/&quot;/gu, '"').replace(/&amp;/gu, '&');
}

/** A Telegram HTML message as the text it shows: tags dropped, entities decoded. */
export function plainText(html: string): string {
  return unescapeHtml(html.replace(/<[^>]*>/gu, ''));
}

/** Checked again here, not only at ingestion: whatever reaches an href must be http(s). */
function safeHref(link: string | null): string | null {
  return safeLink(link, null);
}

/** "2022-01-07 14:05 GMT+6": the time in the configured zone, with the zone's offset. */
function formatTime(time: Date, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    timeZoneName: 'short',
  }).formatToParts(time);
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
  return `${part('year')}-${part('month')}-${part('day')} ${part('hour')}:${part('minute')} ${part('timeZoneName')}`;
}

/** "just now", "12 min ago", "3 h ago", "2 d ago". */
function relativeTime(time: Date, now: Date): string {
  const minutes = Math.floor((now.getTime() - time.getTime()) / 60_000);
  if (minutes < 1) return 'just now';
  if (minutes < 60) return `${minutes} min ago`;
  if (minutes < 48 * 60) return `${Math.floor(minutes / 60)} h ago`;
  return `${Math.floor(minutes / 1440)} d ago`;
}

function hashtag(watchlist: string): string {
  return `#${watchlist.replace(/[^\p{L}\p{N}_]/gu, '_')}`;
}

const ARABIC_SCRIPT = /\p{Script=Arabic}/gu;
const LETTER = /\p{L}/gu;
// A run of Latin words and numbers (with the spaces and marks between them) inside Arabic text.
const LTR_RUN = /[\p{Script=Latin}\p{N}](?:[\p{Script=Latin}\p{N}\p{M}'’.,:%/-]|\s(?=[\p{Script=Latin}\p{N}]))*/gu;
const FSI = '\u2068';
const PDI = '\u2069';

/** Whether the text reads right to left: declared Arabic, or mostly Arabic letters. */
function isRightToLeft(alert: Alert): boolean {
  if (alert.language?.startsWith('ar')) return true;
  const text = alert.summary.title;
  return (text.match(ARABIC_SCRIPT)?.length ?? 0) * 2 > (text.match(LETTER)?.length ?? 0);
}

/** Latin names and numbers inside Arabic text, wrapped in Unicode isolates so they do not scramble. */
function isolateLeftToRight(text: string): string {
  return text.replace(LTR_RUN, (run) => `${FSI}${run}${PDI}`);
}

const WORD = /[\p{L}\p{M}]+|\p{N}+/gu;

/** Feed text as Telegram HTML, escaped, with the words whose forms matched in bold. */
function markMatched(text: string, forms: ReadonlySet<string>): string {
  let html = '';
  let at = 0;
  for (const word of text.matchAll(WORD)) {
    const matched = normalizeTokens(word[0]).some((token) => tokenForms(token).some((form) => forms.has(form)));
    if (!matched) continue;
    html += `${escapeHtml(text.slice(at, word.index))}<b>${escapeHtml(word[0])}</b>`;
    at = word.index + word[0].length;
  }
  return html + escapeHtml(text.slice(at));
}

/** What Telegram shows of our HTML: tags dropped, the four entities we write decoded. */
export function visibleLength(html: string): number {
  return html.replace(/<[^>]*>/gu, '').replace(/&(lt|gt|amp|quot);/gu, '_').length;
}

interface Parts {
  title: string;
  summary: string;
  source: string;
  time: string;
  link: string | null;
  linkText: string;
  hashtags: string;
}

function layout(parts: Parts, template: Template, html: boolean): string {
  const link = parts.link === null ? null : html ? `<a href="${escapeHtml(parts.link)}">${parts.linkText}</a>` : parts.link;
  if (template === 'compact') return [parts.title, ...(link ? [link] : [])].join('\n');
  return [
    parts.title,
    ...(parts.summary ? [parts.summary] : []),
    '',
    `${parts.source} · ${parts.time}`,
    ...(link ? [link] : []),
    ...(parts.hashtags ? [parts.hashtags] : []),
  ].join('\n');
}

function render(alert: Alert, options: RenderOptions, html: boolean): string {
  const rtl = isRightToLeft(alert);
  const bidi = (text: string) => (rtl ? isolateLeftToRight(text) : text);
  const href = safeHref(alert.link);
  let summary = alert.summary;
  for (;;) {
    const title = bidi(summary.title);
    const body = bidi(summary.sentences.join(' '));
    const parts: Parts = {
      title: html ? `<b>${escapeHtml(title)}</b>` : title,
      summary: html ? markMatched(body, alert.matchedForms) : body,
      source: html ? `<i>${escapeHtml(alert.source)}</i>` : alert.source,
      time: `${relativeTime(alert.time, options.now)} · ${formatTime(alert.time, options.timeZone)}`,
      link: href,
      linkText: escapeHtml(options.template === 'compact' ? alert.source : new URL(href ?? 'http://x').hostname),
      hashtags: alert.watchlists.map(hashtag).join(' '),
    };
    const message = layout(parts, options.template, html);
    if ((html ? visibleLength(message) : message.length) <= options.maxLength) return message;
    const shorter = shorten(summary);
    if (shorter.title === summary.title && shorter.sentences.length === 0 && summary.sentences.length === 0) return message;
    summary = shorter;
  }
}

/** One step shorter: the last sentence dropped, else the one left cut by a fifth, else the title. */
function shorten(summary: Summary): Summary {
  const { title, sentences } = summary;
  if (sentences.length > 1) return { title, sentences: sentences.slice(0, -1) };
  const [only] = sentences;
  if (only !== undefined && only.length > 20) return { title, sentences: [truncate(only, Math.floor([...only].length * 0.8))] };
  if (only !== undefined) return { title, sentences: [] };
  return { title: truncate(title, Math.max(10, Math.floor([...title].length * 0.8))), sentences: [] };
}

/** Telegram HTML for an alert (see RenderOptions), within `maxLength` visible characters. */
export function renderHtml(alert: Alert, options: RenderOptions = DEFAULT_RENDER): string {
  return render(alert, options, true);
}

/** The same alert as plain text, for the console and for a fallback send. */
export function renderText(alert: Alert, options: RenderOptions = DEFAULT_RENDER): string {
  return render(alert, options, false);
}

/** Another outlet's report of a story already alerted. */
export interface OtherReport {
  source: string;
  link: string | null;
  /** the report's language (ISO 639-1: 'ru', 'kk', 'ar', 'en'), null when unknown */
  language: string | null;
}

// Telegram's limit is 4096 characters; the list of other reports stops well before it.
const MAX_LISTED_REPORTS = 12;
/** Characters an alert leaves free for the breaking mark and «also reported by» of later edits. */
export const UPDATE_ROOM = 700;
export const BREAKING_PREFIX = '🔴 BREAKING';
/** A hostile feed title used as a source name, or a huge link, must not eat the whole list. */
const MAX_SOURCE_NAME = 60;
const MAX_TEXT_LINK = 300;

type UpdateLanguage = 'en' | 'ru' | 'kk' | 'ar';
// The «also reported by» line is read by the alert's audience, so it speaks the alert's language;
// the outlets' language codes stay codes (ru, en), short and the same in every language.
const UPDATE_WORDING: Record<UpdateLanguage, { alsoReported: string; more: (n: number) => string }> = {
  en: { alsoReported: 'Also reported by', more: (n) => `and ${n} more` },
  ru: { alsoReported: 'Также сообщают', more: (n) => `и ещё ${n}` },
  kk: { alsoReported: 'Сондай-ақ хабарлады', more: (n) => `және тағы ${n}` },
  ar: { alsoReported: 'أفادت به أيضًا', more: (n) => `و${n} أخرى` },
};

function updateLanguage(language: string | null): UpdateLanguage {
  const primary = language?.slice(0, 2).toLowerCase();
  return primary === 'ru' || primary === 'kk' || primary === 'ar' ? primary : 'en';
}

/** The report's language as a bare code, or null when unknown or not a language tag at all. */
function languageCode(language: string | null): string | null {
  const primary = language?.trim().split(/[-_]/u)[0]?.toLowerCase() ?? '';
  return /^[a-z]{2,3}$/u.test(primary) ? primary : null;
}

/** Text wrapped in a first-strong isolate: it keeps its own direction inside text of the other. */
function isolate(text: string): string {
  return `${FSI}${text}${PDI}`;
}

/**
 * The story's alert kept current: the first alert as rendered, marked breaking when the story
 * spreads fast, with «also reported by» (in the alert's `language`, English when unknown) and the
 * other outlets' links and languages. In Arabic each «Source (xx)» is isolated, so the Latin name,
 * its parentheses and the commas keep their order in right-to-left text.
 */
export function renderStoryUpdate(
  base: { html: string; text: string },
  breaking: boolean,
  others: OtherReport[],
  language: string | null = null,
): { html: string; text: string } {
  const lang = updateLanguage(language);
  const wording = UPDATE_WORDING[lang];
  const rtl = lang === 'ar';
  const entries = others.slice(0, MAX_LISTED_REPORTS).map((r) => {
    const source = truncate(r.source, MAX_SOURCE_NAME);
    const code = languageCode(r.language);
    const suffix = code === null ? '' : ` (${code})`;
    const href = safeHref(r.link);
    const name = href ? `<a href="${escapeHtml(href)}">${escapeHtml(source)}</a>` : escapeHtml(source);
    const text = `${source}${suffix}${r.link && r.link.length <= MAX_TEXT_LINK ? ` (${r.link})` : ''}`;
    return rtl ? { html: isolate(`${name}${suffix}`), text: isolate(text) } : { html: `${name}${suffix}`, text };
  });
  const line = (items: string[], more: number) => `${wording.alsoReported}: ${items.join(', ')}${more > 0 ? ` ${wording.more(more)}` : ''}`;
  // As many as fit in the room the alert left (hostile names and links can be long); the rest are counted.
  const room = UPDATE_ROOM - BREAKING_PREFIX.length - 3;
  let shown = entries.length;
  for (; shown > 1; shown--) {
    const listed = entries.slice(0, shown);
    const more = others.length - shown;
    const fits =
      visibleLength(line(listed.map((e) => e.html), more)) <= room && line(listed.map((e) => e.text), more).length <= room;
    if (fits) break;
  }
  const more = others.length - shown;
  const htmlLine = line(entries.slice(0, shown).map((e) => e.html), more);
  const textLine = line(entries.slice(0, shown).map((e) => e.text), more);
  const html = [...(breaking ? [`<b>${BREAKING_PREFIX}</b>`] : []), base.html, ...(shown > 0 ? [`\n${htmlLine}`] : [])].join('\n');
  const text = [...(breaking ? [BREAKING_PREFIX] : []), base.text, ...(shown > 0 ? [`\n${textLine}`] : [])].join('\n');
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
