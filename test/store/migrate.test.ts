// `steppewatch migrate-store`: a SQLite store moved into PostgreSQL through the real CLI reads the
// same through the Store interface, and goes on from where it was (ids, queued alerts, offset).

import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { PostgresStore } from '../../src/store/postgres.js';
import { MIGRATIONS, SqliteStore } from '../../src/store/sqlite.js';
import { emptyFeedBatch, type FeedBatch, type OutboxMessage, type Store, type StoryReport } from '../../src/store/store.js';
import { runCli } from '../support/cli.js';
import { testDatabaseUrl, useTestSchema, withTestClient } from '../support/postgres.js';

const FEED = 'https://f.test/rss';
const BROKEN = 'https://g.test/rss';
const CHATS = ['@chan', '@other', '42', '@gone', '-1', '-100'];
/** far enough ahead that every pending row is due and every digest too */
const FAR = 10 ** 15;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'steppewatch-migrate-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function batch(overrides: Partial<FeedBatch>): FeedBatch {
  return { ...emptyFeedBatch(FEED, 1_000), ...overrides };
}

function alert(story: OutboxMessage['story'], chat: string, threadId: number | null = null, linkPreview = false): OutboxMessage {
  const html = `<b>alert for ${chat}</b> <a href="https://f.test/">ссылка</a>`;
  return { story, kind: 'alert', targetId: null, chat, threadId, linkPreview, html, text: html.replace(/<[^>]+>/gu, ''), origin: { source: 'f.test', language: 'ru' } };
}

function report(story: StoryReport['story'], at: number): StoryReport {
  return {
    story,
    at,
    source: `s${at}.test`,
    link: `https://s${at}.test/a`,
    title: 'Алматы: протест',
    language: 'ru',
    // Every byte value a fingerprint can hold, zeros and 0xff included: BLOB → BYTEA must keep them all.
    signature: new Uint32Array([at, 0xffffffff, 0, 0x00ff00ff, 0x80000000]),
    bands: 0x80000001,
    termHashes: new Uint32Array([7, 0x7fffffff, 0xdeadbeef]),
    entities: ['almaty'],
    numbers: ['164'],
    features: ['@almaty', 'n:164'],
  };
}

/** Everything the store holds, read through the Store interface. */
async function snapshot(store: Store, storyIds: number[]): Promise<Record<string, unknown>> {
  const digests = await store.dueDigests(FAR);
  return {
    feeds: await store.feedStates(),
    due: await store.dueOutbox(FAR, 1_000),
    nextDue: await store.nextOutboxDue(),
    outboxCounts: await store.outboxCounts(),
    stories: await Promise.all(storyIds.map((id) => store.getStory(id))),
    found: await store.findStory(['e:almaty'], 0),
    reports: await store.reportsAfter(0, 0, 1_000),
    hashes: await store.itemHashes(FEED, ['g:1', 'g:2', 'g:3', 'g:4', 'g:x', 'g:never']),
    chats: await Promise.all(CHATS.map((chat) => store.getChat(chat))),
    chatCounts: await store.chatCounts(),
    chatSettings: await store.chatSettings(),
    watchlists: await Promise.all(CHATS.map((chat) => store.chatWatchlists(chat))),
    activeWatchlists: await store.activeWatchlists(5_000),
    digests: digests.sort((a, b) => a.chat.localeCompare(b.chat)),
    chatMoves: await store.chatMoves(),
    // One link at a time: items first seen at once come in no set order.
    traces: await Promise.all(['https://f.test/1', 'https://f.test/x'].map((link) => store.traceLinks([link]))),
    botOffset: await store.getBotOffset(),
  };
}

interface Source {
  file: string;
  storyIds: number[];
  /** the outbox id of the alert that was sent (message 777) */
  sentId: number;
  expected: Record<string, unknown>;
}

