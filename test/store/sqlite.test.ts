import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, StoreError } from '../../src/store/open.js';
import { MIGRATIONS, SqliteStore } from '../../src/store/sqlite.js';
import { StoreBusyError, type FeedBatch } from '../../src/store/store.js';

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

  it('gives a report back with its features, and a report from before features with none', async () => {
    const file = join(dir, 'db.sqlite');
    const db = new Database(file);
    db.exec(MIGRATIONS.slice(0, 4).join(''));
    db.pragma('user_version = 4');
    db.exec(`INSERT INTO stories (id, created_at, title) VALUES (7, 1, 'Story');
      INSERT INTO story_reports (story_id, at, source, title, signature, bands, term_hashes, entities, numbers)
        VALUES (7, 5, 'f.test', 'Story', x'01000000', 1, x'02000000', '[]', '["164"]');`);
    db.close();
    const store = new SqliteStore(file);
    const signature = new Uint32Array([3, 4]);
    const report = { at: 6, source: 'g.test', link: null, title: 'Story', language: 'ru', signature, bands: 3, termHashes: new Uint32Array([5]), entities: ['almaty'], numbers: [], features: ['@almaty', 'd:01-05'] };
    await store.commitFeedBatch(batch({ newStories: [], items: [], outbox: [], reports: [{ story: { id: 7 }, ...report }] }));
    expect(await store.reportsAfter(0, 0, 10)).toEqual([
      { id: 1, storyId: 7, at: 5, language: null, signature: new Uint32Array([1]), bands: 1, termHashes: new Uint32Array([2]), entities: [], numbers: ['164'], features: [] },
      { id: 2, storyId: 7, at: 6, language: 'ru', signature, bands: 3, termHashes: new Uint32Array([5]), entities: ['almaty'], numbers: [], features: ['@almaty', 'd:01-05'] },
    ]);
    expect(await store.reportsAfter(1, 0, 10)).toHaveLength(1);
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

  it('refuses a database from a newer steppewatch', async () => {
    const file = join(dir, 'db.sqlite');
    const db = new Database(file);
    db.pragma('user_version = 99');
    db.close();
    await expect(openStore(`sqlite:${file}`)).rejects.toThrow(StoreError);
    await expect(openStore(`sqlite:${file}`)).rejects.toThrow(/newer than this steppewatch/u);
  });
});

describe('SqliteStore opened by several processes at once', () => {
  it('migrates a new database once when four processes open it together', async () => {
    const file = join(dir, 'fresh.db');
    const module = new URL('../../dist/store/sqlite.js', import.meta.url).href;
    const open = () =>
      new Promise<number | null>((resolve) => {
        const child = spawn(process.execPath, ['--input-type=module', '-e', `const { SqliteStore } = await import(${JSON.stringify(module)}); await new SqliteStore(${JSON.stringify(file)}).close();`], { stdio: 'inherit' });
        child.on('close', resolve);
      });
    expect(await Promise.all([open(), open(), open(), open()])).toEqual([0, 0, 0, 0]);
    const db = new Database(file);
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    db.close();
  });
});

describe('SqliteStore.withLock', () => {
  /** A promise and the function that settles it: lets a test decide when a holder finishes. */
  function gate(): { opened: Promise<void>; open: () => void } {
    let open = (): void => undefined;
    const opened = new Promise<void>((resolve) => (open = resolve));
    return { opened, open };
  }

  // Exclusion, queueing, re-entry and release on throw are the contract suite's (test/store/contract.test.ts).
  it('names the holding process in StoreBusyError', async () => {
    const file = join(dir, 'db.sqlite');
    const a = new SqliteStore(file);
    const b = new SqliteStore(file);
    const started = gate();
    const finish = gate();
    const held = a.withLock('cycle', async () => {
      started.open();
      await finish.opened;
    });
    await started.opened;
    const busy = await b.withLock('cycle', () => Promise.resolve('b'), { waitMs: 0 }).catch((error: unknown) => error);
    expect((busy as StoreBusyError).message).toMatch(new RegExp(`^lock "cycle" is held by ${process.pid}-`, 'u'));
    finish.open();
    await held;
    await a.close();
    await b.close();
  });

  it("takes over a lease whose holder died", async () => {
    const file = join(dir, 'db.sqlite');
    const store = new SqliteStore(file);
    const db = new Database(file);
    db.prepare('INSERT INTO locks (name, holder, expires_at) VALUES (?, ?, ?)').run('cycle', '999-dead', Date.now() - 1);
    // A live process of this machine (our parent) holds "bot".
    db.prepare('INSERT INTO locks (name, holder, expires_at) VALUES (?, ?, ?)').run('bot', `${process.ppid}-alive`, Date.now() + 60_000);
    expect(await store.withLock('cycle', () => Promise.resolve('taken'), { waitMs: 0 })).toBe('taken');
    await expect(store.withLock('bot', () => Promise.resolve(''), { waitMs: 0 })).rejects.toThrow(`lock "bot" is held by ${process.ppid}-alive`);
    expect(db.prepare('SELECT name FROM locks').pluck().all()).toEqual(['bot']); // released on the way out
    db.close();
    await store.close();
  });

  it('takes over at once a lease whose holder process was killed, without waiting out the lease', async () => {
    const file = join(dir, 'db.sqlite');
    const store = new SqliteStore(file);
    const dead = spawnSync(process.execPath, ['-e', '0']).pid;
    const db = new Database(file);
    db.prepare('INSERT INTO locks (name, holder, expires_at) VALUES (?, ?, ?)').run('sender', `${dead}-killed`, Date.now() + 60_000);
    expect(await store.withLock('sender', () => Promise.resolve('taken'), { waitMs: 0 })).toBe('taken');
    db.close();
    await store.close();
  });

  it('takes over from a store that closed while holding, once its short lease runs out', async () => {
    const file = join(dir, 'db.sqlite');
    const crashed = new SqliteStore(file);
    const store = new SqliteStore(file);
    const started = gate();
    const never = gate();
    const held = crashed.withLock('cycle', async () => {
      started.open();
      await never.opened;
    }, { ttlMs: 50 });
    await started.opened;
    await crashed.close(); // stops renewing, releases nothing
    expect(await store.withLock('cycle', () => Promise.resolve('taken'), { waitMs: 5_000 })).toBe('taken');
    never.open();
    await held; // its release on a closed store does nothing
    await store.close();
  });

  it('renews a lease while its holder runs past the lease time', async () => {
    const file = join(dir, 'db.sqlite');
    const store = new SqliteStore(file);
    const other = new SqliteStore(file);
    const db = new Database(file);
    const expiry = () => db.prepare(`SELECT expires_at FROM locks WHERE name = 'cycle'`).pluck().get() as number;
    await store.withLock('cycle', async () => {
      const first = expiry();
      // Waits for renewals (every ttl/3) by watching the row, not by sleeping a guessed time.
      while (expiry() === first) await new Promise((resolve) => setTimeout(resolve, 5));
      await expect(other.withLock('cycle', () => Promise.resolve(0), { waitMs: 0 })).rejects.toBeInstanceOf(StoreBusyError);
    }, { ttlMs: 60 });
    db.close();
    await store.close();
    await other.close();
  });
});
