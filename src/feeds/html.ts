// HTML from feeds (titles, descriptions, content) to clean plain text.

import { compile } from 'html-to-text';

const toText = compile({
  wordwrap: false,
  decodeEntities: true,
  selectors: [
    { selector: 'a', options: { ignoreHref: true } },
    { selector: 'img', format: 'skip' },
    { selector: 'script', format: 'skip' },
    { selector: 'style', format: 'skip' },
    { selector: 'iframe', format: 'skip' },
    { selector: 'h1', options: { uppercase: false } },
    { selector: 'h2', options: { uppercase: false } },
    { selector: 'h3', options: { uppercase: false } },
    { selector: 'table', format: 'dataTable', options: { uppercaseHeaderCells: false } },
  ],
});

const LOOKS_LIKE_HTML = /<\/?[a-z][\s\S]*?>|&(#\d+|#x[0-9a-f]+|[a-z]+);/iu;

/** Plain text of an HTML fragment (or of text that only has entities), whitespace tidied. */
export function htmlToText(html: string): string {
  const text = LOOKS_LIKE_HTML.test(html) ? toText(html) : html;
  return text
    .replace(/[ \t\u00a0]+/gu, ' ')
    .replace(/ *\n */gu, '\n')
    .replace(/\n{3,}/gu, '\n\n')
    .trim();
}

/** A one-line plain-text title. */
export function cleanTitle(html: string): string {
  return htmlToText(html).replace(/\s+/gu, ' ').trim();
}