/** A SQLite store with some of everything, written through SqliteStore as the worker would. */
async function buildSource(file: string): Promise<Source> {
  const store = new SqliteStore(file);
  await store.upsertChat('@chan', 'channel', 100);
  await store.upsertChat('42', 'private', 100);
  await store.upsertChat('@gone', 'group', 100);
  await store.addChatWatchlist('42', { preset: 'kazakhstan-unrest' }, 110);
  await store.addChatWatchlist('42', { query: 'almaty AND protest*' }, 111);
  await store.addChatWatchlist('@gone', { query: 'football' }, 112);
  await store.addChatWatchlist('@chan', { query: 'алматы' }, 113);
  await store.setDigest('42', 'daily', 120);
  await store.setChatSettings('@chan', { template: 'compact', updates: 'reply' });
  await store.setChatSettings('@chan', { threadId: 9, languages: ['ru', 'kk'], quiet: { from: 1_320, to: 420, zone: 'Asia/Almaty', breaking: true }, language: 'kk', appLanguage: 'ru' });
  // A group that became a supergroup: its watchlist and settings went to the new id.
  await store.upsertChat('-1', 'group', 100);
  await store.setChatSettings('-1', { language: 'ru' });
  await store.addChatWatchlist('-1', { preset: 'kazakhstan' }, 114);
  await store.moveChat('-1', '-100', 115);
  await store.setMutedUntil('@chan', 4_000);
  await store.deactivateChat('@gone', 'blocked by the user', 130);

  await store.commitFeedBatch(
    batch({
      at: 1_000,
      newStories: [
        { title: 'Story 0', link: 'https://f.test/1', keys: ['u:https://f.test/1'] },
        { title: 'Story 1', link: 'https://f.test/2', keys: ['u:https://f.test/2'] },
        { title: 'Story 2', link: null, keys: ['u:https://f.test/4'] },
      ],
      items: [
        { key: 'g:1', title: 'Story 0', link: 'https://f.test/1', publishedAt: 900, decision: 'alerted', watchlists: ['w'], story: { newIndex: 0 }, contentHash: 'h1', language: 'ru' },
        { key: 'g:2', title: 'Story 1', link: 'https://f.test/2', publishedAt: null, decision: 'alerted', watchlists: ['w'], story: { newIndex: 1 }, contentHash: 'h2' },
        { key: 'g:x', title: 'Football', link: 'https://f.test/x', publishedAt: 950, decision: 'no-match', watchlists: [], story: null, contentHash: 'hx', language: 'kk', forms: ['футбол'] },
        { key: 'g:4', title: 'Story 2', link: null, publishedAt: 960, decision: 'alerted', watchlists: ['w', 'v'], story: { newIndex: 2 }, contentHash: 'h4' },
      ],
      reports: [report({ newIndex: 0 }, 1_000), report({ newIndex: 1 }, 1_001)],
      outbox: [alert({ newIndex: 0 }, '@chan', null, true), alert({ newIndex: 0 }, '@other', 5), alert({ newIndex: 1 }, '@chan'), alert({ newIndex: 2 }, '@chan')],
      breaking: [{ newIndex: 0 }],
      digestItems: [{ story: { newIndex: 1 }, chat: '42', html: '<i>digest 1</i>', text: 'digest 1' }],
      fetch: { etag: '"e1"', lastModified: 'Tue, 01 Jan 2030 00:00:00 GMT' },
    }),
  );
  const first = await store.dueOutbox(FAR, 100);
  const [s0chan, s0other, s1chan] = first;
  if (!s0chan || !s0other || !s1chan) throw new Error('alerts not queued');
  await store.markSent(s0chan.id, 777, 1_500);
  await store.markRetry(s0other.id, 'HTTP 429', 5_000);
  await store.markFailed(s1chan.id, 'HTTP 403: bot was blocked', 1_600);
  const [digest] = await store.dueDigests(FAR);
  if (!digest) throw new Error('no digest due');
  await store.queueDigest('42', [{ storyId: s1chan.storyId, html: '<b>digest</b>', text: 'digest' }], digest.items.map((i) => i.id), 1_700);

  const story0 = s0chan.storyId;
  await store.commitFeedBatch(
    batch({
      at: 2_000,
      items: [{ key: 'g:3', title: 'Story 0 again', link: 'https://f.test/3', publishedAt: 1_990, decision: 'folded', watchlists: ['w'], story: { id: story0 }, contentHash: 'h3' }],
      storyKeys: [{ storyId: story0, key: 'e:almaty' }],
      reports: [report({ id: story0 }, 2_000)],
      // An edit of the alert already sent: after the move it must still target message 777.
      outbox: [{ story: { id: story0 }, kind: 'edit', targetId: s0chan.id, chat: '@chan', threadId: null, linkPreview: true, html: '<b>edited</b>', text: 'edited' }],
      digestItems: [{ story: { id: s1chan.storyId }, chat: '42', html: '<i>digest 2</i>', text: 'digest 2' }],
      fetch: { etag: '"e2"', lastModified: null },
    }),
  );
  await store.recordItemUpdate(FEED, 'g:2', 'h2-changed', 2_050);
  await store.recordFeedFailure(BROKEN, 'HTTP 500', 2_100, 60_000);
  await store.setFeedFetchUrl(BROKEN, 'https://g.test/moved');
  await store.markFeedFailureReported(BROKEN, 2_200);
  // Polled (polled_at kept), and a lease long expired (a SQLite holder's: not moved).
  expect(await store.claimFeeds({ urls: [FEED, BROKEN], now: 2_300, polledBefore: 2_300, leaseMs: 1_000, limit: 2 })).toEqual([FEED, BROKEN]);
  await store.finishFeed(FEED, 2_300);
  await store.setBotOffset(987_654_321);
  await store.withLock('prune', () => Promise.resolve());

  const storyIds = [...new Set(first.map((row) => row.storyId))];
  const expected = await snapshot(store, storyIds);
  await store.close();
  // A lease left by a worker that died: ignored, and not moved.
  const db = new Database(file);
  db.prepare('INSERT INTO locks (name, holder, expires_at) VALUES (?, ?, ?)').run('sender', '2147483646-dead', 1);
  db.close();
  return { file, storyIds, sentId: s0chan.id, expected };
}

