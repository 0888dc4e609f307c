// OPML in and out: moving feed lists between steppewatch and other readers.

import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { parseStringPromise } from 'xml2js';
import { isMap, isSeq, parseDocument } from 'yaml';
import { z } from 'zod';
import { parseConfig, type Config } from '../config/load.js';
import { safeLink } from '../feeds/adapt.js';

/** An OPML file we cannot use; the message says why. */
export class OpmlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OpmlError';
  }
}

export interface OpmlFeed {
  url: string;
  title: string | null;
}

// xml2js with attributes under `$` and children as arrays; outlines nest to any depth.
interface Outline {
  $?: Record<string, string>;
  outline?: Outline[];
}
const OpmlSchema = z.object({
  opml: z.object({ body: z.array(z.object({ outline: z.array(z.custom<Outline>()).optional() }).loose()) }).loose(),
});

function collect(outlines: Outline[], into: OpmlFeed[], skipped: string[]): void {
  for (const outline of outlines) {
    const attrs = outline.$ ?? {};
    const xmlUrl = attrs.xmlUrl ?? attrs.xmlurl;
    if (xmlUrl !== undefined) {
      const url = safeLink(xmlUrl, null);
      if (url) into.push({ url, title: (attrs.title ?? attrs.text)?.trim() || null });
      else skipped.push(xmlUrl);
    }
    collect(outline.outline ?? [], into, skipped);
  }
}

/** The feeds an OPML document lists (nested categories flattened); non-http(s) URLs are skipped. */
export async function readOpml(text: string): Promise<{ feeds: OpmlFeed[]; skipped: string[] }> {
  let parsed: unknown;
  try {
    parsed = await parseStringPromise(text, { strict: true });
  } catch (error) {
    throw new OpmlError(`not valid XML: ${(error as Error).message.split('\n')[0] ?? ''}`);
  }
  const document = OpmlSchema.safeParse(parsed);
  if (!document.success) throw new OpmlError('not an OPML document (no <opml><body>)');
  const feeds: OpmlFeed[] = [];
  const skipped: string[] = [];
  for (const body of document.data.opml.body) collect(body.outline ?? [], feeds, skipped);
  return { feeds, skipped };
}

function xmlAttr(text: string): string {
  return text.replace(/&/gu, '&amp;').replace(/</gu, '&lt;').replace(/>/gu, '&gt;').replace(/"/gu, '&quot;');
}

/** An OPML 2.0 document listing the config's feeds. */
export function writeOpml(config: Config, now = new Date()): string {
  const outlines = config.feeds.map((feed) => {
    const title = xmlAttr(feed.name ?? feed.url);
    const language = feed.language ? ` language="${xmlAttr(feed.language)}"` : '';
    return `    <outline type="rss" text="${title}" title="${title}" xmlUrl="${xmlAttr(feed.url)}"${language}/>`;
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<opml version="2.0">',
    '  <head>',
    '    <title>steppewatch feeds</title>',
    `    <dateCreated>${now.toUTCString()}</dateCreated>`,
    '  </head>',
    '  <body>',
    ...outlines,
    '  </body>',
    '</opml>',
    '',
  ].join('\n');
}

export interface ImportResult {
  added: OpmlFeed[];
  present: number;
  skipped: string[];
}

/**
 * Adds the OPML's feeds that the config file lacks to its `feeds:` list, keeping the file's
 * comments and layout; the new file is validated before it replaces the old one.
 */
export async function importOpml(opmlText: string, configFile: string, env: NodeJS.ProcessEnv = process.env): Promise<ImportResult> {
  const { feeds, skipped } = await readOpml(opmlText);
  const text = readFileSync(configFile, 'utf8');
  const document = parseDocument(text);
  const list = document.get('feeds', true);
  if (!isSeq(list)) throw new OpmlError(`${configFile}: feeds: is not a list`);
  const known = new Set(
    list.items.flatMap((node) => (isMap(node) && typeof node.get('url') === 'string' ? [node.get('url') as string] : [])),
  );
  const added: OpmlFeed[] = [];
  let present = 0;
  for (const feed of feeds) {
    if (known.has(feed.url)) {
      present++;
      continue;
    }
    known.add(feed.url);
    added.push(feed);
    list.add(document.createNode(feed.title ? { url: feed.url, name: feed.title } : { url: feed.url }));
  }
  if (added.length > 0) {
    const updated = document.toString();
    parseConfig(updated, configFile, env); // throws ConfigError: the old file stays as it was
    const temporary = `${configFile}.tmp-${process.pid}`;
    writeFileSync(temporary, updated);
    renameSync(temporary, configFile);
  }
  return { added, present, skipped };
}
