// Bytes of a feed (from HTTP or a file) to a parsed feed: decode, then parse. Shared by the
// worker's cycle and `steppewatch inspect`, so both see feeds exactly alike.

import { decodeBody } from './encoding.js';
import type { ParsedFeed } from './item.js';
import { parseFeed } from './parse.js';
import { parseChannelPage } from './telegram-channel.js';

export interface ReadFeed extends ParsedFeed {
  /** the charset the body was decoded with */
  charset: string;
}

export async function readFeed(
  body: Uint8Array,
  contentType: string | null,
  feedUrl: string,
  languageHint?: string,
  /** the body is this public Telegram channel's preview page, not a feed */
  telegramChannel?: string,
): Promise<ReadFeed> {
  const { text, charset } = decodeBody(body, contentType);
  if (telegramChannel !== undefined) {
    return { ...parseChannelPage(text, { channel: telegramChannel, pageUrl: feedUrl, languageHint }), charset };
  }
  return { ...(await parseFeed(text, feedUrl, languageHint)), charset };
}
