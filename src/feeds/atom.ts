// Atom text before rss-parser sees it. rss-parser (through xml2js) loses what Atom's text
// constructs mean: a type="text" title is read as HTML (so "AT&T <not a tag>" loses its tail),
// type="xhtml" content comes back with its words reordered, Atom 0.3 dates are ignored, and one
// unparseable date throws and sinks the whole feed. This pass rewrites those parts into forms
// rss-parser reads correctly: every text construct as escaped HTML, every date as ISO 8601.

import { parseDate } from './adapt.js';

const TEXT_CONSTRUCT = /<(title|subtitle|summary|content|rights)((?:\s[^>]*)?)>([\s\S]*?)<\/\1>/gu;
const DATE = /<(published|updated)>([^<]*)<\/\1>/gu;
const CDATA = /<!\[CDATA\[([\s\S]*?)\]\]>/gu;

const XML_ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function escapeXml(text: string): string {
  return text.replace(/&/gu, '&amp;').replace(/</gu, '&lt;').replace(/>/gu, '&gt;');
}

/** The character data of XML content: entities decoded, CDATA sections unwrapped. */
function xmlText(content: string): string {
  return content
    .split(CDATA)
    .map((part, i) =>
      i % 2 === 1
        ? part
        : part.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/giu, (whole, name: string) => {
            if (name.startsWith('#x') || name.startsWith('#X')) return String.fromCodePoint(parseInt(name.slice(2), 16));
            if (name.startsWith('#')) return String.fromCodePoint(parseInt(name.slice(1), 10));
            return XML_ENTITIES[name] ?? whole;
          }),
    )
    .join('');
}

function rewriteTextConstruct(whole: string, tag: string, attrs: string, inner: string): string {
  const type = /\stype\s*=\s*["']([^"']*)["']/u.exec(attrs)?.[1]?.toLowerCase() ?? 'text';
  const others = attrs.replace(/\stype\s*=\s*["'][^"']*["']/u, '');
  if (/\ssrc\s*=/u.test(attrs)) return whole; // out-of-line content: nothing to read here
  if (type === 'xhtml') {
    // The markup itself is the HTML: escape it once so it arrives as an HTML string, in order.
    return `<${tag}${others} type="html">${escapeXml(inner.replace(CDATA, (_m, data: string) => escapeXml(data)))}</${tag}>`;
  }
  if (type === 'text' || type === 'text/plain') {
    // Plain text: escape it for HTML, then for XML, so HTML-to-text gives back exactly the text.
    return `<${tag}${others} type="html">${escapeXml(escapeXml(xmlText(inner)))}</${tag}>`;
  }
  return whole;
}

/** Atom 0.3's issued/modified are Atom 1.0's published/updated. */
function renameAtom03Dates(text: string): string {
  if (!/<feed\b[^>]*(version\s*=\s*["']0\.3["']|purl\.org\/atom\/ns#)/u.test(text)) return text;
  return text.replace(/<(\/?)issued>/gu, '<$1published>').replace(/<(\/?)modified>/gu, '<$1updated>');
}

export function prepareAtom(text: string): string {
  return renameAtom03Dates(text)
    .replace(TEXT_CONSTRUCT, rewriteTextConstruct)
    .replace(DATE, (_whole, tag: string, value: string) => {
      const date = parseDate(xmlText(value));
      return date ? `<${tag}>${date.toISOString()}</${tag}>` : `<${tag}></${tag}>`;
    });
}
