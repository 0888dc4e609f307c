// Every document in test/fixtures/feeds/ goes through the real decoder and parser (readFeed) and is
// checked against its sidecar NAME.expected.json. See test/fixtures/feeds/README.md for the groups.

import { readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Item } from '../../src/feeds/item.js';
import { FeedParseError } from '../../src/feeds/parse.js';
import { readFeed } from '../../src/feeds/read.js';

const DIR = new URL('../fixtures/feeds/', import.meta.url);
const DEFAULT_FEED_URL = 'https://feeds.example.test/feed.xml';
const EXPECTED_SUFFIX = '.expected.json';
const DOCUMENT = /\.(xml|json|bin)$/u;
/** Parsed before each check so that every fixture starts from a clean, successful parse. */
const WELL_FORMED = new TextEncoder().encode('<rss version="2.0"><channel><title>between fixtures</title></channel></rss>');

const ItemExpectation = z.strictObject({
  title: z.string().optional(),
  link: z.string().nullable().optional(),
  guid: z.string().nullable().optional(),
  id: z.string().optional(),
  idMatches: z.string().optional(),
  published: z.iso.datetime().nullable().optional(),
  author: z.string().nullable().optional(),
  language: z.string().nullable().optional(),
  textIncludes: z.array(z.string()).optional(),
  textExcludes: z.array(z.string()).optional(),
});

const Expectation = z
  .strictObject({
    description: z.string().min(1),
    contentType: z.string().nullable().default(null),
    feedUrl: z.url().default(DEFAULT_FEED_URL),
    languageHint: z.string().optional(),
    error: z.literal('FeedParseError').optional(),
    errorMatches: z.string().optional(),
    feed: z
      .strictObject({
        format: z.enum(['rss', 'rdf', 'atom', 'json']).optional(),
        title: z.string().nullable().optional(),
        link: z.string().nullable().optional(),
        language: z.string().nullable().optional(),
        charset: z.string().optional(),
      })
      .optional(),
    items: z.array(ItemExpectation).optional(),
  })
  .refine((e) => (e.error === undefined) !== (e.items === undefined), {
    message: 'give either "error" (a must-fail fixture) or "items" (a feed), not both or neither',
  });

type ItemExpectation = z.infer<typeof ItemExpectation>;

const files = readdirSync(DIR);
const documents = files.filter((name) => DOCUMENT.test(name) && !name.endsWith(EXPECTED_SUFFIX)).sort();

function expectationFor(document: string): z.infer<typeof Expectation> {
  const sidecar = document.replace(DOCUMENT, EXPECTED_SUFFIX);
  return Expectation.parse(JSON.parse(readFileSync(new URL(sidecar, DIR), 'utf8')));
}

/** The fields of an item that the expectation names, in the expectation's shape. */
function pick(item: Item, expected: ItemExpectation): Record<string, unknown> {
  const actual: Record<string, unknown> = {};
  if (expected.title !== undefined) actual['title'] = item.title;
  if (expected.link !== undefined) actual['link'] = item.link;
  if (expected.guid !== undefined) actual['guid'] = item.guid;
  if (expected.id !== undefined) actual['id'] = item.id;
  if (expected.published !== undefined) actual['published'] = item.published ? item.published.toISOString() : null;
  if (expected.author !== undefined) actual['author'] = item.author;
  if (expected.language !== undefined) actual['language'] = item.language;
  return actual;
}

/** The expectation's exact-value fields (the text fragments and id pattern are checked apart). */
function exactFields(expected: ItemExpectation): Record<string, unknown> {
  const NOT_EXACT = new Set(['textIncludes', 'textExcludes', 'idMatches']);
  return Object.fromEntries(Object.entries(expected).filter(([key]) => !NOT_EXACT.has(key)));
}

