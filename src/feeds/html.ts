// HTML from feeds (titles, descriptions, content) to clean plain text, within bounds: a hostile
// item (megabytes of text, thousands of nested or unclosed tags) costs a known, small amount of
// CPU and memory, and what was cut is marked.

import { compile } from 'html-to-text';

/** Where cut text is marked. */
export const TRUNCATED = ' […]';
/** The most HTML of one field that is converted (a long article is some 100 KB; the rest is cut). */
export const MAX_HTML_CHARS = 100_000;
/** The most plain text an item's body keeps (matching, summaries and the store see no more). */
export const MAX_TEXT_CHARS = 30_000;
/** The most a title keeps, in and out. */
export const MAX_TITLE_HTML_CHARS = 4_000;
export const MAX_TITLE_CHARS = 1_000;

const toText = compile({
  wordwrap: false,
  decodeEntities: true,
  // Past this many children of one element content is skipped and marked (the depth is bounded
  // before, by boundNesting); the input is cut before, so its own length limit never speaks.
  limits: { maxChildNodes: 5_000, ellipsis: TRUNCATED, maxInputLength: MAX_HTML_CHARS + TRUNCATED.length + 1 },
  selectors: [
    { selector: 'a', options: { ignoreHref: true } },
    { selector: 'img', format: 'skip' },
    { selector: 'script', format: 'skip' },
    { selector: 'style', format: 'skip' },
    { selector: 'iframe', format: 'skip' },
    { selector: 'object', format: 'skip' },
    { selector: 'embed', format: 'skip' },
    { selector: 'applet', format: 'skip' },
    { selector: 'h1', options: { uppercase: false } },
    { selector: 'h2', options: { uppercase: false } },
    { selector: 'h3', options: { uppercase: false } },
    { selector: 'table', format: 'dataTable', options: { uppercaseHeaderCells: false } },
  ],
});

// Direction overrides, embeddings and isolates, zero-width spaces and joiners of words, BOMs and
// other invisible format characters: in feed text they only serve to spoof names and links (an
// RLO turns "gpj.exe" around). ZWNJ and ZWJ (Persian and Arabic spelling, emoji) and the plain
// LRM/RLM marks are kept.
const INVISIBLE = /[\u202a-\u202e\u2066-\u2069\u200b\u2060-\u2064\u206a-\u206f\ufeff\u180e]/gu;

const LOOKS_LIKE_HTML = /<\/?[a-z][\s\S]*?>|&(#\d+|#x[0-9a-f]+|[a-z]+);/iu;

/** `text` cut to at most `max` characters (not inside a surrogate pair), marked when cut. */
export function cap(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - TRUNCATED.length;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end--;
  return `${text.slice(0, end).trimEnd()}${TRUNCATED}`;
}

/** How deep elements may nest before the rest of the HTML is cut (sloppy HTML leaves many <p> and <li> open). */
export const MAX_NESTING = 256;
const TAG = /<(\/?)([a-zA-Z][\w:-]*)(?:[^>"']|"[^"]*"|'[^']*')*?(\/?)>/gu;
const VOID = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'source', 'track', 'wbr']);
// Elements a parser closes when the next of their kind opens: left open, they do not nest.
const SELF_ENDING = new Set(['p', 'li', 'dt', 'dd', 'option', 'tr', 'td', 'th']);

/**
 * The HTML up to where its elements nest deeper than `maxDepth`, in one linear scan: the parser
 * looks back through every open element for each tag it meets, so deep nesting costs it the
 * square of its depth.
 */
export function boundNesting(html: string, maxDepth = MAX_NESTING): string {
  let depth = 0;
  for (const tag of html.matchAll(TAG)) {
    if (tag[1] === '/') depth = Math.max(0, depth - 1);
    else {
      const name = (tag[2] ?? '').toLowerCase();
      if (tag[3] === '/' || VOID.has(name) || SELF_ENDING.has(name)) continue;
      if (++depth > maxDepth) return `${html.slice(0, tag.index)}${TRUNCATED}`;
    }
  }
  return html;
}

// Active markup that survives as literal text: escaped twice in the feed (&amp;lt;script&amp;gt;),
// or in a field that is not converted from HTML (author, guid). Plain text needs none of it, and it
// must never reach a store, a log or a chat that might render it. Each match becomes a space, and
// the patterns allow no space inside their names, so a removal never joins two pieces into a new
// match ("<scr<script>ipt>"): one pass is enough. Each pattern stops at the next < or > (or quote,
// or space), so a scan is linear however often the text repeats them.
// A script or style with its code, when the code holds no "<" (else only its tags go, below).
const ACTIVE_ELEMENT = /<(script|style)\b[^<>]*>[^<]*<\/\1\s*>/giu;
const ACTIVE_TAG = /<\/?(?:script|style|iframe|object|embed|applet|frameset|frame)\b[^<>]*>?/giu;
// A javascript: URL; "JavaScript: The Good Parts" (a colon, a space, a capital) is prose and stays.
const SCRIPT_URL = /javascript:(?!\s+\p{Lu})/giu;
const HANDLER = /(?<![\p{L}\p{N}_])on\w+\s*=\s*(?:"[^"<>]*"|'[^'<>]*'|[^\s<>"']*)/giu;

/** Plain text without script, style, iframe, object or embed tags, javascript: URLs or on…= handlers. */
export function stripActive(text: string): string {
  if (!/[<=:]/u.test(text)) return text;
  return text.replace(ACTIVE_ELEMENT, ' ').replace(ACTIVE_TAG, ' ').replace(SCRIPT_URL, ' ').replace(HANDLER, ' ');
}

/** Plain text of an HTML fragment (or of text that only has entities), whitespace tidied, within the caps. */
export function htmlToText(html: string, maxChars = MAX_TEXT_CHARS, maxHtmlChars = MAX_HTML_CHARS): string {
  const capped = cap(html, maxHtmlChars).replace(INVISIBLE, '');
  const input = boundNesting(capped);
  const cut = html.length > maxHtmlChars || input.length < capped.length;
  // Again after the conversion: an entity (&#x202E;) decodes to one.
  const text = stripActive(LOOKS_LIKE_HTML.test(input) ? toText(input) : input).replace(INVISIBLE, '');
  let tidy = text
    .replace(/[ \t\u00a0]+/gu, ' ')
    .replace(/ *\n */gu, '\n')
    .replace(/\n{3,}/gu, '\n\n')
    .trim();
  // Cut before the conversion: the mark may have gone with the markup around it.
  if (cut && !tidy.endsWith(TRUNCATED.trim())) tidy = `${tidy}${TRUNCATED}`.trim();
  return cap(tidy, maxChars);
}

/** A one-line plain-text title. */
export function cleanTitle(html: string): string {
  return cap(htmlToText(html, MAX_TITLE_HTML_CHARS, MAX_TITLE_HTML_CHARS).replace(/\s+/gu, ' ').trim(), MAX_TITLE_CHARS);
}
