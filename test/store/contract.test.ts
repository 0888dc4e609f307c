// The Store contract, run against every implementation: SQLite (a temp file) and PostgreSQL (a
// fresh schema of TEST_DATABASE_URL). Cross-store tests open two stores on one database.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { openStore, StoreError } from '../../src/store/open.js';
import { advisoryKey, PG_MIGRATIONS, PostgresStore } from '../../src/store/postgres.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { StoreBusyError, type FeedBatch, type OutboxMessage, type Store, type StoryReport } from '../../src/store/store.js';
import { createTestSchema, testDatabaseUrl, useTestSchema, withTestClient } from '../support/postgres.js';

interface Database {
  /** opens one more store on this test's database (closed when the test ends) */
  open(): Promise<Store>;
}

interface Backend {
  name: string;
  /** false where this machine has no such database (PostgreSQL without TEST_DATABASE_URL, outside CI) */
  available: boolean;
  /** a new empty database for the running test, removed when it ends */
  database(): Promise<Database>;
}

/** Opens stores through `open`, and closes them all, then calls `cleanup`, when the test ends. */
function tracked(open: () => Promise<Store>, cleanup: () => Promise<void> | void): Database {
  const stores: Store[] = [];
  onTestFinished(async () => {
    for (const store of stores) await store.close().catch(() => undefined);
    await cleanup();
  });
  return {
    open: async () => {
      const store = await open();
      stores.push(store);
      return store;
    },
  };
}

const backends: Backend[] = [
  {
    name: 'SQLite',
    available: true,
    database: () => {
      const dir = mkdtempSync(join(tmpdir(), 'steppewatch-contract-'));
      const file = join(dir, 'db.sqlite');
      return Promise.resolve(
        tracked(
          () => Promise.resolve(new SqliteStore(file)),
          () => rmSync(dir, { recursive: true, force: true }),
        ),
      );
    },
  },
  {
    name: 'PostgreSQL',
    // Without TEST_DATABASE_URL (a developer machine without PostgreSQL) this half is skipped;
    // testDatabaseUrl() throws instead under CI, which must run it.
    available: testDatabaseUrl() !== undefined,
    database: async () => {
      const schema = await createTestSchema();
      return tracked(() => openStore(schema.url), () => schema.drop());
    },
  },
];

const FEED = 'https://f.test/rss';

function batch(overrides: Partial<FeedBatch> = {}): FeedBatch {
  return {
    feedUrl: FEED,
    at: 1_000,
    items: [{ key: 'g:1', title: 'Story', link: 'https://f.test/1', publishedAt: 900, decision: 'alerted', watchlists: ['w'], story: { newIndex: 0 }, contentHash: 'h1' }],
    newStories: [{ title: 'Story', link: 'https://f.test/1', keys: ['u:https://f.test/1'] }],
    storyKeys: [],
    reports: [],
    outbox: [alert({ newIndex: 0 }, '@chan')],
    outboxRewrites: [],
    breaking: [],
    digestItems: [],
    fetch: { etag: '"e1"', lastModified: null },
    ...overrides,
  };
}

/** A batch that writes nothing but the feed's success. */
function emptyBatch(overrides: Partial<FeedBatch> = {}): FeedBatch {
  return batch({ items: [], newStories: [], outbox: [], ...overrides });
}

function alert(story: OutboxMessage['story'], chat: string, threadId: number | null = null, html = `<b>${chat}</b>`): OutboxMessage {
  return { story, kind: 'alert', targetId: null, chat, threadId, linkPreview: false, html, text: html.replace(/<[^>]+>/gu, '') };
}

function report(story: StoryReport['story'], at: number, overrides: Partial<StoryReport> = {}): StoryReport {
  return {
    story,
    at,
    source: `s${at}.test`,
    link: `https://s${at}.test/a`,
    title: 'Story',
    language: 'en',
    signature: new Uint32Array([at, 0xffffffff, 0]),
    bands: 0x80000001,
    termHashes: new Uint32Array([7, 0x7fffffff]),
    entities: ['almaty'],
    numbers: ['164'],
    features: ['@almaty', 'n:164'],
    ...overrides,
  };
}

