// RSS 0.9x/2.0, RSS 1.0 (RDF) and Atom through rss-parser's parseString, adapted to Item.

import Parser from 'rss-parser';
import { z } from 'zod';
import { parseDate, safeLink, toItem } from './adapt.js';
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
  items: z.array(z.unknown()).default([]),
});

// Entities and DTDs are never resolved: sax (under xml2js) does not fetch external entities.
const parser = new Parser();

const ATOM_DATE = /<(published|updated)>([^<]*)<\/\1>/gu;

/**
 * rss-parser calls toISOString() on Atom dates outside any try, so one bad date sinks the whole
 * feed: blank out the dates that do not parse, and the entries keep their first-seen time.
 */
function withoutInvalidAtomDates(text: string): string {
  return text.replace(ATOM_DATE, (whole, tag: string, value: string) =>
    Number.isNaN(new Date(value.trim()).getTime()) ? `<${tag}></${tag}>` : whole,
  );
}

/** The xml:base of the root element, if any: the base for the feed's relative links. */
function rootXmlBase(text: string, feedUrl: string): string | null {
  const root = /<(?:feed|rss|rdf:RDF)\b[^>]*>/u.exec(text)?.[0] ?? '';
  const base = /\sxml:base\s*=\s*["']([^"']+)["']/u.exec(root)?.[1];
  return base ? safeLink(base, feedUrl) : null;
}

/** Parses XML feed text; throws when it is not a feed rss-parser understands. */
export async function parseXmlFeed(text: string, feedUrl: string, format: FeedFormat, languageHint?: string): Promise<ParsedFeed> {
  const source = format === 'atom' ? withoutInvalidAtomDates(text) : text;
  const feed = RssParserFeed.parse(await parser.parseString(source));
  const base = rootXmlBase(text, feedUrl) ?? safeLink(feed.link, feedUrl) ?? feedUrl;
  const feedLanguage = feed.language?.trim().toLowerCase().split(/[-_]/u)[0] || null;
  const items = feed.items.map((raw) => {
    const entry = RssParserItem.parse(raw);
    return toItem(
      {
        guid: entry.guid ?? entry.id ?? null,
        link: safeLink(entry.link, base),
        titleHtml: entry.title ?? null,
        bodyHtml: entry['content:encoded'] ?? entry.content ?? entry.summary ?? null,
        published: parseDate(entry.isoDate ?? entry.pubDate),
        author: entry.creator ?? entry.author ?? null,
        language: entry.language?.trim().toLowerCase().split(/[-_]/u)[0] || null,
      },
      feedUrl,
      feedLanguage,
      languageHint,
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