/** What holds for every item whatever the fixture: the id rule, absolute http(s) links, the feed URL. */
function checkInvariants(item: Item, feedUrl: string, label: string): void {
  expect(item.feedUrl, `${label} feedUrl`).toBe(feedUrl);
  if (item.guid !== null) expect(item.id, `${label} id = guid`).toBe(item.guid);
  else if (item.link !== null) expect(item.id, `${label} id = link`).toBe(item.link);
  else expect(item.id, `${label} id = hash`).toMatch(/^sha1:[0-9a-f]{40}$/u);
  if (item.link !== null) expect(item.link, `${label} link`).toMatch(/^https?:\/\//u);
  expect(item.title, `${label} title is one line`).not.toMatch(/\n/u);
  if (item.published !== null) expect(Number.isNaN(item.published.getTime()), `${label} published is a real date`).toBe(false);
}

describe('feed corpus', () => {
  it('has at least 80 documents, each with an expectation, and no orphan expectations', () => {
    expect(documents.length).toBeGreaterThanOrEqual(80);
    const names = new Set(documents.map((d) => d.replace(DOCUMENT, '')));
    expect(names.size, 'two documents share a name').toBe(documents.length);
    for (const document of documents) expect(files, `sidecar of ${document}`).toContain(document.replace(DOCUMENT, EXPECTED_SUFFIX));
    for (const sidecar of files.filter((f) => f.endsWith(EXPECTED_SUFFIX))) {
      expect(names.has(sidecar.slice(0, -EXPECTED_SUFFIX.length)), `document for ${sidecar}`).toBe(true);
    }
  });

  // readFeed keeps no state between calls: a must-fail document still fails right after any other one.
  it('rejects every must-fail document whatever was parsed just before it', async () => {
    const read = (document: string): Promise<string> => {
      const expected = expectationFor(document);
      return readFeed(new Uint8Array(readFileSync(new URL(document, DIR))), expected.contentType, expected.feedUrl).then(
        () => 'resolved',
        (error: unknown) => (error instanceof FeedParseError ? 'rejected' : 'threw something other than FeedParseError'),
      );
    };
    const mustFail = documents.filter((document) => expectationFor(document).error !== undefined);
    const accepted: string[] = [];
    for (const before of mustFail) {
      for (const document of mustFail) {
        await readFeed(WELL_FORMED, null, DEFAULT_FEED_URL); // each pair starts from a successful parse
        await read(before);
        const outcome = await read(document);
        if (outcome !== 'rejected') accepted.push(`${document} after ${before}: ${outcome}`);
      }
    }
    expect(accepted).toEqual([]);
  });

  // The bad- group is what must be refused (not feeds, hostile), and nothing else: every other
  // document gives a feed, however defective.
  it('every document outside bad- parses, and every bad- document must fail', async () => {
    const outcomes = await Promise.all(
      documents.map(async (document) => {
        const expected = expectationFor(document);
        const body = new Uint8Array(readFileSync(new URL(document, DIR)));
        const parsed = await readFeed(body, expected.contentType, expected.feedUrl, expected.languageHint).then(
          () => true,
          () => false,
        );
        return { document, bad: document.startsWith('bad-'), mustFail: expected.error !== undefined, parsed };
      }),
    );
    expect(outcomes.filter((o) => o.bad !== o.mustFail).map((o) => o.document), 'bad- prefix ⇔ an "error" expectation').toEqual([]);
    expect(outcomes.filter((o) => !o.bad && !o.parsed).map((o) => o.document), 'documents outside bad- that fail').toEqual([]);
  });

  // Plain text only: no field of any parsed feed carries markup or URLs a renderer could run.
  it('no string field of any parsed fixture (feed or item) carries active markup', async () => {
    const ACTIVE = [/<script/iu, /<iframe/iu, /<object/iu, /<embed/iu, /javascript:/iu, /(?<![\p{L}\p{N}_])on\w+\s*=/iu];
    const found: string[] = [];
    for (const document of documents.filter((d) => expectationFor(d).error === undefined)) {
      const expected = expectationFor(document);
      const feed = await readFeed(new Uint8Array(readFileSync(new URL(document, DIR))), expected.contentType, expected.feedUrl, expected.languageHint);
      const fields: Array<[string, unknown]> = [
        ...Object.entries(feed).filter(([key]) => key !== 'items'),
        ...feed.items.flatMap((item, i) => Object.entries(item).map(([key, value]): [string, unknown] => [`items[${i}].${key}`, value])),
      ];
      for (const [key, value] of fields) {
        if (typeof value !== 'string') continue;
        for (const pattern of ACTIVE) if (pattern.test(value)) found.push(`${document} ${key}: ${pattern.source} in ${JSON.stringify(value.slice(0, 120))}`);
      }
    }
    expect(found).toEqual([]);
  });

  it.each(documents)('%s', async (document) => {
    const expected = expectationFor(document);
    const body = new Uint8Array(readFileSync(new URL(document, DIR)));
    // Independent of the order fixtures run in (what one parse leaves behind is the test above's business).
    await readFeed(WELL_FORMED, null, DEFAULT_FEED_URL);
    const started = performance.now();
    const attempt = readFeed(body, expected.contentType, expected.feedUrl, expected.languageHint);

    if (expected.error !== undefined) {
      await expect(attempt).rejects.toBeInstanceOf(FeedParseError);
      expect(performance.now() - started, 'rejected within 1 s').toBeLessThan(1000);
      const reason: unknown = await attempt.catch((error: unknown) => error);
      const message = reason instanceof Error ? reason.message : String(reason);
      expect(message).not.toContain('root:');
      if (expected.errorMatches !== undefined) expect(message).toMatch(new RegExp(expected.errorMatches, 'u'));
      return;
    }

    const feed = await attempt;
    expect(JSON.stringify(feed), 'nothing from /etc/passwd').not.toContain('root:');
    if (expected.feed !== undefined) {
      const actualFeed: Record<string, unknown> = {};
      for (const key of Object.keys(expected.feed) as Array<keyof typeof expected.feed>) actualFeed[key] = feed[key];
      expect(actualFeed, 'feed').toEqual(expected.feed);
    }

    const expectedItems = expected.items ?? [];
    expect(feed.items.map((item) => item.title), 'item count').toHaveLength(expectedItems.length);
    feed.items.forEach((item, index) => {
      const want = expectedItems[index];
      const label = `item ${index}`;
      checkInvariants(item, expected.feedUrl, label);
      if (want === undefined) return;
      expect(pick(item, want), label).toEqual(exactFields(want));
      if (want.idMatches !== undefined) expect(item.id, `${label} id`).toMatch(new RegExp(want.idMatches, 'u'));
      for (const fragment of want.textIncludes ?? []) expect(item.text, `${label} text`).toContain(fragment);
      for (const fragment of want.textExcludes ?? []) expect(item.text, `${label} text`).not.toContain(fragment);
    });
  });
});
