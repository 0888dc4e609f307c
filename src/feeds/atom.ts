// Atom text before rss-parser sees it. rss-parser (through xml2js) loses what Atom's text
// constructs mean: a type="text" title is read as HTML (so "AT&T <not a tag>" loses its tail),
// type="xhtml" content comes back with its words reordered, Atom 0.3 dates are ignored, and one
// unparseable date throws and sinks the whole feed. This pass rewrites those parts into forms
// rss-parser reads correctly: every text construct as escaped HTML, every date as ISO 8601.
// Content in a MIME type (RFC 4287 §4.1.3; Atom 0.3's mode="base64") is decoded here too.

import { TextDecoder } from 'node:util';
import { parseDate } from './adapt.js';
import { MAX_HTML_CHARS } from './html.js';

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

/** How a text construct's content is to be read. */
type ContentKind = 'html' | 'text' | 'xhtml' | 'base64' | 'as-is';

/**
 * Atom 1.0: "text", "html", "xhtml", or a MIME type: XML types are inline markup, text/* is text,
 * anything else is base64 (RFC 4287 §4.1.3). Atom 0.3: a MIME type and a mode (escaped, xml or
 * base64).
 */
function contentKind(type: string, mode: string | undefined): ContentKind {
  if (mode === 'base64') return 'base64';
  if (type === 'html' || type === 'text/html') return 'html';
  if (mode === 'escaped') return type === 'text/plain' ? 'text' : 'html';
  if (type === 'xhtml' || /^[\w.+-]+\/(?:[\w.-]+\+)?xml$/u.test(type)) return 'xhtml';
  if (type === 'text' || type.startsWith('text/')) return 'text';
  return type.includes('/') ? 'base64' : 'as-is';
}

// Base64 longer than this is not decoded further: what it holds is cut to MAX_HTML_CHARS anyway
// (4 base64 characters carry 3 bytes, and a character of UTF-8 is up to 4).
const MAX_BASE64_CHARS = Math.ceil((MAX_HTML_CHARS * 4 * 4) / 3);
// Base64 content that is text: the textual MIME types besides text/*.
const TEXTUAL = /^(?:text\/|application\/(?:[\w.-]+\+)?(?:json|javascript|ecmascript)$)/u;
const utf8 = new TextDecoder('utf-8');

/** The text base64 content of a textual type holds, or null for binary content (an image, a PDF) or junk. */
function decodeBase64(inner: string, type: string): string | null {
  if (!TEXTUAL.test(type)) return null;
  const sample = xmlText(inner.slice(0, MAX_BASE64_CHARS + 10_000)).replace(/\s+/gu, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/u.test(sample)) return null;
  const usable = sample.slice(0, Math.min(MAX_BASE64_CHARS, sample.length - (sample.length % 4)));
  const text = utf8.decode(Buffer.from(usable, 'base64'));
  // Text has no NULs and few replacement characters (one may be a character cut at the end).
  const broken = text.match(/\uFFFD/gu)?.length ?? 0;
  return text.includes('\u0000') || broken > 1 + text.length / 100 ? null : text;
}

function rewriteTextConstruct(whole: string, tag: string, attrs: string, inner: string): string {
  const type = /\stype\s*=\s*["']([^"']*)["']/u.exec(attrs)?.[1]?.trim().toLowerCase() ?? 'text';
  const mode = /\smode\s*=\s*["']([^"']*)["']/u.exec(attrs)?.[1]?.trim().toLowerCase();
  const others = attrs.replace(/\s(?:type|mode)\s*=\s*["'][^"']*["']/gu, '');
  if (/\ssrc\s*=/u.test(attrs)) return whole; // out-of-line content: nothing to read here
  const kind = contentKind(type, mode);
  if (kind === 'base64') {
    const decoded = decodeBase64(inner, type);
    // Binary content is dropped, so that the summary (if any) is read instead.
    if (decoded === null) return '';
    const html = type === 'text/html' ? decoded : escapeXml(decoded);
    return `<${tag}${others} type="html">${escapeXml(html)}</${tag}>`;
  }
  if (kind === 'xhtml') {
    // The markup itself is the HTML: escape it once so it arrives as an HTML string, in order.
    return `<${tag}${others} type="html">${escapeXml(inner.replace(CDATA, (_m, data: string) => escapeXml(data)))}</${tag}>`;
  }
  if (kind === 'text') {
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
