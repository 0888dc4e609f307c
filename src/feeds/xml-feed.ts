// RSS 0.9x/2.0, RSS 1.0 (RDF) and Atom through rss-parser's parseString, adapted to Item; what
// rss-parser refuses is read by the tolerant parser (tolerant.ts) instead.

import Parser from 'rss-parser';
import { z } from 'zod';
import { feedTitle, itemContext, languageTag, MAX_ITEMS, parseDate, parseTtl, safeLink, toItem } from './adapt.js';
import { prepareAtom } from './atom.js';
import type { FeedFormat, ParsedFeed } from './item.js';
import { channelOf, itemElements, linkOf, parseTolerant, xmlBaseResolver } from './tolerant.js';
import { childElements, readXmlTree, textContent, type XmlElement } from './xml-tree.js';

// rss-parser hands back xml2js shapes: a text node may be a string or { _: text, $: attrs }.
const textNode = z
  .union([z.string(), z.object({ _: z.string() }).transform((node) => node._), z.unknown().transform(() => undefined)])
  .optional();

const RssParserItem = z.looseObject({
  title: textNode,
  link: textNode,
  guid: textNode,
  id: textNode,
  isoDate: textNode,
  pubDate: textNode,
  date: textNode,
  creator: textNode,
  author: textNode,
  language: textNode,
  content: textNode,
  summary: textNode,
  'content:encoded': textNode,
});

const RssParserFeed = z.looseObject({
  title: textNode,
  link: textNode,
  language: textNode,
  'dc:language': textNode,
  ttl: textNode,
  items: z.array(z.unknown()).default([]),
});

/**
 * A parser per document: xml2js keeps error state between documents, so after a hostile one a
 * shared parser can accept the next broken document silently. Construction is cheap.
 * Entities and DTDs are never resolved: sax (under xml2js) refuses undeclared entities and does
 * not fetch external ones. `defaultRSS` reads an <rss> without a version as RSS 2.0.
 */
function newParser(): Parser {
  return new Parser({ defaultRSS: 2, customFields: { feed: ['dc:language', 'ttl'] } });
}

/** The xml:base of the root element, if any: the base for the feed's relative links. */
function rootXmlBase(text: string, feedUrl: string): string | null {
  const root = /<(?:feed|rss|rdf:RDF)\b[^>]*>/u.exec(text)?.[0] ?? '';
  const base = /\sxml:base\s*=\s*["']([^"']+)["']/u.exec(root)?.[1];
  return base ? safeLink(base, feedUrl) : null;
}

const XML_BASE = /\sxml:base\s*=/gu;
// An item or entry element, prefixed or not: rss-parser finding none in a document that has some
// (RSS 1.0 with prefixed elements) is a misreading, not an empty feed.
const ITEM_ELEMENT = /<(?:[\w.-]+:)?(?:item|entry)[\s>/]/u;

/** Whether some element below the root declares xml:base (then each link needs its own base). */
function hasNestedXmlBase(text: string, rootBase: string | null): boolean {
  return (text.match(XML_BASE)?.length ?? 0) > (rootBase ? 1 : 0);
}

/** The link element of an item whose URL is `raw`, else the item: where a link's xml:base chain starts. */
function linkElement(item: XmlElement, raw: string): XmlElement {
  const wanted = raw.trim();
  return childElements(item, 'link').find((link) => (link.attrs['href'] ?? textContent(link)).trim() === wanted) ?? item;
}

/** The first line of an error's message. */
function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}

/** Deeper than any feed nests its elements (an item's HTML is escaped text, not elements). */
const MAX_XML_DEPTH = 256;

/**
 * Whether the elements nest deeper than `limit`: one linear pass over the tags. xml2js keeps
 * building its tree past its first error, so three million nested elements cost rss-parser
 * seconds and a gigabyte before it gives up; such a document goes to the tolerant parser, whose
 * tree stops at a fixed depth.
 */
