// `steppewatch inspect URL|FILE… [--json]`: feeds through the real fetcher and parser, printed
// as a table for people or as JSON lines for tools (contract in DESIGN.md).

import { readFile, stat } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { runPooled } from '../concurrency.js';
import { fetchFeed } from './fetch.js';
import type { Item } from './item.js';
import { readFeed, type ReadFeed } from './read.js';
import { channelOfPreviewUrl } from './telegram-channel.js';

export interface InspectOptions {
  json: boolean;
  out: NodeJS.WritableStream;
  timeoutMs: number;
  maxBytes: number;
}

async function load(source: string, options: InspectOptions): Promise<ReadFeed> {
  if (/^https?:\/\//iu.test(source)) {
    const fetched = await fetchFeed({ url: source, timeoutMs: options.timeoutMs, maxBytes: options.maxBytes });
    if (fetched.kind !== 'ok') throw new Error('server answered 304 Not Modified to an unconditional request');
    // A public Telegram channel's preview page (https://t.me/s/NAME) is read as the worker reads it.
    return readFeed(fetched.body, fetched.contentType, fetched.url, undefined, channelOfPreviewUrl(source) ?? undefined);
  }
  // Checked before reading: /dev/zero or a 50 GB file is refused, not read into memory.
  const { size, isFile } = await stat(source).then((s) => ({ size: s.size, isFile: s.isFile() }));
  if (!isFile) throw new Error('not a regular file');
  if (size > options.maxBytes) throw new Error(`file of ${size} bytes exceeds the cap of ${options.maxBytes}`);
  const body = await readFile(source);
  if (body.byteLength > options.maxBytes) throw new Error(`file of ${body.byteLength} bytes exceeds the cap of ${options.maxBytes}`);
  return readFeed(body, null, pathToFileURL(source).href);
}

function itemLine(source: string, feed: ReadFeed, index: number | null, item: Item | null): string {
  return JSON.stringify({
    source,
    feed: { title: feed.title, link: feed.link, language: feed.language, charset: feed.charset, format: feed.format },
    index,
    title: item?.title ?? null,
    link: item?.link ?? null,
    guid: item?.guid ?? null,
    published: item?.published?.toISOString() ?? null,
    author: item?.author ?? null,
    language: item?.language ?? null,
    text: item?.text ?? null,
    id: item?.id ?? null,
  });
}

function table(source: string, feed: ReadFeed): string {
  const head = `${source}\n  ${feed.title ?? '(untitled)'} — ${feed.format}, ${feed.charset}, language ${feed.language ?? '?'}, ${feed.items.length} items\n`;
  const rows = feed.items.map((item, i) => {
    const when = item.published?.toISOString().slice(0, 16).replace('T', ' ') ?? 'undated         ';
    return `  ${String(i).padStart(3)}  ${when}  [${item.language ?? '?'}] ${item.title}\n       ${item.link ?? '(no link)'}${item.guid && item.guid !== item.link ? `  guid ${item.guid}` : ''}\n`;
  });
  return `${head}${rows.join('')}\n`;
}

/** Inspects each source in order; resolves to the number of sources that failed. */
export async function inspectSources(sources: string[], options: InspectOptions): Promise<number> {
  let failed = 0;
  // Load several at once (URLs wait on the network; thousands of files must not exhaust file
  // handles), print in the order given.
  const results: Array<PromiseSettledResult<ReadFeed>> = [];
  await runPooled(
    sources.map((source, index) => ({ source, index })),
    () => 'all',
    { limit: 16, perKey: 16 },
    async ({ source, index }) => {
      try {
        results[index] = { status: 'fulfilled', value: await load(source, options) };
      } catch (reason) {
        results[index] = { status: 'rejected', reason };
      }
    },
  );
  results.forEach((result, i) => {
    const source = sources[i] ?? '';
    if (result.status === 'rejected') {
      failed++;
      const error = (result.reason as Error).message;
      options.out.write(options.json ? `${JSON.stringify({ source, error })}\n` : `${source}\n  error: ${error}\n\n`);
      return;
    }
    const feed = result.value;
    if (!options.json) {
      options.out.write(table(source, feed));
    } else if (feed.items.length === 0) {
      options.out.write(`${itemLine(source, feed, null, null)}\n`);
    } else {
      options.out.write(feed.items.map((item, index) => `${itemLine(source, feed, index, item)}\n`).join(''));
    }
  });
  return failed;
}
