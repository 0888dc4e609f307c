import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, StoreError } from '../../src/store/open.js';
import { MIGRATIONS, SqliteStore } from '../../src/store/sqlite.js';
import type { FeedBatch } from '../../src/store/store.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'steppewatch-store-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function batch(overrides: Partial<FeedBatch> = {}): FeedBatch {
  return {
    feedUrl: 'https://f.test/rss',
    at: 1_000,
    items: [{ key: 'g:1', title: 'Story', link: 'https://f.test/1', publishedAt: 900, decision: 'alerted', watchlists: ['w'], story: { newIndex: 0 }, contentHash: 'h1' }],
    newStories: [{ title: 'Story', link: 'https://f.test/1', keys: ['u:https://f.test/1'] }],
    storyKeys: [],
    reports: [],
    outbox: [{ story: { newIndex: 0 }, chat: '@chan', threadId: null, html: '<b>Story</b>', text: 'Story', kind: 'alert', targetId: null, linkPreview: false }],
    outboxRewrites: [],
    breaking: [],
    digestItems: [],
    fetch: { etag: '"e1"', lastModified: null },
    ...overrides,
  };
}

describe('SqliteStore', () => {
  it('remembers items, stories and queued alerts across a restart', async () => {
    const file = join(dir, 'sub', 'db.sqlite');
    const first = new SqliteStore(file);
    await first.commitFeedBatch(batch());
    await first.close();

    const store = new SqliteStore(file);
    expect(await store.itemHashes('https://f.test/rss', ['g:1', 'g:2'])).toEqual(new Map([['g:1', 'h1']]));
    expect(await store.getFeedState('https://f.test/rss')).toMatchObject({ etag: '"e1"', firstPolledAt: 1_000, consecutiveFailures: 0 });
    const story = await store.findStory(['u:https://f.test/1'], 0);
    expect(story?.destinations).toEqual(new Set(['@chan']));
    expect(await store.findStory(['u:https://f.test/1'], 2_000)).toBeNull(); // outside the window
    const due = await store.dueOutbox(Date.now(), 10);
    expect(due).toMatchObject([{ chat: '@chan', html: '<b>Story</b>', attempts: 0 }]);
    await store.close();
  });

  it('prunes past retention, but keeps a story whose alert is still queued', async () => {
    const store = new SqliteStore(':memory:');
    await store.commitFeedBatch(batch()); // at 1_000, its alert pending
    await store.commitFeedBatch(
      batch({
        feedUrl: 'https://g.test/rss',
        items: [{ key: 'g:9', title: 'Old', link: null, publishedAt: 900, decision: 'alerted', watchlists: ['w'], story: { newIndex: 0 }, contentHash: 'h9' }],
        newStories: [{ title: 'Old', link: null, keys: ['t:old'] }],
        outbox: [],
      }),
    );
    expect(await store.prune(2_000)).toEqual({ items: 2, stories: 1 });
    expect(await store.findStory(['t:old'], 0)).toBeNull();
    expect(await store.findStory(['u:https://f.test/1'], 0)).not.toBeNull(); // its alert is still to be sent
    expect(await store.dueOutbox(5_000, 10)).toHaveLength(1);
    await store.close();
  });

  it('moves outbox rows through retry, sent and failed', async () => {
    const store = new SqliteStore(':memory:');
    await store.commitFeedBatch(batch());
    const [row] = await store.dueOutbox(5_000, 10);
    if (!row) throw new Error('no row');
    await store.markRetry(row.id, '429', 10_000);
    expect(await store.dueOutbox(5_000, 10)).toEqual([]);
    expect(await store.nextOutboxDue()).toBe(10_000);
    await store.markSent(row.id, 77, 10_001);
    expect(await store.outboxCounts()).toEqual({ pending: 0, sent: 1, failed: 0 });
    expect(await store.nextOutboxDue()).toBeNull();
    await store.close();
  });

  it('writes nothing of a batch that fails half-way', async () => {
    const store = new SqliteStore(':memory:');
    const broken = batch({ outbox: [{ story: { newIndex: 5 }, chat: '@chan', threadId: null, html: 'x', text: 'x', kind: 'alert', targetId: null, linkPreview: false }] });
    await expect(store.commitFeedBatch(broken)).rejects.toThrow(/new story 5/u);
    expect(await store.itemHashes('https://f.test/rss', ['g:1'])).toEqual(new Map());
    expect(await store.getFeedState('https://f.test/rss')).toBeNull();
    await store.close();
  });

  it('counts consecutive feed failures until a success', async () => {
    const store = new SqliteStore(':memory:');
    await store.recordFeedFailure('https://f.test/rss', 'HTTP 500', 1, 60_001);
    await store.recordFeedFailure('https://f.test/rss', 'HTTP 502', 2, 120_002);
    expect(await store.getFeedState('https://f.test/rss')).toMatchObject({
      consecutiveFailures: 2,
      lastError: 'HTTP 502',
      firstPolledAt: null,
      failingSince: 1,
      nextPollAt: 120_002,
    });
    await store.markFeedFailureReported('https://f.test/rss', 3);
    await store.commitFeedBatch(batch());
    expect(await store.getFeedState('https://f.test/rss')).toMatchObject({
      consecutiveFailures: 0,
      lastError: null,
      failingSince: null,
      failureReportedAt: null,
      nextPollAt: null,
    });
    await store.close();
  });

  it('uses WAL and records its schema version', () => {
    const file = join(dir, 'db.sqlite');
    new SqliteStore(file).close().catch(() => undefined);
    const db = new Database(file);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    db.close();
  });

  it('upgrades a version 2 database without losing its queued alerts', async () => {
    const file = join(dir, 'db.sqlite');
    const db = new Database(file);
    db.exec(`${MIGRATIONS[0] ?? ''}${MIGRATIONS[1] ?? ''}`);
    db.pragma('user_version = 2');
    db.exec(`INSERT INTO stories (id, created_at, title) VALUES (7, 1, 'Story');
      INSERT INTO outbox (story_id, chat, html, text, next_attempt_at, created_at) VALUES (7, '@chan', '<b>A</b>', 'A', 1, 1);`);
    db.close();
    const store = new SqliteStore(file);
    expect(await store.dueOutbox(10, 10)).toMatchObject([{ storyId: 7, kind: 'alert', chat: '@chan', html: '<b>A</b>', target: null }]);
    expect((await store.getStory(7))?.alerts).toMatchObject([{ baseHtml: '<b>A</b>', status: 'pending' }]);
    await store.close();
  });

  it('refuses a database from a newer steppewatch', () => {
    const file = join(dir, 'db.sqlite');
    const db = new Database(file);
    db.pragma('user_version = 99');
    db.close();
    expect(() => openStore(`sqlite:${file}`)).toThrow(StoreError);
    expect(() => openStore(`sqlite:${file}`)).toThrow(/newer than this steppewatch/u);
  });
});