/** A promise and the function that settles it: lets a test decide when a holder finishes. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open = (): void => undefined;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

async function storyId(store: Store, key: string): Promise<number> {
  const story = await store.findStory([key], 0);
  if (!story) throw new Error(`no story with key ${key}`);
  return story.id;
}

describe.each(backends)('$name store', (backend) => {
  describe.skipIf(!backend.available)('contract', () => {
    const one = async (): Promise<Store> => (await backend.database()).open();
    const two = async (): Promise<[Store, Store]> => {
      const db = await backend.database();
      return [await db.open(), await db.open()];
    };

    describe('feeds', () => {
      it('knows no feed until one is recorded', async () => {
        const store = await one();
        expect(await store.getFeedState(FEED)).toBeNull();
        expect(await store.feedStates()).toEqual([]);
      });

      it('counts consecutive failures until a success, and reports a run of them once', async () => {
        const store = await one();
        await store.recordFeedFailure(FEED, 'HTTP 500', 1, 60_001);
        await store.recordFeedFailure(FEED, 'HTTP 502', 2, 120_002);
        expect(await store.getFeedState(FEED)).toEqual({
          url: FEED,
          title: null,
          etag: null,
          lastModified: null,
          firstPolledAt: null,
          lastSuccessAt: null,
          lastError: 'HTTP 502',
          consecutiveFailures: 2,
          nextPollAt: 120_002,
          fetchUrl: null,
          failingSince: 1,
          failureReportedAt: null,
          pollIntervalMs: null,
          pollReason: null,
          ttlMinutes: null,
          pollEarliestAt: null,
        });
        await store.markFeedFailureReported(FEED, 3);
        expect(await store.getFeedState(FEED)).toMatchObject({ failureReportedAt: 3, consecutiveFailures: 2 });
        await store.commitFeedBatch(batch({ at: 1_000 }));
        expect(await store.getFeedState(FEED)).toEqual({
          url: FEED,
          title: null,
          etag: '"e1"',
          lastModified: null,
          firstPolledAt: 1_000,
          lastSuccessAt: 1_000,
          lastError: null,
          consecutiveFailures: 0,
          nextPollAt: null,
          fetchUrl: null,
          failingSince: null,
          failureReportedAt: null,
          pollIntervalMs: null,
          pollReason: null,
          ttlMinutes: null,
          pollEarliestAt: null,
        });
        // The feed's own title is kept from the poll that read one.
        await store.commitFeedBatch(emptyBatch({ at: 1_500, feedTitle: 'Лента <новости>' }));
        await store.commitFeedBatch(emptyBatch({ at: 1_600, feedTitle: null }));
        expect(await store.getFeedState(FEED)).toMatchObject({ title: 'Лента <новости>' });
        // The first successful poll stays the first; the fetch headers follow the latest.
        await store.commitFeedBatch(emptyBatch({ at: 2_000, fetch: { etag: null, lastModified: 'Tue, 01 Jan 2030 00:00:00 GMT' } }));
        expect(await store.getFeedState(FEED)).toMatchObject({ firstPolledAt: 1_000, lastSuccessAt: 2_000, etag: null, lastModified: 'Tue, 01 Jan 2030 00:00:00 GMT' });
        // A new run of failures starts anew.
        await store.recordFeedFailure(FEED, 'timeout', 3_000, 4_000);
        expect(await store.getFeedState(FEED)).toMatchObject({ consecutiveFailures: 1, failingSince: 3_000, lastError: 'timeout', firstPolledAt: 1_000 });
      });

      it('records an unchanged poll as a success, and only for a known feed', async () => {
        const store = await one();
        await store.recordFeedUnchanged(FEED, 5);
        expect(await store.getFeedState(FEED)).toBeNull();
        await store.recordFeedFailure(FEED, 'HTTP 500', 10, 70);
        await store.recordFeedUnchanged(FEED, 80);
        expect(await store.getFeedState(FEED)).toMatchObject({
          lastSuccessAt: 80,
          consecutiveFailures: 0,
          lastError: null,
          nextPollAt: null,
          failingSince: null,
          firstPolledAt: null,
        });
      });

      it('remembers and forgets the URL a feed moved to', async () => {
        const store = await one();
        await store.setFeedFetchUrl(FEED, 'https://new.test/rss');
        expect(await store.getFeedState(FEED)).toMatchObject({ url: FEED, fetchUrl: 'https://new.test/rss', consecutiveFailures: 0, firstPolledAt: null });
        await store.commitFeedBatch(emptyBatch());
        expect(await store.getFeedState(FEED)).toMatchObject({ fetchUrl: 'https://new.test/rss' });
        await store.setFeedFetchUrl(FEED, null);
        expect(await store.getFeedState(FEED)).toMatchObject({ fetchUrl: null, firstPolledAt: 1_000 });
      });

      it('keeps the interval adaptive polling chose after a success; a failure then backs off as before', async () => {
        const store = await one();
        await store.commitFeedBatch(emptyBatch({ at: 1_000 }));
        await store.recordFeedPace(FEED, { intervalMs: 1_800_000, reason: 'rate:12', nextPollAt: 1_801_000, earliestAt: 61_000, ttlMinutes: 15 });
        expect(await store.getFeedState(FEED)).toMatchObject({ pollIntervalMs: 1_800_000, pollReason: 'rate:12', nextPollAt: 1_801_000, pollEarliestAt: 61_000, ttlMinutes: 15, consecutiveFailures: 0 });
        expect((await store.feedStates())[0]).toMatchObject({ pollIntervalMs: 1_800_000, pollReason: 'rate:12' });
        await store.recordFeedFailure(FEED, 'HTTP 500', 2_000, 62_000);
        expect(await store.getFeedState(FEED)).toMatchObject({ nextPollAt: 62_000, consecutiveFailures: 1, pollReason: 'rate:12' });
        // A 304 is a success: its own pace follows it.
        await store.recordFeedUnchanged(FEED, 70_000);
        await store.recordFeedPace(FEED, { intervalMs: 3_600_000, reason: 'max-age:3600', nextPollAt: 3_670_000, earliestAt: 3_670_000, ttlMinutes: null });
        expect(await store.getFeedState(FEED)).toMatchObject({ nextPollAt: 3_670_000, pollIntervalMs: 3_600_000, pollReason: 'max-age:3600', pollEarliestAt: 3_670_000, ttlMinutes: null, consecutiveFailures: 0 });
      });

      it("gives a feed's latest entry times and matched watchlists, and the watchlists of breaking stories", async () => {
        const store = await one();
        const item = (key: string, publishedAt: number | null, watchlists: string[] = []) => ({
          key,
          title: key,
          link: null,
          publishedAt,
          decision: watchlists.length > 0 ? ('alerted' as const) : ('no-match' as const),
          watchlists,
          story: null,
          contentHash: key,
        });
        // Undated: first seen; dated after it was seen: first seen too.
        await store.commitFeedBatch(emptyBatch({ at: 10_000, items: [item('a', 1_000), item('b', null), item('c', 50_000, ['unrest'])] }));
        await store.commitFeedBatch(emptyBatch({ at: 20_000, items: [item('d', 15_000, ['quakes'])] }));
        await store.commitFeedBatch(emptyBatch({ feedUrl: 'https://other.test/rss', at: 20_000, items: [item('x', 19_000, ['other'])] }));
        const all = await store.feedActivity(FEED, 0, 10);
        expect(all.times).toEqual([15_000, 10_000, 10_000, 1_000]);
        expect(all.watchlists.sort()).toEqual(['quakes', 'unrest']);
        expect(await store.feedActivity(FEED, 15_000, 2)).toEqual({ times: [15_000, 10_000], watchlists: ['quakes'] });
        expect(await store.feedActivity('https://none.test/rss', 0, 10)).toEqual({ times: [], watchlists: [] });

        expect(await store.breakingWatchlists(0)).toEqual(new Set());
        await store.commitFeedBatch(batch({ at: 30_000, breaking: [{ newIndex: 0 }], items: [{ ...item('e', 29_000, ['unrest', 'almaty']), story: { newIndex: 0 } }] }));
        expect(await store.breakingWatchlists(30_000)).toEqual(new Set(['unrest', 'almaty']));
        expect(await store.breakingWatchlists(30_001)).toEqual(new Set());
      });

      it('lists every feed by URL', async () => {
        const store = await one();
        await store.recordFeedFailure('https://b.test/rss', 'x', 1, 2);
        await store.commitFeedBatch(emptyBatch({ feedUrl: 'https://a.test/rss' }));
        await store.setFeedFetchUrl('https://c.test/rss', 'https://d.test/rss');
        expect((await store.feedStates()).map((f) => f.url)).toEqual(['https://a.test/rss', 'https://b.test/rss', 'https://c.test/rss']);
      });
    });

    describe('items', () => {
      it('gives back the hashes of the items a feed has seen, first seen first', async () => {
        const store = await one();
        expect(await store.itemHashes(FEED, [])).toEqual(new Map());
        await store.commitFeedBatch(
          batch({
            items: [
              { key: 'g:1', title: 'One', link: null, publishedAt: null, decision: 'alerted', watchlists: ['w'], story: { newIndex: 0 }, contentHash: 'h1' },
              { key: 'g:2', title: 'Two', link: null, publishedAt: 5, decision: 'no-match', watchlists: [], story: null, contentHash: 'h2' },
            ],
          }),
        );
        expect(await store.itemHashes(FEED, ['g:2', 'g:3', 'g:1'])).toEqual(
          new Map([
            ['g:2', 'h2'],
            ['g:1', 'h1'],
          ]),
        );
        expect(await store.itemHashes('https://other.test/rss', ['g:1'])).toEqual(new Map());
        // Seen again: the first record stands.
        await store.commitFeedBatch(
          emptyBatch({ items: [{ key: 'g:2', title: 'Two again', link: null, publishedAt: 5, decision: 'stale', watchlists: [], story: null, contentHash: 'h2b' }] }),
        );
        expect(await store.itemHashes(FEED, ['g:2'])).toEqual(new Map([['g:2', 'h2']]));
        await store.recordItemUpdate(FEED, 'g:2', 'h2c', 2_000);
        expect(await store.itemHashes(FEED, ['g:1', 'g:2'])).toEqual(
          new Map([
            ['g:1', 'h1'],
            ['g:2', 'h2c'],
          ]),
        );
        await store.recordItemUpdate(FEED, 'g:9', 'h9', 2_000); // unseen: nothing
        expect(await store.itemHashes(FEED, ['g:9'])).toEqual(new Map());
      });
    });

    describe('commitFeedBatch', () => {
      it('creates stories with their keys, and adds keys to existing stories', async () => {
        const store = await one();
        await store.commitFeedBatch(
          batch({
            at: 1_000,
            newStories: [
              { title: 'First', link: 'https://f.test/1', keys: ['u:1', 't:first'] },
              { title: 'Second', link: null, keys: ['u:2', 'u:2'] },
            ],
            items: [
              { key: 'g:1', title: 'First', link: null, publishedAt: null, decision: 'alerted', watchlists: ['w'], story: { newIndex: 0 }, contentHash: 'h1' },
              { key: 'g:2', title: 'Second', link: null, publishedAt: null, decision: 'alerted', watchlists: ['w'], story: { newIndex: 1 }, contentHash: 'h2' },
            ],
            outbox: [],
          }),
        );
        const first = await store.findStory(['t:first'], 0);
        const second = await store.findStory(['u:2'], 0);
        expect(first).toMatchObject({ title: 'First', destinations: new Set(), alerts: [], reports: [], breakingAt: null });
        expect(second).toMatchObject({ title: 'Second' });
        if (!first || !second) throw new Error('stories missing');
        expect(second.id).toBeGreaterThan(first.id);
        expect(await store.findStory(['u:1'], 0)).toMatchObject({ id: first.id });
        expect(await store.findStory([], 0)).toBeNull();
        expect(await store.findStory(['nope'], 0)).toBeNull();
        expect(await store.findStory(['u:1'], 1_001)).toBeNull(); // created before the window

        await store.commitFeedBatch(emptyBatch({ at: 2_000, storyKeys: [{ storyId: first.id, key: 'x:learnt' }, { storyId: first.id, key: 'u:1' }] }));
        expect(await store.findStory(['x:learnt'], 0)).toMatchObject({ id: first.id });
        // Of the stories carrying one of the keys, the most recent.
        await store.commitFeedBatch(emptyBatch({ at: 3_000, newStories: [{ title: 'Third', link: null, keys: ['x:learnt'] }] }));
        expect(await store.findStory(['x:learnt', 'u:2'], 0)).toMatchObject({ title: 'Third' });
        expect(await store.getStory(first.id)).toMatchObject({ id: first.id, title: 'First' });
        expect(await store.getStory(first.id + 1_000)).toBeNull();
      });

      it('gives reports back exactly, by id, after an id and since a time', async () => {
        const store = await one();
        expect(await store.reportsAfter(0, 0, 10)).toEqual([]);
        const reports = [
          report({ newIndex: 0 }, 10),
          report({ newIndex: 0 }, 20, { language: null, link: null, signature: new Uint32Array([]), termHashes: new Uint32Array([0xdeadbeef]), entities: [], numbers: [], features: [], bands: 0xffffffff }),
          report({ newIndex: 0 }, 15, { entities: ['quote "and" \\ backslash', 'юникод'], features: ['d:01-05'] }),
        ];
        await store.commitFeedBatch(batch({ reports }));
        const id = await storyId(store, 'u:https://f.test/1');
        const rows = await store.reportsAfter(0, 0, 10);
        expect(rows).toEqual(
          reports.map((r) => ({
            id: expect.any(Number) as number,
            storyId: id,
            at: r.at,
            language: r.language,
            signature: r.signature,
            bands: r.bands,
            termHashes: r.termHashes,
            entities: r.entities,
            numbers: r.numbers,
            features: r.features,
          })),
        );
        for (const row of rows) {
          expect(row.signature).toBeInstanceOf(Uint32Array);
          expect(row.termHashes).toBeInstanceOf(Uint32Array);
        }
        const ids = rows.map((r) => r.id);
        expect([...ids].sort((a, b) => a - b)).toEqual(ids);
        const [firstId = 0, secondId = 0] = ids;
        expect((await store.reportsAfter(firstId, 0, 10)).map((r) => r.id)).toEqual(ids.slice(1));
        expect((await store.reportsAfter(0, 15, 10)).map((r) => r.at)).toEqual([20, 15]);
        expect((await store.reportsAfter(0, 0, 2)).map((r) => r.id)).toEqual([firstId, secondId]);
        expect(await store.reportsAfter(0, 21, 10)).toEqual([]);
        // Reports of an existing story, in a later batch.
        await store.commitFeedBatch(emptyBatch({ at: 2_000, reports: [report({ id }, 30)] }));
        expect(await store.reportsAfter(ids[2] ?? 0, 0, 10)).toMatchObject([{ storyId: id, at: 30 }]);
      });

      it('queues a story one alert per destination, edits and replies as many as asked', async () => {
        const store = await one();
        await store.commitFeedBatch(
          batch({
            outbox: [
              { ...alert({ newIndex: 0 }, '@chan', null, '<b>A</b>'), linkPreview: true, origin: { source: 'f.test', language: 'ru' } },
              alert({ newIndex: 0 }, '@chan', null, '<b>duplicate</b>'),
              alert({ newIndex: 0 }, '-100', 7),
              alert({ newIndex: 0 }, '-100', null),
            ],
          }),
        );
        const id = await storyId(store, 'u:https://f.test/1');
        // Again in a later batch: still one alert per destination.
        await store.commitFeedBatch(emptyBatch({ at: 2_000, outbox: [alert({ id }, '@chan', null, '<b>again</b>')] }));
        const story = await store.getStory(id);
        expect(story?.destinations).toEqual(new Set(['@chan', '-100#7', '-100']));
        expect(story?.alerts).toEqual([
          { outboxId: expect.any(Number) as number, chat: '@chan', threadId: null, status: 'pending', baseHtml: '<b>A</b>', baseText: 'A', pendingEditId: null, linkPreview: true, source: 'f.test', language: 'ru' },
          { outboxId: expect.any(Number) as number, chat: '-100', threadId: 7, status: 'pending', baseHtml: '<b>-100</b>', baseText: '-100', pendingEditId: null, linkPreview: false, source: null, language: null },
          { outboxId: expect.any(Number) as number, chat: '-100', threadId: null, status: 'pending', baseHtml: '<b>-100</b>', baseText: '-100', pendingEditId: null, linkPreview: false, source: null, language: null },
        ]);
        const [chan] = story?.alerts ?? [];
        if (!chan) throw new Error('no alert');
        await store.markSent(chan.outboxId, 77, 2_500);
        const edit = (html: string): OutboxMessage => ({ story: { id }, kind: 'edit', targetId: chan.outboxId, chat: '@chan', threadId: null, linkPreview: true, html, text: html });
        await store.commitFeedBatch(
          emptyBatch({
            at: 3_000,
            outbox: [edit('edit 1'), edit('edit 2'), { story: { id }, kind: 'reply', targetId: chan.outboxId, chat: '@chan', threadId: null, linkPreview: false, html: 'reply', text: 'reply' }],
          }),
        );
        const due = await store.dueOutbox(10_000, 10);
        expect(due.map((row) => [row.kind, row.html])).toEqual([
          ['alert', '<b>-100</b>'],
          ['alert', '<b>-100</b>'],
          ['edit', 'edit 1'],
          ['edit', 'edit 2'],
          ['reply', 'reply'],
        ]);
        expect(due[2]).toEqual({
          id: expect.any(Number) as number,
          storyId: id,
          kind: 'edit',
          target: { status: 'sent', messageId: 77 },
          chat: '@chan',
          threadId: null,
          linkPreview: true,
          html: 'edit 1',
          text: 'edit 1',
          attempts: 0,
          createdAt: 3_000,
        });
        expect(due[0]).toMatchObject({ target: null, threadId: 7, createdAt: 1_000 });
        const after = await store.getStory(id);
        // The newest pending edit is the one a newer edit replaces; the base stays the alert as first rendered.
        expect(after?.alerts[0]).toMatchObject({ status: 'sent', baseHtml: '<b>A</b>', pendingEditId: due[3]?.id });
        await store.markSent(due[3]?.id ?? 0, 77, 3_500);
        expect((await store.getStory(id))?.alerts[0]?.pendingEditId).toBe(due[2]?.id);
      });

      it('rewrites pending rows only, keeping the alert as first rendered', async () => {
        const store = await one();
        await store.commitFeedBatch(batch({ outbox: [alert({ newIndex: 0 }, '@a'), alert({ newIndex: 0 }, '@b')] }));
        const id = await storyId(store, 'u:https://f.test/1');
        const [a, b] = await store.dueOutbox(5_000, 10);
        if (!a || !b) throw new Error('rows missing');
        await store.markSent(b.id, 1, 2_000);
        await store.commitFeedBatch(
          emptyBatch({
            at: 3_000,
            outboxRewrites: [
              { id: a.id, html: 'first rewrite', text: 'first' },
              { id: b.id, html: 'sent: not rewritten', text: 'no' },
              { id: a.id, html: '<b>@a</b> +1', text: '@a +1' },
            ],
          }),
        );
        expect(await store.dueOutbox(5_000, 10)).toMatchObject([{ id: a.id, html: '<b>@a</b> +1', text: '@a +1' }]);
        expect((await store.getStory(id))?.alerts).toMatchObject([
          { chat: '@a', baseHtml: '<b>@a</b>', baseText: '@a' },
          { chat: '@b', baseHtml: '<b>@b</b>', status: 'sent' },
        ]);
      });

      it('re-bases a pending alert rewritten from another report, and only a pending one', async () => {
        const store = await one();
        const origin = { source: 'f.test', language: 'en' };
        await store.commitFeedBatch(batch({ outbox: [{ ...alert({ newIndex: 0 }, '@a'), origin }, { ...alert({ newIndex: 0 }, '@b'), origin }] }));
        const id = await storyId(store, 'u:https://f.test/1');
        const [a, b] = await store.dueOutbox(5_000, 10);
        if (!a || !b) throw new Error('rows missing');
        await store.markSent(b.id, 1, 1_500);
        await store.commitFeedBatch(
          emptyBatch({
            at: 2_000,
            outboxRewrites: [
              { id: a.id, html: '<b>kk</b> +1', text: 'kk +1', base: { html: '<b>kk</b>', text: 'kk' }, origin: { source: 'kaz.test', language: 'kk' } },
              { id: b.id, html: 'sent: not rewritten', text: 'no', base: { html: 'no', text: 'no' }, origin: { source: 'no.test', language: 'kk' } },
            ],
          }),
        );
        expect(await store.dueOutbox(5_000, 10)).toMatchObject([{ id: a.id, html: '<b>kk</b> +1', text: 'kk +1' }]);
        expect((await store.getStory(id))?.alerts).toMatchObject([
          { chat: '@a', status: 'pending', baseHtml: '<b>kk</b>', baseText: 'kk', source: 'kaz.test', language: 'kk' },
          { chat: '@b', status: 'sent', baseHtml: '<b>@b</b>', baseText: '@b', source: 'f.test', language: 'en' },
        ]);
        // Applied in order: a later rewrite of the row without a base keeps the one given before it.
        await store.commitFeedBatch(
          emptyBatch({
            at: 3_000,
            outboxRewrites: [
              { id: a.id, html: 'x', text: 'x', base: { html: '<b>?</b>', text: '?' }, origin: { source: 'unknown.test', language: null } },
              { id: a.id, html: '<b>?</b> +2', text: '? +2' },
            ],
          }),
        );
        expect(await store.dueOutbox(5_000, 10)).toMatchObject([{ id: a.id, html: '<b>?</b> +2', text: '? +2' }]);
        expect((await store.getStory(id))?.alerts[0]).toMatchObject({ baseHtml: '<b>?</b>', baseText: '?', source: 'unknown.test', language: null });
        // A rewrite without a base leaves base and origin as they are.
        await store.commitFeedBatch(emptyBatch({ at: 4_000, outboxRewrites: [{ id: a.id, html: '<b>?</b> +3', text: '? +3' }] }));
        expect((await store.getStory(id))?.alerts[0]).toMatchObject({ baseHtml: '<b>?</b>', source: 'unknown.test', language: null });
      });

      it('marks stories breaking once', async () => {
        const store = await one();
        await store.commitFeedBatch(batch({ at: 1_000, breaking: [{ newIndex: 0 }] }));
        const id = await storyId(store, 'u:https://f.test/1');
        expect((await store.getStory(id))?.breakingAt).toBe(1_000);
        await store.commitFeedBatch(emptyBatch({ at: 2_000, breaking: [{ id }] }));
        expect((await store.getStory(id))?.breakingAt).toBe(1_000);
      });

      it('collects digest items, which count as the story reaching that chat', async () => {
        const store = await one();
        await store.upsertChat('@digest', 'channel', 0);
        await store.setDigest('@digest', 'hourly', 0);
        await store.commitFeedBatch(batch({ outbox: [], digestItems: [{ story: { newIndex: 0 }, chat: '@digest', html: '<b>D</b>', text: 'D' }] }));
        const id = await storyId(store, 'u:https://f.test/1');
        expect((await store.getStory(id))?.destinations).toEqual(new Set(['@digest']));
        expect(await store.dueDigests(3_600_000)).toEqual([{ chat: '@digest', items: [{ id: expect.any(Number) as number, storyId: id, html: '<b>D</b>', text: 'D' }] }]);
      });

      it('writes nothing of a batch that fails half-way', async () => {
        const store = await one();
        await store.commitFeedBatch(emptyBatch({ feedUrl: 'https://other.test/rss' }));
        const broken = batch({
          reports: [report({ newIndex: 0 }, 5)],
          digestItems: [{ story: { newIndex: 0 }, chat: '@d', html: 'd', text: 'd' }],
          outbox: [alert({ newIndex: 0 }, '@chan'), alert({ newIndex: 5 }, '@chan')],
        });
        await expect(store.commitFeedBatch(broken)).rejects.toThrow(/new story 5/u);
        expect(await store.itemHashes(FEED, ['g:1'])).toEqual(new Map());
        expect(await store.getFeedState(FEED)).toBeNull();
        expect(await store.findStory(['u:https://f.test/1'], 0)).toBeNull();
        expect(await store.reportsAfter(0, 0, 10)).toEqual([]);
        expect(await store.outboxCounts()).toEqual({ pending: 0, sent: 0, failed: 0 });
        expect(await store.getFeedState('https://other.test/rss')).toMatchObject({ firstPolledAt: 1_000 });
        // The store still works after the rollback.
        await store.commitFeedBatch(batch());
        expect(await store.outboxCounts()).toEqual({ pending: 1, sent: 0, failed: 0 });
      });

      it('writes nothing of a batch the database refuses', async () => {
        const store = await one();
        // A report of a story that does not exist: only the foreign key says no.
        const refused = batch({ reports: [report({ newIndex: 0 }, 5), report({ id: 999_999 }, 6)], breaking: [{ newIndex: 0 }] });
        await expect(store.commitFeedBatch(refused)).rejects.toThrow();
        expect(await store.getFeedState(FEED)).toBeNull();
        expect(await store.itemHashes(FEED, ['g:1'])).toEqual(new Map());
        expect(await store.findStory(['u:https://f.test/1'], 0)).toBeNull();
        expect(await store.reportsAfter(0, 0, 10)).toEqual([]);
        expect(await store.outboxCounts()).toEqual({ pending: 0, sent: 0, failed: 0 });
      });

      it('writes rows of new and existing stories together in one batch, in its order', async () => {
        const store = await one();
        await store.upsertChat('@digest', 'channel', 0);
        await store.setDigest('@digest', 'hourly', 0);
        await store.commitFeedBatch(batch({ outbox: [alert({ newIndex: 0 }, '@a'), alert({ newIndex: 0 }, '@b')] }));
        const old = await storyId(store, 'u:https://f.test/1');
        const [a, b] = await store.dueOutbox(5_000, 10);
        if (!a || !b) throw new Error('rows missing');
        await store.markSent(b.id, 9, 1_500);
        const item = (key: string, story: FeedBatch['items'][number]['story']): FeedBatch['items'][number] => ({
          key,
          title: key,
          link: null,
          publishedAt: null,
          decision: 'alerted',
          watchlists: ['w'],
          story,
          contentHash: `h:${key}`,
        });
        await store.commitFeedBatch({
          feedUrl: FEED,
          at: 2_000,
          items: [item('g:2', { newIndex: 1 }), item('g:3', { id: old }), item('g:4', { newIndex: 0 }), item('g:5', null)],
          newStories: [
            { title: 'New A', link: null, keys: ['k:a'] },
            { title: 'New B', link: 'https://f.test/b', keys: ['k:b', 'k:b2'] },
          ],
          storyKeys: [{ storyId: old, key: 'k:old' }],
          reports: [report({ newIndex: 1 }, 30), report({ id: old }, 10), report({ newIndex: 0 }, 20), report({ newIndex: 1 }, 40)],
          outbox: [
            alert({ newIndex: 1 }, '@a'),
            alert({ id: old }, '@a', null, 'dropped: @a has it'),
            { story: { id: old }, kind: 'edit', targetId: b.id, chat: '@b', threadId: null, linkPreview: false, html: 'edit', text: 'edit' },
            alert({ newIndex: 0 }, '@a'),
          ],
          outboxRewrites: [{ id: a.id, html: 'rewritten', text: 'rewritten' }],
          breaking: [{ id: old }, { newIndex: 1 }],
          digestItems: [
            { story: { newIndex: 0 }, chat: '@digest', html: 'd0', text: 'd0' },
            { story: { id: old }, chat: '@digest', html: 'd-old', text: 'd-old' },
          ],
          fetch: { etag: '"e2"', lastModified: 'yesterday' },
        });
        const newA = await store.findStory(['k:a'], 0);
        const newB = await store.findStory(['k:b2'], 0);
        if (!newA || !newB) throw new Error('stories missing');
        expect(old).toBeLessThan(newA.id);
        expect(newA.id).toBeLessThan(newB.id);
        expect(newA).toMatchObject({ title: 'New A', breakingAt: null, destinations: new Set(['@a', '@digest']) });
        expect(newB).toMatchObject({ title: 'New B', breakingAt: 2_000, destinations: new Set(['@a']) });
        expect(await store.findStory(['k:old'], 0)).toMatchObject({ id: old, breakingAt: 2_000, destinations: new Set(['@a', '@b', '@digest']) });
        expect((await store.reportsAfter(0, 0, 10)).map((r) => [r.storyId, r.at])).toEqual([
          [newB.id, 30],
          [old, 10],
          [newA.id, 20],
          [newB.id, 40],
        ]);
        expect(await store.itemHashes(FEED, ['g:2', 'g:3', 'g:4', 'g:5'])).toEqual(
          new Map([
            ['g:2', 'h:g:2'],
            ['g:3', 'h:g:3'],
            ['g:4', 'h:g:4'],
            ['g:5', 'h:g:5'],
          ]),
        );
        expect((await store.dueOutbox(5_000, 10)).map((row) => [row.storyId, row.kind, row.chat, row.html])).toEqual([
          [old, 'alert', '@a', 'rewritten'],
          [newB.id, 'alert', '@a', '<b>@a</b>'],
          [old, 'edit', '@b', 'edit'],
          [newA.id, 'alert', '@a', '<b>@a</b>'],
        ]);
        expect((await store.dueDigests(3_600_000))[0]?.items.map((d) => [d.storyId, d.html])).toEqual([
          [newA.id, 'd0'],
          [old, 'd-old'],
        ]);
        expect(await store.getFeedState(FEED)).toMatchObject({ etag: '"e2"', lastModified: 'yesterday', firstPolledAt: 1_000, lastSuccessAt: 2_000 });
      });

      it('loses nothing when two stores commit batches at once', async () => {
        const [a, b] = await two();
        const batches = (store: string) =>
          Array.from({ length: 15 }, (_, i) =>
            batch({
              feedUrl: `https://${store}.test/${i}`,
              at: 1_000 + i,
              items: Array.from({ length: 5 }, (__, j) => ({ key: `g:${j}`, title: `T${j}`, link: null, publishedAt: null, decision: 'alerted' as const, watchlists: ['w'], story: { newIndex: j % 2 }, contentHash: `h${j}` })),
              newStories: [
                { title: `${store}${i}a`, link: null, keys: [`k:${store}:${i}:a`] },
                { title: `${store}${i}b`, link: null, keys: [`k:${store}:${i}:b`] },
              ],
              reports: [report({ newIndex: 0 }, i), report({ newIndex: 1 }, i)],
              outbox: [alert({ newIndex: 0 }, '@chan'), alert({ newIndex: 1 }, '@chan')],
            }),
          );
        await Promise.all([...batches('a').map((x) => a.commitFeedBatch(x)), ...batches('b').map((x) => b.commitFeedBatch(x))]);
        expect(await a.outboxCounts()).toEqual({ pending: 60, sent: 0, failed: 0 });
        expect(await b.reportsAfter(0, 0, 1_000)).toHaveLength(60);
        expect(await a.feedStates()).toHaveLength(30);
        for (const store of ['a', 'b']) {
          for (let i = 0; i < 15; i++) {
            const story = await b.findStory([`k:${store}:${i}:b`], 0);
            expect(story).toMatchObject({ title: `${store}${i}b`, destinations: new Set(['@chan']) });
            expect(story?.reports).toHaveLength(1);
          }
          expect(await a.itemHashes(`https://${store}.test/14`, ['g:0', 'g:4'])).toEqual(
            new Map([
              ['g:0', 'h0'],
              ['g:4', 'h4'],
            ]),
          );
        }
      });
    });

    describe('getStory', () => {
      it("gives a story's first report and its 30 newest, oldest first", async () => {
        const store = await one();
        await store.commitFeedBatch(batch({ reports: [report({ newIndex: 0 }, 1_000)] }));
        const id = await storyId(store, 'u:https://f.test/1');
        expect((await store.getStory(id))?.reports).toEqual([{ at: 1_000, source: 's1000.test', link: 'https://s1000.test/a', language: 'en', entities: ['almaty'], numbers: ['164'] }]);
        // Out of order: by time, not by id.
        const later = Array.from({ length: 39 }, (_, i) => report({ id }, 2_000 + ((i * 7) % 39)));
        await store.commitFeedBatch(emptyBatch({ at: 2_000, reports: later }));
        const reports = (await store.getStory(id))?.reports ?? [];
        expect(reports.map((r) => r.at)).toEqual([1_000, ...Array.from({ length: 30 }, (_, i) => 2_009 + i)]);
      });
    });

    describe('traceLinks', () => {
      it('traces the items seen with a link: what an unmatched one lacked, where an alerted one went', async () => {
        const store = await one();
        await store.upsertChat('d', 'private', 0);
        await store.setDigest('d', 'hourly', 0);
        await store.commitFeedBatch(
          batch({
            at: 1_000,
            items: [{ key: 'g:1', title: 'Story', link: 'https://f.test/1', publishedAt: 900, decision: 'alerted', watchlists: ['w'], story: { newIndex: 0 }, contentHash: 'h1', language: 'ru' }],
            outbox: [{ ...alert({ newIndex: 0 }, '@chan'), origin: { source: 'f.test', language: 'ru' } }, alert({ newIndex: 0 }, '-100', 7)],
            digestItems: [{ story: { newIndex: 0 }, chat: 'd', html: 'd', text: 'd' }],
            breaking: [{ newIndex: 0 }],
          }),
        );
        const id = await storyId(store, 'u:https://f.test/1');
        const [chan] = await store.dueOutbox(5_000, 10);
        await store.markSent(chan?.id ?? 0, 5, 1_500);
        await store.recordItemUpdate(FEED, 'g:1', 'h1b', 1_700);
        await store.commitFeedBatch(
          emptyBatch({
            at: 1_100,
            items: [
              { key: 'g:2', title: 'Football', link: 'https://f.test/2', publishedAt: null, decision: 'no-match', watchlists: [], story: null, contentHash: 'h2', language: 'kk', forms: ['футбол', 'алматы'] },
              { key: 'g:3', title: 'Nothing asked', link: 'https://f.test/3', publishedAt: null, decision: 'no-match', watchlists: [], story: null, contentHash: 'h3', forms: [] },
            ],
          }),
        );
        // Seen again, later, by another feed.
        await store.commitFeedBatch(
          emptyBatch({
            feedUrl: 'https://other.test/rss',
            at: 2_000,
            items: [{ key: 'o:1', title: 'Story elsewhere', link: 'https://f.test/1', publishedAt: null, decision: 'folded', watchlists: ['w'], story: { id }, contentHash: 'o1' }],
          }),
        );

        expect(await store.traceLinks([])).toEqual([]);
        expect(await store.traceLinks(['https://unknown.test/1'])).toEqual([]);
        expect(await store.traceLinks(['https://f.test/2'])).toEqual([
          {
            feedUrl: FEED,
            title: 'Football',
            link: 'https://f.test/2',
            publishedAt: null,
            firstSeenAt: 1_100,
            updatedAt: null,
            decision: 'no-match',
            watchlists: [],
            forms: ['футбол', 'алматы'],
            language: 'kk',
            story: null,
            deliveries: [],
            digests: [],
          },
        ]);
        expect(await store.traceLinks(['https://f.test/3'])).toMatchObject([{ forms: [], language: null, story: null }]);
        const traces = await store.traceLinks(['https://f.test/1', 'https://f.test/2']);
        expect(traces.map((t) => [t.feedUrl, t.decision])).toEqual([
          ['https://other.test/rss', 'folded'],
          [FEED, 'no-match'],
          [FEED, 'alerted'],
        ]);
        const story = { id, title: 'Story', link: 'https://f.test/1', createdAt: 1_000, breakingAt: 1_000 };
        const deliveries = [
          { chat: '@chan', threadId: null, kind: 'alert', status: 'sent', attempts: 1, lastError: null, sentAt: 1_500, nextAttemptAt: 1_000, source: 'f.test' },
          { chat: '-100', threadId: 7, kind: 'alert', status: 'pending', attempts: 0, lastError: null, sentAt: null, nextAttemptAt: 1_000, source: null },
        ];
        const digests = [{ chat: 'd', createdAt: 1_000, queuedAt: null }];
        expect(traces[2]).toEqual({
          feedUrl: FEED,
          title: 'Story',
          link: 'https://f.test/1',
          publishedAt: 900,
          firstSeenAt: 1_000,
          updatedAt: 1_700,
          decision: 'alerted',
          watchlists: ['w'],
          forms: [],
          language: 'ru',
          story,
          deliveries,
          digests,
        });
        expect(traces[0]).toMatchObject({ title: 'Story elsewhere', firstSeenAt: 2_000, language: null, story, deliveries, digests });
      });

      it('gives the newest five', async () => {
        const store = await one();
        for (let i = 1; i <= 7; i++) {
          const item = { key: `g:${i}`, title: `T${i}`, link: 'https://f.test/same', publishedAt: null, decision: 'stale' as const, watchlists: [], story: null, contentHash: `h${i}` };
          await store.commitFeedBatch(emptyBatch({ at: i * 1_000, items: [item] }));
        }
        expect((await store.traceLinks(['https://f.test/same'])).map((t) => t.title)).toEqual(['T7', 'T6', 'T5', 'T4', 'T3']);
      });
    });

    describe('prune', () => {
      it('forgets old items, stories and reports, but keeps a story with something still to send', async () => {
        const store = await one();
        await store.commitFeedBatch(batch({ at: 1_000, reports: [report({ newIndex: 0 }, 1_000)] })); // its alert pending
        await store.commitFeedBatch(
          batch({
            feedUrl: 'https://g.test/rss',
            at: 1_100,
            items: [{ key: 'g:9', title: 'Old', link: null, publishedAt: 900, decision: 'alerted', watchlists: ['w'], story: { newIndex: 0 }, contentHash: 'h9' }],
            newStories: [{ title: 'Old', link: null, keys: ['t:old'] }],
            reports: [report({ newIndex: 0 }, 1_100)],
            outbox: [alert({ newIndex: 0 }, '@sent')],
            digestItems: [{ story: { newIndex: 0 }, chat: '@d', html: 'd', text: 'd' }],
          }),
        );
        const old = await storyId(store, 't:old');
        const sent = (await store.dueOutbox(5_000, 10)).find((row) => row.chat === '@sent');
        await store.markSent(sent?.id ?? 0, 1, 1_200);
        await store.commitFeedBatch(
          batch({ feedUrl: 'https://h.test/rss', at: 3_000, newStories: [{ title: 'New', link: null, keys: ['t:new'] }], reports: [report({ newIndex: 0 }, 3_000)], outbox: [] }),
        );
        expect(await store.prune(2_000)).toEqual({ items: 2, stories: 1 });
        expect(await store.findStory(['t:old'], 0)).toBeNull();
        expect(await store.getStory(old)).toBeNull();
        expect(await store.findStory(['u:https://f.test/1'], 0)).not.toBeNull(); // its alert is still to be sent
        expect(await store.findStory(['t:new'], 0)).not.toBeNull();
        expect((await store.reportsAfter(0, 0, 10)).map((r) => r.at)).toEqual([3_000]);
        expect(await store.itemHashes(FEED, ['g:1'])).toEqual(new Map());
        expect(await store.itemHashes('https://h.test/rss', ['g:1'])).toEqual(new Map([['g:1', 'h1']]));
        expect(await store.dueOutbox(5_000, 10)).toMatchObject([{ chat: '@chan' }]);
        expect(await store.outboxCounts()).toEqual({ pending: 1, sent: 0, failed: 0 });
        expect(await store.prune(2_000)).toEqual({ items: 0, stories: 0 });
      });
    });

    describe('overview (the operator page)', () => {
      it('counts a feed\'s new entries in a window, its backlog left out', async () => {
        const store = await one();
        const item = (key: string, decision: 'backlog' | 'no-match' | 'alerted') => ({ key, title: key, link: null, publishedAt: null, decision, watchlists: [], story: null, contentHash: key });
        await store.commitFeedBatch(emptyBatch({ at: 1_000, items: [item('b1', 'backlog'), item('b2', 'backlog'), item('n1', 'no-match')] }));
        await store.commitFeedBatch(emptyBatch({ at: 5_000, items: [item('n2', 'no-match')] }));
        await store.commitFeedBatch(emptyBatch({ feedUrl: 'https://other.test/rss', at: 6_000, items: [item('o1', 'no-match')] }));
        expect(await store.feedItemCounts(0)).toEqual(new Map([[FEED, 2], ['https://other.test/rss', 1]]));
        expect(await store.feedItemCounts(2_000)).toEqual(new Map([[FEED, 1], ['https://other.test/rss', 1]]));
        expect(await store.feedItemCounts(7_000)).toEqual(new Map());
      });

      it('lists sent alerts with the watchlists of the report that started their story, and what became of queued messages', async () => {
        const store = await one();
        await store.commitFeedBatch(
          batch({
            at: 1_000,
            items: [{ key: 'g:1', title: 'Story', link: 'https://f.test/1', publishedAt: 900, decision: 'alerted', watchlists: ['w', 'chat:42:1'], story: { newIndex: 0 }, contentHash: 'h1' }],
            outbox: [alert({ newIndex: 0 }, '@a'), alert({ newIndex: 0 }, '@b'), alert({ newIndex: 0 }, '42'), alert({ newIndex: 0 }, '@c')],
          }),
        );
        const id = await storyId(store, 'u:https://f.test/1');
        // A later report folded in matched another watchlist: the alert still counts under the first.
        await store.commitFeedBatch(
          emptyBatch({
            at: 1_500,
            items: [{ key: 'g:2', title: 'Again', link: 'https://f.test/2', publishedAt: null, decision: 'folded', watchlists: ['v'], story: { id }, contentHash: 'h2' }],
            outbox: [{ ...alert({ id }, '@a'), kind: 'edit', targetId: null }],
          }),
        );
        const rows = await store.dueOutbox(10_000, 10);
        const row = (chat: string, kind = 'alert') => rows.find((r) => r.chat === chat && r.kind === kind)?.id ?? 0;
        await store.markRetry(row('@a'), '429 Too Many Requests: retry after 3', 2_000, true);
        await store.markSent(row('@a'), 11, 2_100);
        await store.markSent(row('@a', 'edit'), null, 2_200);
        await store.markSent(row('42'), 12, 1_200);
        await store.markRetry(row('@b'), '500', 9_000);
        await store.markFailed(row('@c'), 'chat not found', 1_300);

        expect(await store.sentAlerts(0)).toEqual({
          alerts: [
            { at: 1_200, chat: '42', storyId: id },
            { at: 2_100, chat: '@a', storyId: id },
          ],
          watchlists: new Map([[id, ['w', 'chat:42:1']]]),
        });
        expect(await store.sentAlerts(2_000)).toEqual({ alerts: [{ at: 2_100, chat: '@a', storyId: id }], watchlists: new Map([[id, ['w', 'chat:42:1']]]) });
        expect(await store.sentAlerts(3_000)).toEqual({ alerts: [], watchlists: new Map() });
        // Five messages queued from 1,000 on: three sent (one after a 429), one failed, one waiting after a try.
        expect(await store.deliveryCounts(0)).toEqual({ sent: 3, retried: 2, failed: 1, rateLimited: 1, pending: 1 });
        // Queued before the window: only the depth of the outbox counts.
        expect(await store.deliveryCounts(1_600)).toEqual({ sent: 0, retried: 0, failed: 0, rateLimited: 0, pending: 1 });
      });

      it('lists the newest stories with their reports, messages and digest lines', async () => {
        const store = await one();
        await store.upsertChat('d', 'private', 0);
        await store.setDigest('d', 'hourly', 0);
        expect(await store.latestStories(10)).toEqual([]);
        await store.commitFeedBatch(
          batch({
            at: 1_000,
            reports: [report({ newIndex: 0 }, 1_000, { source: 'Лента', language: 'ru', link: 'https://ru.test/1', title: 'Митинг' })],
            outbox: [alert({ newIndex: 0 }, '@chan', 7)],
            digestItems: [{ story: { newIndex: 0 }, chat: 'd', html: 'd', text: 'd' }],
          }),
        );
        const first = await storyId(store, 'u:https://f.test/1');
        await store.commitFeedBatch(
          emptyBatch({
            at: 2_000,
            items: [{ key: 'g:2', title: 'Other', link: 'https://f.test/2', publishedAt: null, decision: 'alerted', watchlists: ['w'], story: { newIndex: 0 }, contentHash: 'h2' }],
            newStories: [{ title: 'Other', link: 'https://f.test/2', keys: ['u:https://f.test/2'] }],
            reports: [report({ newIndex: 0 }, 2_000), report({ id: first }, 2_100, { source: 'الجزيرة', language: 'ar', link: null, title: 'ألماتي' })],
          }),
        );
        const second = await storyId(store, 'u:https://f.test/2');
        const [sent] = await store.dueOutbox(5_000, 10);
        await store.markSent(sent?.id ?? 0, 5, 1_500);

        const stories = await store.latestStories(10);
        expect(stories.map((s) => s.id)).toEqual([second, first]);
        expect(stories[1]).toEqual({
          id: first,
          title: 'Story',
          link: 'https://f.test/1',
          createdAt: 1_000,
          breakingAt: null,
          reports: [
            { at: 1_000, source: 'Лента', link: 'https://ru.test/1', title: 'Митинг', language: 'ru' },
            { at: 2_100, source: 'الجزيرة', link: null, title: 'ألماتي', language: 'ar' },
          ],
          reportCount: 2,
          messages: [{ chat: '@chan', threadId: 7, kind: 'alert', status: 'sent', sentAt: 1_500 }],
          digests: [{ chat: 'd', queuedAt: null }],
        });
        expect(stories[0]).toMatchObject({ id: second, reportCount: 1, messages: [], digests: [] });
        expect((await store.latestStories(1)).map((s) => s.id)).toEqual([second]);
        expect((await store.latestStories(1, { createdAt: 2_000, id: second })).map((s) => s.id)).toEqual([first]);
        // Stories of one batch share their time: the list goes on by id within it.
        await store.commitFeedBatch(
          emptyBatch({
            at: 3_000,
            newStories: [
              { title: 'A', link: null, keys: ['k:a'] },
              { title: 'B', link: null, keys: ['k:b'] },
            ],
          }),
        );
        const [b, a] = await store.latestStories(2);
        expect([b?.title, a?.title]).toEqual(['B', 'A']);
        expect((await store.latestStories(2, { createdAt: b?.createdAt ?? 0, id: b?.id ?? 0 })).map((s) => s.title)).toEqual(['A', 'Other']);
      });

      it('lists at most the first 50 reports of a story, and counts them all', async () => {
        const store = await one();
        const reports = Array.from({ length: 60 }, (_, i) => report({ newIndex: 0 }, 1_000 + i));
        await store.commitFeedBatch(batch({ reports }));
        const [story] = await store.latestStories(5);
        expect(story?.reportCount).toBe(60);
        expect(story?.reports.map((r) => r.at)).toEqual(reports.slice(0, 50).map((r) => r.at));
      });
    });

    describe('outbox', () => {
      it('moves rows through retry, sent and failed, oldest first', async () => {
        const store = await one();
        expect(await store.nextOutboxDue()).toBeNull();
        expect(await store.dueOutbox(5_000, 10)).toEqual([]);
        await store.commitFeedBatch(batch({ outbox: [alert({ newIndex: 0 }, '@a'), alert({ newIndex: 0 }, '@b'), alert({ newIndex: 0 }, '@c')] }));
        expect(await store.nextOutboxDue()).toBe(1_000);
        expect(await store.dueOutbox(999, 10)).toEqual([]);
        const rows = await store.dueOutbox(1_000, 10);
        expect(rows.map((r) => r.chat)).toEqual(['@a', '@b', '@c']);
        expect((await store.dueOutbox(1_000, 2)).map((r) => r.chat)).toEqual(['@a', '@b']);
        const [a, b, c] = rows;
        if (!a || !b || !c) throw new Error('rows missing');
        await store.markRetry(a.id, '429', 10_000);
        await store.markRetry(b.id, '500', 9_000);
        expect((await store.dueOutbox(5_000, 10)).map((r) => r.chat)).toEqual(['@c']);
        await store.markFailed(c.id, 'chat not found', 5_000);
        expect(await store.nextOutboxDue()).toBe(9_000);
        expect(await store.dueOutbox(10_000, 10)).toMatchObject([
          { chat: '@a', attempts: 1 },
          { chat: '@b', attempts: 1 },
        ]);
        await store.markSent(b.id, null, 9_500);
        await store.markSent(a.id, 77, 10_001);
        expect(await store.outboxCounts()).toEqual({ pending: 0, sent: 2, failed: 1 });
        expect(await store.nextOutboxDue()).toBeNull();
        const story = await store.findStory(['u:https://f.test/1'], 0);
        expect(story?.alerts.map((x) => [x.chat, x.status])).toEqual([
          ['@a', 'sent'],
          ['@b', 'sent'],
          ['@c', 'failed'],
        ]);
      });
    });

    describe('subscriptions', () => {
      it('records chats, and re-activates one that had gone', async () => {
        const store = await one();
        expect(await store.getChat('42')).toBeNull();
        expect(await store.chatCounts()).toEqual({ active: 0, inactive: 0 });
        const record = {
          chat: '42',
          kind: 'private',
          active: true,
          mutedUntil: null,
          deactivatedReason: null,
          digest: 'off',
          template: 'full',
          updates: 'edit',
          threadId: null,
          languages: null,
          quiet: null,
          language: null,
          appLanguage: null,
        };
        expect(await store.upsertChat('42', 'private', 1)).toEqual(record);
        expect(await store.getChat('42')).toEqual(record);
        await store.upsertChat('-100', 'group', 2);
        await store.deactivateChat('-100', 'kicked', 3);
        expect(await store.getChat('-100')).toMatchObject({ active: false, deactivatedReason: 'kicked' });
        expect(await store.chatCounts()).toEqual({ active: 1, inactive: 1 });
        expect(await store.upsertChat('-100', 'supergroup', 4)).toMatchObject({ chat: '-100', kind: 'supergroup', active: true, deactivatedReason: null });
        expect(await store.chatCounts()).toEqual({ active: 2, inactive: 0 });
      });

      it('keeps watchlists per chat, and gives the matcher those of active, unmuted chats', async () => {
        const store = await one();
        await store.upsertChat('a', 'private', 1);
        await store.upsertChat('b', 'group', 1);
        const preset = await store.addChatWatchlist('a', { preset: 'kazakhstan' }, 2);
        const query = await store.addChatWatchlist('a', { query: 'almaty OR астана' }, 3);
        const other = await store.addChatWatchlist('b', { query: 'x' }, 4);
        expect(preset).toEqual({ id: expect.any(Number) as number, chat: 'a', preset: 'kazakhstan', query: null });
        expect(query).toMatchObject({ chat: 'a', preset: null, query: 'almaty OR астана' });
        expect(await store.chatWatchlists('a')).toEqual([preset, query]);
        expect(await store.chatWatchlists('nobody')).toEqual([]);
        expect(await store.activeWatchlists(10)).toEqual([preset, query, other]);

        await store.setMutedUntil('a', 100);
        expect(await store.getChat('a')).toMatchObject({ mutedUntil: 100 });
        expect(await store.activeWatchlists(99)).toEqual([other]);
        expect(await store.activeWatchlists(100)).toEqual([preset, query, other]); // the mute is over
        await store.setMutedUntil('a', null);
        expect(await store.activeWatchlists(50)).toEqual([preset, query, other]);
        await store.deactivateChat('b', 'blocked', 20);
        expect(await store.activeWatchlists(50)).toEqual([preset, query]);

        expect(await store.removeChatWatchlist('b', preset.id)).toBe(false); // not b's
        expect(await store.removeChatWatchlist('a', preset.id)).toBe(true);
        expect(await store.removeChatWatchlist('a', preset.id)).toBe(false);
        expect(await store.chatWatchlists('a')).toEqual([query]);
      });

      it('keeps the settings of active chats', async () => {
        const store = await one();
        await store.upsertChat('a', 'private', 1);
        await store.upsertChat('b', 'channel', 1);
        await store.upsertChat('gone', 'group', 1);
        await store.deactivateChat('gone', 'left', 2);
        await store.setChatSettings('a', { template: 'compact' });
        await store.setChatSettings('b', { updates: 'reply' });
        await store.setChatSettings('b', {});
        await store.setChatSettings('nobody', { template: 'compact' });
        const defaults = { threadId: null, languages: null, quiet: null, language: null, appLanguage: null };
        expect(await store.chatSettings()).toEqual(
          new Map([
            ['a', { digest: 'off', template: 'compact', updates: 'edit', ...defaults }],
            ['b', { digest: 'off', template: 'full', updates: 'reply', ...defaults }],
          ]),
        );
        await store.setChatSettings('a', { template: 'full', updates: 'silent' });
        expect(await store.getChat('a')).toMatchObject({ template: 'full', updates: 'silent' });
      });

      it('keeps every setting a chat has, changing only those given', async () => {
        const store = await one();
        await store.upsertChat('-100', 'supergroup', 1);
        const quiet = { from: 22 * 60, to: 7 * 60, zone: 'Asia/Almaty', breaking: true };
        await store.setChatSettings('-100', { threadId: 42, languages: ['ru', 'kk'], quiet, language: 'kk', appLanguage: 'ru' });
        const settings = { digest: 'off', template: 'full', updates: 'edit', threadId: 42, languages: ['ru', 'kk'], quiet, language: 'kk', appLanguage: 'ru' };
        expect(await store.getChat('-100')).toEqual({ chat: '-100', kind: 'supergroup', active: true, mutedUntil: null, deactivatedReason: null, ...settings });
        expect(await store.chatSettings()).toEqual(new Map([['-100', settings]]));
        await store.setChatSettings('-100', { appLanguage: 'en', template: 'compact' });
        expect((await store.chatSettings()).get('-100')).toEqual({ ...settings, appLanguage: 'en', template: 'compact' });
        await store.setChatSettings('-100', { threadId: null, languages: [], quiet: null, language: null });
        expect(await store.getChat('-100')).toMatchObject({
          template: 'compact',
          updates: 'edit',
          threadId: null,
          languages: [],
          quiet: null,
          language: null,
          appLanguage: 'en',
        });
        await store.setChatSettings('-100', { languages: null, updates: 'silent' });
        expect(await store.getChat('-100')).toMatchObject({ languages: null, updates: 'silent', appLanguage: 'en' });
        // Upserted again (a new command): its settings stay.
        expect(await store.upsertChat('-100', 'supergroup', 2)).toMatchObject({ template: 'compact', appLanguage: 'en' });
      });

      it("sends a chat's digest a period after the last, and queues it with its items in one go", async () => {
        const store = await one();
        const hour = 3_600_000;
        await store.upsertChat('h', 'private', 0);
        await store.upsertChat('d', 'private', 0);
        await store.upsertChat('off', 'private', 0);
        await store.setDigest('h', 'hourly', 10 * hour);
        await store.setDigest('d', 'daily', 10 * hour);
        expect(await store.getChat('h')).toMatchObject({ digest: 'hourly' });
        await store.commitFeedBatch(
          batch({
            outbox: [],
            digestItems: [
              { story: { newIndex: 0 }, chat: 'h', html: 'h1', text: 'h1' },
              { story: { newIndex: 0 }, chat: 'd', html: 'd1', text: 'd1' },
              { story: { newIndex: 0 }, chat: 'off', html: 'o1', text: 'o1' },
              { story: { newIndex: 0 }, chat: 'h', html: 'h2', text: 'h2' },
            ],
          }),
        );
        const id = await storyId(store, 'u:https://f.test/1');
        // A chat without digests has its waiting items (held for quiet hours) at any time.
        const held = { chat: 'off', items: [{ id: expect.any(Number) as number, storyId: id, html: 'o1', text: 'o1' }] };
        expect(await store.dueDigests(11 * hour - 1)).toEqual([held]);
        const due = (await store.dueDigests(11 * hour)).filter((d) => d.chat !== 'off');
        expect(due).toEqual([{ chat: 'h', items: [expect.objectContaining({ storyId: id, html: 'h1' }), expect.objectContaining({ html: 'h2', text: 'h2' })] }]);
        expect((await store.dueDigests(34 * hour)).map((d) => d.chat).sort()).toEqual(['d', 'h', 'off']);
        // Setting the period again does not put the next digest off.
        await store.setDigest('h', 'hourly', 10.5 * hour);
        expect(await store.dueDigests(11 * hour)).toHaveLength(2);

        const items = due[0]?.items ?? [];
        await store.queueDigest('h', [{ storyId: id, html: 'digest', text: 'digest' }], items.map((i) => i.id), 11 * hour);
        expect(await store.dueOutbox(11 * hour, 10)).toEqual([
          { id: expect.any(Number) as number, storyId: id, kind: 'digest', target: null, chat: 'h', threadId: null, linkPreview: false, html: 'digest', text: 'digest', attempts: 0, createdAt: 11 * hour },
        ]);
        expect(await store.dueDigests(13 * hour)).toEqual([held]); // its items went in that digest
        await store.commitFeedBatch(emptyBatch({ at: 11 * hour, digestItems: [{ story: { id }, chat: 'h', html: 'h3', text: 'h3' }] }));
        expect(await store.dueDigests(12 * hour - 1)).toEqual([held]); // a period since the last digest
        expect((await store.dueDigests(12 * hour)).filter((d) => d.chat === 'h')).toMatchObject([{ chat: 'h', items: [{ html: 'h3' }] }]);
        // Digests turned off: what was waiting for the next one comes at once.
        await store.setDigest('h', 'off', 12 * hour);
        expect((await store.dueDigests(12 * hour - 1)).map((d) => d.chat).sort()).toEqual(['h', 'off']);
        await store.deactivateChat('off', 'blocked', 13 * hour);
        expect((await store.dueDigests(20 * hour)).map((d) => d.chat)).toEqual(['h']);
      });

      it('gives a chat without digests the alerts held for its quiet hours at once, and queues them in its topic', async () => {
        const store = await one();
        await store.upsertChat('-100', 'supergroup', 0);
        await store.setChatSettings('-100', { threadId: 12, quiet: { from: 0, to: 480, zone: 'UTC', breaking: false } });
        await store.upsertChat('gone', 'private', 0);
        await store.deactivateChat('gone', 'blocked', 0);
        await store.commitFeedBatch(
          batch({
            outbox: [],
            digestItems: [
              { story: { newIndex: 0 }, chat: '-100', html: 'held 1', text: 'held 1' },
              { story: { newIndex: 0 }, chat: 'gone', html: 'never', text: 'never' },
              { story: { newIndex: 0 }, chat: '-100', html: 'held 2', text: 'held 2' },
            ],
          }),
        );
        const id = await storyId(store, 'u:https://f.test/1');
        // The story is the topic's already: a later report does not alert it again.
        expect((await store.getStory(id))?.destinations).toEqual(new Set(['-100#12', 'gone']));
        const due = await store.dueDigests(1_000);
        expect(due).toEqual([{ chat: '-100', items: [expect.objectContaining({ storyId: id, html: 'held 1' }), expect.objectContaining({ storyId: id, html: 'held 2', text: 'held 2' })] }]);
        await store.queueDigest('-100', [{ storyId: id, html: 'digest', text: 'digest' }], due[0]?.items.map((i) => i.id) ?? [], 2_000);
        expect(await store.dueOutbox(2_000, 10)).toEqual([
          { id: expect.any(Number) as number, storyId: id, kind: 'digest', target: null, chat: '-100', threadId: 12, linkPreview: false, html: 'digest', text: 'digest', attempts: 0, createdAt: 2_000 },
        ]);
        expect(await store.dueDigests(2_000)).toEqual([]);
      });

      it("moves a chat to its new id: watchlists, settings, digest lines, and outbox rows sent or pending", async () => {
        const store = await one();
        const quiet = { from: 1_320, to: 420, zone: 'Asia/Almaty', breaking: true };
        await store.upsertChat('-1', 'group', 1);
        await store.setChatSettings('-1', { template: 'compact', updates: 'reply', languages: ['ru'], quiet, language: 'kk', appLanguage: 'ru' });
        const watchlist = await store.addChatWatchlist('-1', { query: 'almaty' }, 2);
        await store.upsertChat('other', 'private', 1);
        await store.commitFeedBatch(
          batch({
            items: [{ key: 'g:2', title: 'S2', link: 'https://f.test/s2', publishedAt: null, decision: 'alerted', watchlists: ['w'], story: { newIndex: 2 }, contentHash: 'h2' }],
            newStories: [0, 1, 2, 3].map((i) => ({ title: `S${i}`, link: null, keys: [`k:${i}`] })),
            // -100 already has alerts of stories 2 and 3 (a channel of the config, say).
            outbox: [
              alert({ newIndex: 0 }, '-1'),
              alert({ newIndex: 1 }, '-1'),
              alert({ newIndex: 2 }, '-1'),
              alert({ newIndex: 2 }, '-100'),
              alert({ newIndex: 3 }, '-1'),
              alert({ newIndex: 3 }, '-100'),
              alert({ newIndex: 1 }, 'other'),
            ],
            digestItems: [{ story: { newIndex: 1 }, chat: '-1', html: 'held', text: 'held' }],
          }),
        );
        const [s0, s1, s2, s3] = await Promise.all([0, 1, 2, 3].map((i) => storyId(store, `k:${i}`)));
        const rows = await store.dueOutbox(5_000, 10);
        const [r0, , , , r4, r5] = rows;
        if (!r0 || !r4 || !r5) throw new Error('rows missing');
        await store.markSent(r0.id, 10, 1_100);
        await store.markSent(r4.id, 11, 1_100);
        await store.markSent(r5.id, 12, 1_100);
        // An edit of the alert sent: it follows the alert.
        await store.commitFeedBatch(
          emptyBatch({ at: 2_000, outbox: [{ story: { id: s0 ?? 0 }, kind: 'edit', targetId: r0.id, chat: '-1', threadId: null, linkPreview: false, html: 'edit', text: 'edit' }] }),
        );

        await store.moveChat('-1', '-100', 3_000);

        expect(await store.getChat('-1')).toMatchObject({ active: false, deactivatedReason: 'moved to -100' });
        expect(await store.getChat('-100')).toEqual({
          chat: '-100',
          kind: 'supergroup',
          active: true,
          mutedUntil: null,
          deactivatedReason: null,
          digest: 'off',
          template: 'compact',
          updates: 'reply',
          threadId: null,
          languages: ['ru'],
          quiet,
          language: 'kk',
          appLanguage: 'ru',
        });
        expect(await store.chatWatchlists('-1')).toEqual([]);
        expect(await store.chatWatchlists('-100')).toEqual([{ ...watchlist, chat: '-100' }]);
        expect(await store.activeWatchlists(10)).toEqual([{ ...watchlist, chat: '-100' }]);
        expect(await store.chatCounts()).toEqual({ active: 2, inactive: 1 });
        expect(await store.dueDigests(3_000)).toEqual([{ chat: '-100', items: [expect.objectContaining({ storyId: s1, html: 'held' })] }]);
        expect(await store.chatMoves()).toEqual(new Map([['-1', '-100']]));

        // Pending rows go to the new id; the alert -100 had already of story 2 stays, -1's is dropped.
        expect((await store.dueOutbox(5_000, 10)).map((row) => [row.kind, row.storyId, row.chat])).toEqual([
          ['alert', s1, '-100'],
          ['alert', s2, '-100'],
          ['alert', s1, 'other'],
          ['edit', s0, '-100'],
        ]);
        expect((await store.dueOutbox(5_000, 10))[3]).toMatchObject({ target: { status: 'sent', messageId: 10 } });
        // Sent rows too: the story is known as delivered there.
        expect(await store.getStory(s0 ?? 0)).toMatchObject({ destinations: new Set(['-100']), alerts: [{ chat: '-100', status: 'sent' }] });
        expect((await store.getStory(s2 ?? 0))?.alerts.map((a) => [a.chat, a.status])).toEqual([
          ['-1', 'failed'],
          ['-100', 'pending'],
        ]);
        expect((await store.getStory(s3 ?? 0))?.alerts.map((a) => [a.chat, a.status])).toEqual([
          ['-1', 'sent'],
          ['-100', 'sent'],
        ]);
        expect(await store.outboxCounts()).toEqual({ pending: 4, sent: 3, failed: 1 });
        expect((await store.traceLinks(['https://f.test/s2']))[0]?.deliveries).toMatchObject([
          { chat: '-1', status: 'failed', lastError: 'the chat moved to -100', attempts: 0 },
          { chat: '-100', status: 'pending', lastError: null },
        ]);
      });

      it('follows a chat moved twice, keeps the settings of a new id it knew, and moves nothing to itself', async () => {
        const store = await one();
        await store.upsertChat('a', 'group', 1);
        await store.setChatSettings('a', { language: 'ru' });
        await store.addChatWatchlist('a', { preset: 'kazakhstan' }, 2);
        await store.moveChat('a', 'b', 10);
        expect(await store.getChat('b')).toMatchObject({ kind: 'supergroup', active: true, language: 'ru' });
        await store.upsertChat('c', 'supergroup', 15);
        await store.setChatSettings('c', { template: 'compact' });
        await store.moveChat('b', 'c', 20);
        expect(await store.chatMoves()).toEqual(
          new Map([
            ['a', 'c'],
            ['b', 'c'],
          ]),
        );
        expect(await store.getChat('b')).toMatchObject({ active: false, deactivatedReason: 'moved to c' });
        expect(await store.getChat('c')).toMatchObject({ active: true, template: 'compact', language: null });
        expect((await store.chatWatchlists('c')).map((w) => w.preset)).toEqual(['kazakhstan']);
        await store.moveChat('c', 'c', 30);
        expect(await store.getChat('c')).toMatchObject({ active: true, deactivatedReason: null });
        expect((await store.chatWatchlists('c')).map((w) => w.preset)).toEqual(['kazakhstan']);
        expect(await store.chatMoves()).toEqual(
          new Map([
            ['a', 'c'],
            ['b', 'c'],
          ]),
        );
        // Moved again by the same old id (an update seen twice): the newest move stands.
        await store.moveChat('a', 'c', 40);
        expect(await store.chatMoves()).toEqual(
          new Map([
            ['a', 'c'],
            ['b', 'c'],
          ]),
        );
      });

      it("remembers the bot's offset", async () => {
        const store = await one();
        expect(await store.getBotOffset()).toBe(0);
        await store.setBotOffset(123_456_789);
        await store.setBotOffset(987_654_321);
        expect(await store.getBotOffset()).toBe(987_654_321);
      });
    });

    describe('ping and close', () => {
      it('answers a ping while open, and not after close', async () => {
        const store = await one();
        await expect(store.ping()).resolves.toBeUndefined();
        await store.close();
        await expect(store.ping()).rejects.toThrow();
      });

      it('keeps what was written for the next store that opens the database', async () => {
        const db = await backend.database();
        const first = await db.open();
        await first.commitFeedBatch(batch());
        await first.close();
        const store = await db.open();
        expect(await store.itemHashes(FEED, ['g:1'])).toEqual(new Map([['g:1', 'h1']]));
        expect(await store.dueOutbox(5_000, 10)).toMatchObject([{ chat: '@chan' }]);
      });
    });

    describe('withLock', () => {
      it('lets one store at a time hold a lock, across two stores on one database', async () => {
        const [a, b] = await two();
        const events: string[] = [];
        const started = gate();
        const finish = gate();
        const first = a.withLock('cycle', async () => {
          events.push('a starts');
          started.open();
          await finish.opened;
          events.push('a ends');
          return 'a';
        });
        await started.opened;
        const busy = await b.withLock('cycle', () => Promise.resolve('b'), { waitMs: 0 }).catch((error: unknown) => error);
        expect(busy).toBeInstanceOf(StoreBusyError);
        expect(busy).toMatchObject({ lock: 'cycle', name: 'StoreBusyError' });
        // Another lock name is free.
        expect(await b.withLock('other', () => Promise.resolve('free'), { waitMs: 0 })).toBe('free');
        const second = b.withLock('cycle', () => {
          events.push('b starts');
          return Promise.resolve('b');
        });
        await new Promise((resolve) => setTimeout(resolve, 60)); // b has tried, and waits
        events.push('a released');
        finish.open();
        expect(await Promise.all([first, second])).toEqual(['a', 'b']);
        expect(events).toEqual(['a starts', 'a released', 'a ends', 'b starts']);
      });

      it('runs calls of one store for one lock one after the other, other locks meanwhile', async () => {
        const store = await one();
        const events: string[] = [];
        const finish = gate();
        const first = store.withLock('cycle', async () => {
          events.push('1 starts');
          await finish.opened;
          events.push('1 ends');
        });
        const second = store.withLock(
          'cycle',
          () => {
            events.push('2 starts');
            return Promise.resolve();
          },
          { waitMs: 0 }, // waits its turn in the store, not for the database
        );
        await store.withLock('bot', () => {
          events.push('other lock');
          return Promise.resolve();
        });
        await new Promise((resolve) => setTimeout(resolve, 20));
        finish.open();
        await Promise.all([first, second]);
        expect(events).toEqual(['1 starts', 'other lock', '1 ends', '2 starts']);
      });

      it('is re-entrant: a holder taking its own lock again runs at once, and keeps it', async () => {
        const [store, other] = await two();
        const result = await store.withLock('cycle', async () => {
          const inner = await store.withLock('cycle', () => store.withLock('cycle', () => Promise.resolve(42), { waitMs: 0 }), { waitMs: 0 });
          // Still held once the nested calls are done.
          await expect(other.withLock('cycle', () => Promise.resolve(0), { waitMs: 0 })).rejects.toBeInstanceOf(StoreBusyError);
          return inner + 1;
        });
        expect(result).toBe(43);
        expect(await other.withLock('cycle', () => Promise.resolve('free'), { waitMs: 0 })).toBe('free'); // released
      });

      it('releases the lock when its holder throws', async () => {
        const [store, other] = await two();
        await expect(store.withLock('cycle', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
        expect(await other.withLock('cycle', () => Promise.resolve('free'), { waitMs: 0 })).toBe('free');
        expect(await store.withLock('cycle', () => Promise.resolve('again'), { waitMs: 0 })).toBe('again');
      });

      it('gives up with StoreBusyError once it has waited waitMs', async () => {
        const [a, b] = await two();
        const finish = gate();
        const started = gate();
        const held = a.withLock('cycle', async () => {
          started.open();
          await finish.opened;
        });
        await started.opened;
        const since = Date.now();
        await expect(b.withLock('cycle', () => Promise.resolve(), { waitMs: 150 })).rejects.toBeInstanceOf(StoreBusyError);
        expect(Date.now() - since).toBeGreaterThanOrEqual(140);
        finish.open();
        await held;
      });
    });

    describe('claimFeeds', () => {
      const claim = { now: 1_000, polledBefore: 1_000, leaseMs: 60_000, limit: 10 };
      const urls = ['https://a.test/rss', 'https://b.test/rss', 'https://c.test/rss', 'https://d.test/rss'];

      it('adds the feeds it has not seen, as never polled, claiming only those listed', async () => {
        const store = await one();
        await store.commitFeedBatch(emptyBatch({ feedUrl: 'https://unlisted.test/rss' }));
        expect(await store.claimFeeds({ ...claim, urls: [] })).toEqual([]);
        expect(await store.claimFeeds({ ...claim, urls: urls.slice(0, 2) })).toEqual(urls.slice(0, 2));
        expect((await store.feedStates()).map((f) => f.url)).toEqual([...urls.slice(0, 2), 'https://unlisted.test/rss']);
        expect(await store.getFeedState(urls[0] ?? '')).toEqual({
          url: urls[0],
          title: null,
          etag: null,
          lastModified: null,
          firstPolledAt: null,
          lastSuccessAt: null,
          lastError: null,
          consecutiveFailures: 0,
          nextPollAt: null,
          fetchUrl: null,
          failingSince: null,
          failureReportedAt: null,
          pollIntervalMs: null,
          pollReason: null,
          ttlMinutes: null,
          pollEarliestAt: null,
        });
        // A claimed feed's first poll is recorded as any first poll is.
        await store.recordFeedFailure(urls[0] ?? '', 'HTTP 500', 1_100, 2_000);
        expect(await store.getFeedState(urls[0] ?? '')).toMatchObject({ consecutiveFailures: 1, failingSince: 1_100, firstPolledAt: null });
        await store.commitFeedBatch(emptyBatch({ feedUrl: urls[1] ?? '', at: 1_200 }));
        expect(await store.getFeedState(urls[1] ?? '')).toMatchObject({ firstPolledAt: 1_200, consecutiveFailures: 0 });
      });

      it('leases disjoint feeds to two stores, least recently polled first', async () => {
        const [a, b] = await two();
        const c = await one(); // on a database of its own: unaffected
        expect(await c.claimFeeds({ ...claim, urls, limit: 1 })).toEqual([urls[0]]);
        // Polled before: d long ago, c more recently; a and b never.
        await a.claimFeeds({ ...claim, urls: [urls[2] ?? '', urls[3] ?? ''], now: 0 });
        await a.finishFeed(urls[3] ?? '', 100);
        await a.finishFeed(urls[2] ?? '', 200);
        const first = await a.claimFeeds({ ...claim, urls, limit: 3 });
        expect(first).toEqual([urls[0], urls[1], urls[3]]);
        const second = await b.claimFeeds({ ...claim, urls });
        expect(second).toEqual([urls[2]]);
        expect(await b.claimFeeds({ ...claim, urls })).toEqual([urls[2]]); // its own lease, still its
      });

      it('claims at once from two stores without ever giving both the same feed', async () => {
        const [a, b] = await two();
        const many = Array.from({ length: 40 }, (_, i) => `https://f${String(i).padStart(2, '0')}.test/rss`);
        const rounds = await Promise.all([a, b, a, b, a, b].map((store) => store.claimFeeds({ ...claim, urls: many, limit: 7 })));
        // A store's own leases are its again (a retry of its round); another store's never are.
        const ofA = new Set(rounds.filter((_, i) => i % 2 === 0).flat());
        const ofB = new Set(rounds.filter((_, i) => i % 2 === 1).flat());
        expect([...ofA].filter((url) => ofB.has(url))).toEqual([]);
        expect(ofA.size).toBeGreaterThanOrEqual(7);
        expect(ofB.size).toBeGreaterThanOrEqual(7);
        for (const round of rounds) expect(round).toHaveLength(7);
      });

      it('gives feeds polled as long ago in the order they are listed (the config\'s), whatever their names', async () => {
        const store = await one();
        const listed = [...urls].reverse();
        expect(await store.claimFeeds({ ...claim, urls: listed })).toEqual(listed);
      });

      it('gives a feed whose poll was cut short (finished unpolled) again at once, to anyone', async () => {
        const [a, b] = await two();
        const url = urls[0] ?? '';
        expect(await a.claimFeeds({ ...claim, urls: [url] })).toEqual([url]);
        await a.finishFeed(url, null);
        expect(await b.claimFeeds({ ...claim, urls: [url], now: 1_001 })).toEqual([url]);
      });

      it('does not give a finished feed again until polledBefore passes its poll', async () => {
        const [a, b] = await two();
        const url = urls[0] ?? '';
        expect(await a.claimFeeds({ ...claim, urls: [url] })).toEqual([url]);
        await a.finishFeed(url, 1_500);
        expect(await b.claimFeeds({ ...claim, urls: [url], now: 2_000, polledBefore: 1_500 })).toEqual([]);
        expect(await a.claimFeeds({ ...claim, urls: [url], now: 2_000, polledBefore: 1_500 })).toEqual([]);
        expect(await b.claimFeeds({ ...claim, urls: [url], now: 2_000, polledBefore: 1_501 })).toEqual([url]);
      });

      it("gives a feed whose lease ran out to another store", async () => {
        const [a, b] = await two();
        const url = urls[0] ?? '';
        expect(await a.claimFeeds({ ...claim, urls: [url], now: 1_000, leaseMs: 500 })).toEqual([url]);
        expect(await b.claimFeeds({ ...claim, urls: [url], now: 1_500 })).toEqual([]);
        expect(await b.claimFeeds({ ...claim, urls: [url], now: 1_501 })).toEqual([url]);
        expect(await a.claimFeeds({ ...claim, urls: [url], now: 1_600 })).toEqual([]);
        await b.finishFeed(url, 1_700);
        expect(await a.claimFeeds({ ...claim, urls: [url], now: 1_800, polledBefore: 1_800 })).toEqual([url]);
      });
    });

    describe('roles', () => {
      it('lets one store at a time hold a role, until it releases it', async () => {
        const [a, b] = await two();
        expect(a.heldRoles()).toEqual([]);
        expect(await a.tryRole('sender')).toBe(true);
        expect(await a.tryRole('sender')).toBe(true);
        expect(await b.tryRole('sender')).toBe(false);
        expect(await b.tryRole('bot')).toBe(true);
        expect(await a.tryRole('bot')).toBe(false);
        expect(a.heldRoles()).toEqual(['sender']);
        expect(b.heldRoles()).toEqual(['bot']);
        await a.releaseRole('sender');
        await a.releaseRole('never-held');
        expect(a.heldRoles()).toEqual([]);
        expect(await b.tryRole('sender')).toBe(true);
        expect([...b.heldRoles()].sort()).toEqual(['bot', 'sender']);
        expect(await a.tryRole('sender')).toBe(false);
      });

      it('frees a role when its holder closes', async () => {
        const [a, b] = await two();
        expect(await a.tryRole('sender')).toBe(true);
        await a.close();
        expect(await b.tryRole('sender')).toBe(true);
      });

      it('runs withLock on a role of its own at once, and makes other stores wait', async () => {
        const [a, b] = await two();
        expect(await a.tryRole('sender')).toBe(true);
        expect(await a.withLock('sender', () => Promise.resolve('mine'), { waitMs: 0 })).toBe('mine');
        await expect(b.withLock('sender', () => Promise.resolve('theirs'), { waitMs: 0 })).rejects.toBeInstanceOf(StoreBusyError);
        await a.releaseRole('sender');
        expect(await b.withLock('sender', () => Promise.resolve('theirs'), { waitMs: 0 })).toBe('theirs');
      });

      it('is not given while another store holds the lock of that name', async () => {
        const [a, b] = await two();
        const started = gate();
        const finish = gate();
        const held = a.withLock('sender', async () => {
          started.open();
          await finish.opened;
        });
        await started.opened;
        expect(await b.tryRole('sender')).toBe(false);
        finish.open();
        await held;
        expect(await b.tryRole('sender')).toBe(true);
      });
    });

    describe('WebSub subscriptions', () => {
      const subscription = {
        id: 'cb-1',
        feedUrl: FEED,
        topic: `${FEED}?self`,
        hub: 'https://hub.example/',
        secret: 'secret-1',
        state: 'pending' as const,
        leaseSeconds: null,
        expiresAt: null,
        requestedAt: 1_000,
      };

      it('keeps a subscription by its callback id, replaces it when saved again, and forgets it when deleted', async () => {
        const store = await one();
        expect(await store.websubSubscription('cb-1')).toBeNull();
        await store.saveWebsubSubscription(subscription);
        expect(await store.websubSubscription('cb-1')).toEqual(subscription);
        const verified = { ...subscription, state: 'active' as const, leaseSeconds: 864_000, expiresAt: 864_001_000 };
        await store.saveWebsubSubscription(verified);
        expect(await store.websubSubscription('cb-1')).toEqual(verified);
        expect(await store.websubSubscriptions()).toEqual([verified]);
        await store.deleteWebsubSubscription('cb-1');
        expect(await store.websubSubscription('cb-1')).toBeNull();
        expect(await store.websubSubscriptions()).toEqual([]);
      });

      it('lists every subscription, oldest request first, to every store on the database', async () => {
        const [a, b] = await two();
        await a.saveWebsubSubscription({ ...subscription, id: 'cb-late', requestedAt: 5_000 });
        await a.saveWebsubSubscription({ ...subscription, id: 'cb-early', feedUrl: `${FEED}/2`, state: 'unsubscribing', requestedAt: 2_000 });
        expect((await b.websubSubscriptions()).map((s) => [s.id, s.state])).toEqual([
          ['cb-early', 'unsubscribing'],
          ['cb-late', 'pending'],
        ]);
      });
    });
  });
});

// What only PostgreSQL has: connections that can be lost, a schema per URL, advisory locks shared
// by every schema of the database. Skipped without TEST_DATABASE_URL (outside CI), as above.
describe.skipIf(!testDatabaseUrl())('PostgreSQL store', () => {
  async function open(url: string): Promise<Store> {
    const store = await openStore(url);
    onTestFinished(() => store.close());
    return store;
  }

  it('migrates a new schema once when several stores open it together, and records the version', async () => {
    const { url, schema } = await useTestSchema();
    const stores = await Promise.all([open(url), open(url), open(url), open(url)]);
    await stores[0]?.commitFeedBatch(batch());
    expect(await stores[3]?.itemHashes(FEED, ['g:1'])).toEqual(new Map([['g:1', 'h1']]));
    const versions = await withTestClient(async (client) => (await client.query<{ version: number }>(`SELECT version FROM "${schema}".schema_migrations ORDER BY version`)).rows);
    expect(versions.map((v) => v.version)).toEqual(PG_MIGRATIONS.map((_, i) => i + 1));
  });

  it('creates the schema it is given, and keeps each schema to itself', async () => {
    const first = await useTestSchema();
    const second = await useTestSchema();
    await withTestClient((client) => client.query(`DROP SCHEMA "${second.schema}"`));
    const a = await open(first.url);
    const b = await open(second.url.replace(/^postgres:/u, 'postgresql:'));
    await a.commitFeedBatch(batch());
    expect(await b.getFeedState(FEED)).toBeNull();
    // Locks and roles of one name in two schemas do not meet.
    expect(await a.tryRole('sender')).toBe(true);
    expect(await b.tryRole('sender')).toBe(true);
    expect(await a.withLock('cycle', () => b.withLock('cycle', () => Promise.resolve('both'), { waitMs: 0 }), { waitMs: 0 })).toBe('both');
  });

  it('refuses a schema newer than this code', async () => {
    const { url, schema } = await useTestSchema();
    await (await openStore(url)).close();
    await withTestClient((client) => client.query(`INSERT INTO "${schema}".schema_migrations (version, applied_at) VALUES ($1, 0)`, [PG_MIGRATIONS.length + 1]));
    await expect(openStore(url)).rejects.toThrow(StoreError);
    await expect(openStore(url)).rejects.toThrow(/newer than this steppewatch/u);
  });

  it('refuses a bad schema name, and never shows the password of a URL it cannot connect to', async () => {
    await expect(openStore('postgres://u@127.0.0.1/test?schema=bad-name')).rejects.toThrow(StoreError);
    await expect(openStore('postgres://u@127.0.0.1/test?schema=a;drop')).rejects.toThrow(/schema must be/u);
    await expect(openStore('postgres://u@127.0.0.1/test?schema=a&schema=b')).rejects.toThrow(StoreError);
    const error = await openStore('postgres://steppe:s3cr%3Ft@127.0.0.1:1/test?schema=x&password=other').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    const message = (error as StoreError).message;
    expect(message).toMatch(/^cannot open PostgreSQL database postgres:\/\/steppe:\*\*\*@127\.0\.0\.1:1\/test/u);
    expect(message).toMatch(/ECONNREFUSED/u);
    expect(message).not.toMatch(/s3cr|other/u);
  });

  it('drops its roles as soon as their connection is lost, and takes them again on a new one', async () => {
    const { url, schema } = await useTestSchema();
    const a = await open(url);
    const b = await open(url);
    expect(await a.tryRole('sender')).toBe(true);
    expect(await a.tryRole('bot')).toBe(true);
    const key = BigInt.asUintN(64, BigInt(advisoryKey(schema, 'sender')));
    await withTestClient((client) =>
      client.query(
        `SELECT pg_terminate_backend(pid) FROM pg_locks
         WHERE locktype = 'advisory' AND objsubid = 1 AND classid = $1::bigint::oid AND objid = $2::bigint::oid`,
        [(key >> 32n).toString(), BigInt.asUintN(32, key).toString()],
      ),
    );
    await vi.waitFor(() => expect(a.heldRoles()).toEqual([]), { timeout: 5_000 });
    await vi.waitFor(async () => expect(await b.tryRole('sender')).toBe(true), { timeout: 5_000 });
    expect(await a.tryRole('sender')).toBe(false);
    expect(await a.tryRole('bot')).toBe(true);
    expect(a.heldRoles()).toEqual(['bot']);
  });

  it('says which server process holds a lock it gave up waiting for', async () => {
    const { connectionString, schema } = await useTestSchema();
    const a = await PostgresStore.open(connectionString, schema);
    const b = await PostgresStore.open(connectionString, schema);
    onTestFinished(async () => {
      await a.close();
      await b.close();
    });
    const error = await a.withLock('cycle', () => b.withLock('cycle', () => Promise.resolve(), { waitMs: 0 }).catch((e: unknown) => e));
    expect(error).toBeInstanceOf(StoreBusyError);
    expect((error as StoreBusyError).holder).toMatch(/^PostgreSQL backend \d+/u);
  });
});