/** `url` with a password in it (the test server trusts this user, so any password does). */
function withPassword(url: string): { url: string; password: string } {
  const parsed = new URL(url);
  if (!parsed.password) parsed.password = 'pw-S3cret-9x';
  return { url: parsed.toString(), password: decodeURIComponent(parsed.password) };
}

async function openTarget(connectionString: string, schema: string): Promise<PostgresStore> {
  const store = await PostgresStore.open(connectionString, schema);
  onTestFinished(() => store.close());
  return store;
}

describe('migrate-store without PostgreSQL', () => {
  const to = 'postgres://someone:pw-Unseen-77@127.0.0.1:1/none?schema=x';

  it('refuses a SQLite file that does not exist, without creating it', async () => {
    const file = join(dir, 'missing.db');
    const result = await runCli(['migrate-store', '--from', `sqlite:${file}`, '--to', to]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`SQLite database ${file} does not exist`);
    expect(result.stderr).not.toContain('    at ');
    expect(existsSync(file)).toBe(false);
  });

  it('says what is wrong with the arguments', async () => {
    const file = join(dir, 'db.sqlite');
    await new SqliteStore(file).close();
    const missing = await runCli(['migrate-store', '--from', `sqlite:${file}`]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('migrate-store needs --from sqlite:PATH and --to postgres://');
    const notSqlite = await runCli(['migrate-store', '--from', file, '--to', to]);
    expect(notSqlite.code).toBe(1);
    expect(notSqlite.stderr).toContain('--from must be sqlite:PATH');
    const notPostgres = await runCli(['migrate-store', '--from', `sqlite:${file}`, '--to', `sqlite:${file}`]);
    expect(notPostgres.code).toBe(1);
    expect(notPostgres.stderr).toContain('--to must be postgres://');
  });

  it('refuses a database newer than this steppewatch', async () => {
    const file = join(dir, 'newer.db');
    const db = new Database(file);
    db.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    db.close();
    const result = await runCli(['migrate-store', '--from', `sqlite:${file}`, '--to', to]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/newer than this steppewatch/u);
  });

  it('refuses a file a running worker holds', async () => {
    const file = join(dir, 'busy.db');
    const store = new SqliteStore(file);
    onTestFinished(() => store.close());
    expect(await store.tryRole('sender')).toBe(true);
    const result = await runCli(['migrate-store', '--from', `sqlite:${file}`, '--to', to]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`process ${process.pid} holds "sender"`);
    expect(result.stderr).toContain('stop every steppewatch worker on it first');
  });

  it('masks the password when the target cannot be reached', async () => {
    const file = join(dir, 'db.sqlite');
    await new SqliteStore(file).close();
    const result = await runCli(['migrate-store', '--from', `sqlite:${file}`, '--to', to]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('cannot open PostgreSQL database postgres://someone:***@127.0.0.1:1/none');
    expect(result.stdout + result.stderr).not.toContain('pw-Unseen-77');
    expect(result.stderr).not.toContain('    at ');
  });
});

describe.skipIf(!testDatabaseUrl())('migrate-store into PostgreSQL', () => {
  it('moves everything, queued and sent alerts kept, and the target goes on from there', async () => {
    const source = await buildSource(join(dir, 'steppewatch.db'));
    const schema = await useTestSchema();
    const target = withPassword(schema.url);

    const result = await runCli(['migrate-store', '--from', `sqlite:${source.file}`, '--to', target.url]);
    expect(result.stderr).not.toContain('unexpected error');
    expect(result.code).toBe(0);
    expect(result.stdout + result.stderr).not.toContain(target.password);
    const counts: Record<string, number> = Object.fromEntries([...result.stdout.matchAll(/^ {2}(\w+) +(\d+) rows$/gmu)].map((m) => [m[1] ?? '', Number(m[2])]));
    expect(counts).toEqual({
      feeds: 2,
      stories: 3,
      story_keys: 4,
      items: 5,
      story_reports: 3,
      outbox: 6,
      chats: 5,
      chat_watchlists: 5,
      chat_moves: 1,
      digest_items: 2,
      bot_state: 1,
      websub_subscriptions: 0,
    });
    // Pending: the alert waiting to retry, the one never tried, the edit and the digest.
    expect(result.stdout).toContain(`moved 4 queued alerts; point DATABASE_URL at ${target.url.replace(`:${encodeURIComponent(target.password)}@`, ':***@')} and start the workers`);

    const store = await openTarget(schema.connectionString, schema.schema);
    const actual = await snapshot(store, source.storyIds);
    expect(actual).toEqual(source.expected);
    // Spelled out, the things that matter most.
    const due = await store.dueOutbox(FAR, 100);
    expect(due.map((row) => [row.kind, row.chat, row.attempts])).toEqual([
      ['alert', '@other', 1],
      ['alert', '@chan', 0],
      ['digest', '42', 0],
      ['edit', '@chan', 0],
    ]);
    expect(due.find((row) => row.kind === 'edit')).toMatchObject({ target: { status: 'sent', messageId: 777 }, html: '<b>edited</b>', linkPreview: true });
    expect(await store.dueOutbox(4_999, 100)).toHaveLength(3); // the retry waits for its next_attempt_at
    expect(await store.getBotOffset()).toBe(987_654_321);
    expect(await store.itemHashes(FEED, ['g:1', 'g:3', 'g:new'])).toEqual(new Map([['g:1', 'h1'], ['g:3', 'h3']]));
    expect(await store.getFeedState(FEED)).toMatchObject({ etag: '"e2"', firstPolledAt: 1_000, lastSuccessAt: 2_000 });
    expect(await store.getFeedState(BROKEN)).toMatchObject({ consecutiveFailures: 1, fetchUrl: 'https://g.test/moved', failureReportedAt: 2_200 });
    expect(await store.getChat('@gone')).toMatchObject({ active: false });
    expect(await store.getChat('@chan')).toMatchObject({ active: true, mutedUntil: 4_000, template: 'compact', updates: 'reply', threadId: 9, languages: ['ru', 'kk'], language: 'kk', appLanguage: 'ru' });
    expect(await store.getChat('-1')).toMatchObject({ active: false, deactivatedReason: 'moved to -100' });
    expect(await store.getChat('-100')).toMatchObject({ kind: 'supergroup', active: true, language: 'ru' });
    expect(await store.chatMoves()).toEqual(new Map([['-1', '-100']]));
    expect(await store.traceLinks(['https://f.test/x'])).toMatchObject([{ decision: 'no-match', forms: ['футбол'], language: 'kk' }]);

    // Byte for byte: BLOB → BYTEA.
    const sqlite = new Database(source.file, { readonly: true });
    const blobs = (sqlite.prepare('SELECT id, signature, term_hashes FROM story_reports ORDER BY id').all() as Array<{ id: number; signature: Buffer; term_hashes: Buffer }>).map(
      (r) => [r.id, r.signature.toString('hex'), r.term_hashes.toString('hex')],
    );
    const locks = sqlite.prepare('SELECT COUNT(*) FROM locks').pluck().get() as number;
    sqlite.close();
    expect(locks).toBe(1);
    const copied = await withTestClient(async (client) => {
      const { rows } = await client.query<{ id: string; signature: Buffer; term_hashes: Buffer }>(`SELECT id, signature, term_hashes FROM "${schema.schema}".story_reports ORDER BY id`);
      return rows.map((r) => [Number(r.id), r.signature.toString('hex'), r.term_hashes.toString('hex')]);
    });
    expect(copied).toEqual(blobs);
    expect(blobs[0]?.[1]).toContain('ffffffff00000000');

    // Feed leases were the old database's: both feeds can be claimed at once.
    expect(await store.claimFeeds({ urls: [FEED, BROKEN], now: 3_000, polledBefore: 3_000, leaseMs: 60_000, limit: 10 })).toEqual([BROKEN, FEED]);

    // New rows get ids above the moved ones (the sequences were reset).
    const maxOutbox = Math.max(...due.map((row) => row.id), source.sentId);
    const maxReport = Math.max(...((actual.reports as Array<{ id: number }>).map((r) => r.id)));
    await store.commitFeedBatch(
      batch({
        at: 3_000,
        newStories: [{ title: 'Story 3', link: null, keys: ['u:https://f.test/5'] }],
        items: [{ key: 'g:5', title: 'Story 3', link: null, publishedAt: null, decision: 'alerted', watchlists: ['w'], story: { newIndex: 0 }, contentHash: 'h5' }],
        reports: [report({ newIndex: 0 }, 3_000)],
        outbox: [alert({ newIndex: 0 }, '@chan')],
        digestItems: [{ story: { newIndex: 0 }, chat: '42', html: 'd3', text: 'd3' }],
      }),
    );
    const story3 = await store.findStory(['u:https://f.test/5'], 0);
    expect(story3?.id).toBeGreaterThan(Math.max(...source.storyIds));
    expect(story3?.alerts[0]?.outboxId).toBeGreaterThan(maxOutbox);
    const [newReport] = await store.reportsAfter(maxReport, 0, 10);
    expect(newReport?.at).toBe(3_000);
    const watchlist = await store.addChatWatchlist('42', { query: 'new' }, 3_000);
    expect(watchlist.id).toBeGreaterThan(5);
    const digestIds = (await store.dueDigests(FAR)).flatMap((d) => d.items.map((i) => i.id));
    expect(Math.max(...digestIds)).toBeGreaterThan(2);

    // A second migration into the same schema is refused, and changes nothing.
    const again = await runCli(['migrate-store', '--from', `sqlite:${source.file}`, '--to', target.url]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('is not empty');
    expect(again.stderr).toContain('migrate into an empty schema');
    expect(again.stdout + again.stderr).not.toContain(target.password);
    expect(again.stderr).not.toContain('    at ');
    expect(await store.outboxCounts()).toEqual({ pending: 5, sent: 1, failed: 1 });
  });

  it('brings an older SQLite file up to date first', async () => {
    const file = join(dir, 'old.db');
    const db = new Database(file);
    for (const sql of MIGRATIONS.slice(0, 4)) db.exec(sql);
    db.pragma('user_version = 4');
    db.prepare('INSERT INTO feeds (url, etag, consecutive_failures) VALUES (?, ?, 0)').run(FEED, '"old"');
    db.prepare(`INSERT INTO bot_state (key, value) VALUES ('offset', '55')`).run();
    db.close();
    const schema = await useTestSchema();

    const result = await runCli(['migrate-store', '--from', `sqlite:${file}`, '--to', schema.url]);
    expect(result.stderr).not.toContain('unexpected error');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('moved 0 queued alerts');
    const store = await openTarget(schema.connectionString, schema.schema);
    expect(await store.getFeedState(FEED)).toMatchObject({ etag: '"old"', consecutiveFailures: 0 });
    expect(await store.getBotOffset()).toBe(55);
  });
});
