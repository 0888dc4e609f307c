// JSON Feed 1.0/1.1 (jsonfeed.org), parsed by us and adapted to Item.

import { z } from 'zod';
import { feedTitle, itemContext, languageTag, MAX_ITEMS, parseDate, safeLink, toItem } from './adapt.js';
import type { ParsedFeed } from './item.js';

const optionalString = z.string().optional().catch(undefined);
const author = z.looseObject({ name: optionalString }).optional().catch(undefined);

const JsonFeedItem = z.looseObject({
  id: z.union([z.string(), z.number().transform(String)]).optional().catch(undefined),
  url: optionalString,
  external_url: optionalString,
  title: optionalString,
  content_html: optionalString,
  content_text: optionalString,
  summary: optionalString,
  date_published: optionalString,
  date_modified: optionalString,
  author,
  authors: z.array(author).optional().catch(undefined),
  language: optionalString,
});

const JsonFeed = z.looseObject({
  version: z.string().regex(/^https:\/\/jsonfeed\.org\/version\/1(\.1)?$/u, { message: 'not a JSON Feed version URL' }),
  title: optionalString,
  home_page_url: optionalString,
  language: optionalString,
  items: z.array(z.unknown()),
  // WebSub (JSON Feed 1.1 `hubs`) and the feed's own URL, its topic
  feed_url: optionalString,
  hubs: z.array(z.looseObject({ type: optionalString, url: optionalString })).optional().catch(undefined),
});

function escapeText(text: string): string {
  return text.replace(/&/gu, '&amp;').replace(/</gu, '&lt;');
}

/** Parses JSON Feed text; throws when it is not a JSON Feed. */
export function parseJsonFeed(text: string, feedUrl: string, languageHint?: string): ParsedFeed {
  const feed = JsonFeed.parse(JSON.parse(text));
  const base = safeLink(feed.home_page_url, feedUrl) ?? feedUrl;
  const feedLanguage = languageTag(feed.language);
  const context = itemContext(feedUrl, feedLanguage, languageHint);
  const items = feed.items.slice(0, MAX_ITEMS).flatMap((raw) => {
    const parsed = JsonFeedItem.safeParse(raw);
    if (!parsed.success) return []; // one malformed entry does not sink the feed
    const entry = parsed.data;
    const body = entry.content_html ?? (entry.content_text ? escapeText(entry.content_text) : entry.summary);
    return [
      toItem(
        {
          guid: entry.id ?? null,
          link: safeLink(entry.url ?? entry.external_url, base),
          titleHtml: entry.title ? escapeText(entry.title) : null,
          bodyHtml: body ?? null,
          published: parseDate(entry.date_published ?? entry.date_modified),
          author: entry.authors?.[0]?.name ?? entry.author?.name ?? null,
          language: languageTag(entry.language),
        },
        context,
      ),
    ];
  });
  const hubs = (feed.hubs ?? [])
    .filter((hub) => (hub.type ?? '').toLowerCase() === 'websub')
    .flatMap((hub) => safeLink(hub.url, feedUrl) ?? []);
  return {
    format: 'json',
    title: feedTitle(feed.title ? escapeText(feed.title) : null),
    link: safeLink(feed.home_page_url, feedUrl),
    language: feedLanguage,
    items,
    hubs,
    self: safeLink(feed.feed_url, feedUrl),
  };
}