export function nestsDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  for (let at = text.indexOf('<'); at !== -1; at = text.indexOf('<', at + 1)) {
    const next = text.charCodeAt(at + 1);
    if (next === 0x21 /* ! */) {
      // A comment or CDATA section may hold anything; skip to its end.
      const end = text.startsWith('<!--', at) ? text.indexOf('-->', at) : text.startsWith('<![CDATA[', at) ? text.indexOf(']]>', at) : text.indexOf('>', at);
      if (end === -1) return false;
      at = end;
    } else if (next === 0x2f /* / */) depth = Math.max(0, depth - 1);
    else if (next !== 0x3f /* ? */) {
      const end = text.indexOf('>', at);
      if (end === -1) return false;
      if (text.charCodeAt(end - 1) !== 0x2f && ++depth > limit) return true;
      at = end;
    }
  }
  return false;
}

/** Parses XML feed text; throws when it is not a feed rss-parser or the tolerant parser can read. */
export async function parseXmlFeed(text: string, feedUrl: string, format: FeedFormat, languageHint?: string): Promise<ParsedFeed> {
  const source = format === 'atom' ? prepareAtom(text) : text;
  if (nestsDeeperThan(source, MAX_XML_DEPTH)) return parseTolerant(source, feedUrl, format, languageHint);
  let feed: z.infer<typeof RssParserFeed>;
  try {
    feed = RssParserFeed.parse(await newParser().parseString(source));
  } catch (error) {
    try {
      return parseTolerant(source, feedUrl, format, languageHint);
    } catch (tolerant) {
      throw new Error(`${firstLine(error)}; read leniently: ${firstLine(tolerant)}`, { cause: tolerant });
    }
  }
  if (feed.items.length === 0 && ITEM_ELEMENT.test(source)) {
    const tolerant = parseTolerant(source, feedUrl, format, languageHint);
    if (tolerant.items.length > 0) return tolerant;
  }
  const rootBase = rootXmlBase(source, feedUrl);
  // Per-element xml:base needs the elements: read them into the tolerant tree, and pair its items
  // with rss-parser's by position (both in document order; if they disagree, the root base only).
  const tree = hasNestedXmlBase(source, rootBase) ? readXmlTree(source).root : null;
  const elements = tree ? itemElements(tree, format, false) : [];
  const itemNodes = elements.length === feed.items.length ? elements : [];
  const xmlBase = xmlBaseResolver(feedUrl);
  const channelLink = tree ? linkOf(channelOf(tree, format), format)?.element : undefined;
  const link = safeLink(feed.link, (channelLink && xmlBase(channelLink)) ?? rootBase ?? feedUrl);
  const base = rootBase ?? link ?? feedUrl;
  const feedLanguage = languageTag(feed.language ?? feed['dc:language']);
  const context = itemContext(feedUrl, feedLanguage, languageHint);
  const items = feed.items.slice(0, MAX_ITEMS).map((raw, index) => {
    const entry = RssParserItem.parse(raw);
    const node = itemNodes[index];
    const linkBase = node && entry.link ? xmlBase(linkElement(node, entry.link)) : null;
    return toItem(
      {
        guid: entry.guid ?? entry.id ?? null,
        link: safeLink(entry.link, linkBase ?? base),
        titleHtml: entry.title ?? null,
        bodyHtml: entry['content:encoded'] ?? entry.content ?? entry.summary ?? null,
        // Raw dates first: rss-parser's isoDate misses zones Date.parse does not know (MSK, ALMT).
        published: parseDate(entry.pubDate) ?? parseDate(entry.date) ?? parseDate(entry.isoDate),
        author: entry.creator ?? entry.author ?? null,
        language: languageTag(entry.language),
      },
      context,
    );
  });
  return { format, title: feedTitle(feed.title), link, language: feedLanguage, items, ttlMinutes: format === 'rss' ? parseTtl(feed.ttl) : null };
}
