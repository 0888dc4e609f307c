// RSS 0.9x/2.0, RSS 1.0 (RDF) and Atom through rss-parser's parseString, adapted to Item.

import Parser from 'rss-parser';
import { z } from 'zod';
import { itemContext, MAX_ITEMS, parseDate, safeLink, toItem } from './adapt.js';
import { prepareAtom } from './atom.js';
import type { FeedFormat, ParsedFeed } from './item.js';

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
  items: z.array(z.unknown()).default([]),
});

/**
 * A parser per document: xml2js keeps error state between documents, so after a hostile one a
 * shared parser can accept the next broken document silently. Construction is cheap.
 * Entities and DTDs are never resolved: sax (under xml2js) refuses undeclared entities and does
 * not fetch external ones. `defaultRSS` reads an <rss> without a version as RSS 2.0.
 */
function newParser(): Parser {
  return new Parser({ defaultRSS: 2, customFields: { feed: ['dc:language'] } });
}

/** The xml:base of the root element, if any: the base for the feed's relative links. */
function rootXmlBase(text: string, feedUrl: string): string | null {
  const root = /<(?:feed|rss|rdf:RDF)\b[^>]*>/u.exec(text)?.[0] ?? '';
  const base = /\sxml:base\s*=\s*["']([^"']+)["']/u.exec(root)?.[1];
  return base ? safeLink(base, feedUrl) : null;
}

/** Parses XML feed text; throws when it is not a feed rss-parser understands. */
export async function parseXmlFeed(text: string, feedUrl: string, format: FeedFormat, languageHint?: string): Promise<ParsedFeed> {
  const source = format === 'atom' ? prepareAtom(text) : text;
  const feed = RssParserFeed.parse(await newParser().parseString(source));
  const base = rootXmlBase(text, feedUrl) ?? safeLink(feed.link, feedUrl) ?? feedUrl;
  const feedLanguage = (feed.language ?? feed['dc:language'])?.trim().toLowerCase().split(/[-_]/u)[0] || null;
  const context = itemContext(feedUrl, feedLanguage, languageHint);
  const items = feed.items.slice(0, MAX_ITEMS).map((raw) => {
    const entry = RssParserItem.parse(raw);
    return toItem(
      {
        guid: entry.guid ?? entry.id ?? null,
        link: safeLink(entry.link, base),
        titleHtml: entry.title ?? null,
        bodyHtml: entry['content:encoded'] ?? entry.content ?? entry.summary ?? null,
        // Raw dates first: rss-parser's isoDate misses zones Date.parse does not know (MSK, ALMT).
        published: parseDate(entry.pubDate) ?? parseDate(entry.date) ?? parseDate(entry.isoDate),
        author: entry.creator ?? entry.author ?? null,
        language: entry.language?.trim().toLowerCase().split(/[-_]/u)[0] || null,
      },
      context,
    );
  });
  return {
    format,
    title: feed.title?.trim() || null,
    link: safeLink(feed.link, feedUrl),
    language: feedLanguage,
    items,
  };
}
