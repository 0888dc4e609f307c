// Bytes of a feed (from HTTP or a file) to a parsed feed: decode, then parse. Shared by the
// worker's cycle and `steppewatch inspect`, so both see feeds exactly alike.

import { decodeBody } from './encoding.js';
import type { ParsedFeed } from './item.js';
import { parseFeed } from './parse.js';

export interface ReadFeed extends ParsedFeed {
  /** the charset the body was decoded with */
  charset: string;
}

export async function readFeed(
  body: Uint8Array,
  contentType: string | null,
  feedUrl: string,
  languageHint?: string,
): Promise<ReadFeed> {
  const { text, charset } = decodeBody(body, contentType);
  return { ...(await parseFeed(text, feedUrl, languageHint)), charset };
}
