// Sniffs a feed's format from its content (never from Content-Type) and hands it to its parser.

import { expandInternalEntities } from './doctype.js';
import { parseJsonFeed } from './json-feed.js';
import type { FeedFormat, ParsedFeed } from './item.js';
import { linksFromXml } from './websub.js';
import { parseXmlFeed } from './xml-feed.js';

export class FeedParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FeedParseError';
  }
}

/** The feed format the text looks like, or null when it looks like none. */
export function sniffFormat(text: string): FeedFormat | null {
  const head = text.slice(0, 4096).replace(/^\uFEFF/u, '').trimStart();
  if (head.startsWith('{')) return 'json';
  // Skip the prolog, comments, doctype and processing instructions to the root element.
  const root = /<(?![?!])([A-Za-z_][\w.:-]*)/u.exec(head.replace(/<!--[\s\S]*?-->/gu, ''))?.[1]?.toLowerCase();
  if (root === 'rss') return 'rss';
  if (root === 'feed') return 'atom';
  if (root === 'rdf:rdf') return 'rdf';
  return null;
}

/**
 * Parses feed text into the Item model; throws FeedParseError when it is no feed.
 * `languageHint` (from config) is used for items that do not declare their own language.
 */
export async function parseFeed(text: string, feedUrl: string, languageHint?: string): Promise<ParsedFeed> {
  let source = text;
  // Entities first, so that a hostile DOCTYPE is refused as such, however long it is; a few short
  // literal ones (HTML names, a site name) are expanded (doctype.ts).
  if (sniffFormat(text) !== 'json') {
    const doctype = expandInternalEntities(text);
    if ('refused' in doctype) throw new FeedParseError(doctype.refused);
    source = doctype.text;
  }
  const format = sniffFormat(source);
  if (!format) throw new FeedParseError('not a feed: no <rss>, <feed>, <rdf:RDF> or JSON Feed found');
  try {
    if (format === 'json') return parseJsonFeed(source, feedUrl, languageHint);
    const parsed = await parseXmlFeed(source, feedUrl, format, languageHint);
    // WebSub's links are read apart from the format parsers: one scan of the document's head.
    const { hubs, self } = linksFromXml(source, feedUrl);
    return { ...parsed, hubs, self };
  } catch (error) {
    throw new FeedParseError(`${format} feed did not parse: ${(error as Error).message.split('\n')[0] ?? ''}`);
  }
}
