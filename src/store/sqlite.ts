// The embedded default store: SQLite through better-sqlite3, in WAL mode, with versioned migrations.

import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import {
  destinationKey,
  StoreBusyError,
  type LockOptions,
  type StoredReportRow,
  type FeedBatch,
  type FeedClaim,
  type FeedState,
  type FeedActivity,
  type FeedPace,
  type KnownReport,
  type OutboxKind,
  type OutboxRow,
  type OutboxStatus,
  type ChatRecord,
  type ChatWatchlist,
  type ChatSettings,
  type ChatSettingsChange,
  type DigestItem,
  type ItemTrace,
  type DigestPeriod,
  type StoryAlert,
  type Store,
  type StoryMatch,
  type StoryRef,
} from './store.js';
import { bytesOf, CHAT_COLUMNS, chatRecordOf, chatSettingsColumns, chatSettingsOf, FEED_HEALTHY, feedState, STORY_REPORTS_READ, traceDeliveriesSql, traceDigestsSql, traceOf, TRACE_SELECT, uint32s, type ChatRow, type DeliveryRow, type DigestRow, type FeedRow, type TraceRow } from './rows.js';
import { WEBSUB_COLUMNS, websubOf, websubValues, type WebsubRow } from './rows.js';
import type { DeliveryCounts, SentAlerts, StoryCursor, StoryOverview, WebsubSubscription } from './store.js';
import { deliveryCountsOf, deliveryCountsSql, feedItemCountsOf, feedItemCountsSql, latestStoriesSql, NEWEST, sentAlertsOf, sentAlertsSql, sentStoryWatchlistsSql, storyDigestsSql, storyIdsOf, storyMessagesSql, storyOverviewsOf, storyReportsSql } from './overview.js';

/** Each entry moves the schema one version up; never edit one that has shipped, add another. */
export const MIGRATIONS: string[] = [
  `
  CREATE TABLE feeds (
    url TEXT PRIMARY KEY,
    etag TEXT,
    last_modified TEXT,
    first_polled_at INTEGER,
    last_success_at INTEGER,
    last_error TEXT,
    last_error_at INTEGER,
    consecutive_failures INTEGER NOT NULL DEFAULT 0
  );
  CREATE TABLE stories (
    id INTEGER PRIMARY KEY,
    created_at INTEGER NOT NULL,
    title TEXT NOT NULL,
    link TEXT
  );
  CREATE TABLE story_keys (
    key TEXT NOT NULL,
    story_id INTEGER NOT NULL REFERENCES stories(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (key, story_id)
  );
  CREATE INDEX story_keys_story ON story_keys(story_id);
  CREATE TABLE items (
    feed_url TEXT NOT NULL,
    item_key TEXT NOT NULL,
    title TEXT NOT NULL,
    link TEXT,
    published_at INTEGER,
    first_seen_at INTEGER NOT NULL,
    decision TEXT NOT NULL,
    watchlists TEXT NOT NULL DEFAULT '[]',
    story_id INTEGER REFERENCES stories(id) ON DELETE SET NULL,
    PRIMARY KEY (feed_url, item_key)
  );
  CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    story_id INTEGER NOT NULL REFERENCES stories(id) ON DELETE CASCADE,
    chat TEXT NOT NULL,
    thread_id INTEGER NOT NULL DEFAULT 0,
    html TEXT NOT NULL,
    text TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    sent_at INTEGER,
    message_id INTEGER,
    last_error TEXT,
    UNIQUE (story_id, chat, thread_id)
  );
  CREATE INDEX outbox_due ON outbox(status, next_attempt_at, id);
  `,
  `
  ALTER TABLE feeds ADD COLUMN next_poll_at INTEGER;
  ALTER TABLE feeds ADD COLUMN fetch_url TEXT;
  ALTER TABLE feeds ADD COLUMN failing_since INTEGER;
  ALTER TABLE feeds ADD COLUMN failure_reported_at INTEGER;
  `,
  `
  ALTER TABLE items ADD COLUMN content_hash TEXT;
  ALTER TABLE items ADD COLUMN updated_at INTEGER;
  ALTER TABLE stories ADD COLUMN breaking_at INTEGER;
  CREATE TABLE story_reports (
    id INTEGER PRIMARY KEY,
    story_id INTEGER NOT NULL REFERENCES stories(id) ON DELETE CASCADE,
    at INTEGER NOT NULL,
    source TEXT NOT NULL,
    link TEXT,
    title TEXT NOT NULL,
    language TEXT,
    signature BLOB NOT NULL,
    bands INTEGER NOT NULL,
    term_hashes BLOB NOT NULL,
    entities TEXT NOT NULL,
    numbers TEXT NOT NULL
  );
  CREATE INDEX story_reports_story ON story_reports(story_id, at, id);
  CREATE INDEX story_reports_at ON story_reports(at);
  CREATE INDEX stories_created ON stories(created_at);
  CREATE INDEX items_seen ON items(first_seen_at);
  CREATE TABLE outbox_v3 (
    id INTEGER PRIMARY KEY,
    story_id INTEGER NOT NULL REFERENCES stories(id) ON DELETE CASCADE,
    kind TEXT NOT NULL DEFAULT 'alert',
    target_id INTEGER,
    chat TEXT NOT NULL,
    thread_id INTEGER NOT NULL DEFAULT 0,
    link_preview INTEGER NOT NULL DEFAULT 0,
    html TEXT NOT NULL,
    text TEXT NOT NULL,
    base_html TEXT,
    base_text TEXT,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    sent_at INTEGER,
    message_id INTEGER,
    last_error TEXT
  );
  INSERT INTO outbox_v3 (id, story_id, kind, chat, thread_id, html, text, base_html, base_text, status, attempts,
                         next_attempt_at, created_at, sent_at, message_id, last_error)
    SELECT id, story_id, 'alert', chat, thread_id, html, text, html, text, status, attempts,
           next_attempt_at, created_at, sent_at, message_id, last_error FROM outbox;
  DROP TABLE outbox;
  ALTER TABLE outbox_v3 RENAME TO outbox;
  CREATE UNIQUE INDEX outbox_alert ON outbox(story_id, chat, thread_id) WHERE kind = 'alert';
  CREATE INDEX outbox_due ON outbox(status, next_attempt_at, id);
  CREATE INDEX outbox_target ON outbox(target_id);
  `,
  `
  CREATE TABLE chats (
    chat TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1,
    muted_until INTEGER,
    digest TEXT NOT NULL DEFAULT 'off',
    last_digest_at INTEGER,
    template TEXT NOT NULL DEFAULT 'full',
    updates TEXT NOT NULL DEFAULT 'edit',
    created_at INTEGER NOT NULL,
    deactivated_at INTEGER,
    deactivated_reason TEXT
  );
  CREATE TABLE chat_watchlists (
    id INTEGER PRIMARY KEY,
    chat TEXT NOT NULL REFERENCES chats(chat) ON DELETE CASCADE,
    preset TEXT,
    query TEXT,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX chat_watchlists_chat ON chat_watchlists(chat, id);
  CREATE TABLE bot_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE digest_items (
    id INTEGER PRIMARY KEY,
    chat TEXT NOT NULL,
    story_id INTEGER NOT NULL REFERENCES stories(id) ON DELETE CASCADE,
    html TEXT NOT NULL,
    text TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    queued_at INTEGER
  );
  CREATE INDEX digest_items_pending ON digest_items(chat, queued_at, id);
  CREATE INDEX digest_items_story ON digest_items(story_id);
  `,
  // reportsAfter reads by id (the primary key) or by time (story_reports_at): no new index.
  `
  ALTER TABLE story_reports ADD COLUMN features TEXT NOT NULL DEFAULT '[]';
  ALTER TABLE outbox ADD COLUMN source TEXT;
  ALTER TABLE outbox ADD COLUMN language TEXT;
  CREATE TABLE locks (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at INTEGER NOT NULL
  );
  `,
  // Feeds are claimed for a poll (several processes on one database poll each feed once a round).
  `
  ALTER TABLE feeds ADD COLUMN lease_holder TEXT;
  ALTER TABLE feeds ADD COLUMN lease_until INTEGER;
  ALTER TABLE feeds ADD COLUMN polled_at INTEGER;
  `,
  // Chats speak a language, take some languages, keep quiet hours, live in a topic, and move
  // (group → supergroup); items keep what /why needs.
  `
  ALTER TABLE chats ADD COLUMN thread_id INTEGER;
  ALTER TABLE chats ADD COLUMN languages TEXT;
  ALTER TABLE chats ADD COLUMN quiet TEXT;
  ALTER TABLE chats ADD COLUMN language TEXT;
  ALTER TABLE chats ADD COLUMN app_language TEXT;
  CREATE TABLE chat_moves (
    from_chat TEXT PRIMARY KEY,
    to_chat TEXT NOT NULL,
    moved_at INTEGER NOT NULL
  );
  ALTER TABLE items ADD COLUMN language TEXT;
  ALTER TABLE items ADD COLUMN forms TEXT;
  CREATE INDEX items_link ON items(link);
  CREATE INDEX outbox_story ON outbox(story_id);
  `,
  // WebSub: a feed's subscription to its hub (src/feeds/websub.ts).
  `
  CREATE TABLE websub_subscriptions (
    id TEXT PRIMARY KEY,
    feed_url TEXT NOT NULL,
    topic TEXT NOT NULL,
    hub TEXT NOT NULL,
    secret TEXT NOT NULL,
    state TEXT NOT NULL,
    lease_seconds INTEGER,
    expires_at INTEGER,
    requested_at INTEGER NOT NULL
  );
  CREATE INDEX websub_subscriptions_feed ON websub_subscriptions(feed_url);
  `,
  // Adaptive polling: each feed's chosen interval and why (src/feeds/pace.ts); items by story
  // for the watchlists of breaking stories.
  `
  ALTER TABLE feeds ADD COLUMN poll_interval_ms INTEGER;
  ALTER TABLE feeds ADD COLUMN poll_reason TEXT;
  ALTER TABLE feeds ADD COLUMN ttl_minutes INTEGER;
  ALTER TABLE feeds ADD COLUMN poll_earliest_at INTEGER;
  CREATE INDEX items_story ON items(story_id);
  `,
  // The operator page (src/page/): a feed's own title, how often Telegram answered a message with
  // 429, and messages read by when they were queued and sent.
  `
  ALTER TABLE feeds ADD COLUMN title TEXT;
  ALTER TABLE outbox ADD COLUMN rate_limits INTEGER NOT NULL DEFAULT 0;
  CREATE INDEX outbox_created ON outbox(created_at);
  CREATE INDEX outbox_sent ON outbox(sent_at);
  `,
];

const LOCK_TTL_MS = 30_000;
const LOCK_WAIT_MS = 60_000;
/** How often a waiter tries again, jittered so that waiters do not try in step. */
const LOCK_RETRY_MS = 25;

/** A lock this store holds: one lease in the database, however deeply its holder nests. */
interface Lease {
  name: string;
  depth: number;
  renewal: NodeJS.Timeout;
}



interface OutboxDbRow {
  id: number;
  story_id: number;
  kind: OutboxKind;
  target_status: OutboxStatus | null;
  target_message_id: number | null;
  chat: string;
  thread_id: number;
  link_preview: number;
  html: string;
  text: string;
  attempts: number;
  created_at: number;
}

// better-sqlite3 is synchronous; the methods are async so that errors reach callers as rejections,
// as the Store contract promises.
/* eslint-disable @typescript-eslint/require-await */
export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();
  /** who this store is in the locks table: unique per process and per store */
  private readonly holder = `${process.pid}-${randomBytes(6).toString('hex')}`;
  private readonly leases = new Map<string, Lease>();
  /** per lock name, the end of the last call queued for it in this store */
  private readonly lockQueues = new Map<string, Promise<void>>();
  /** the leases the running code holds, so that a nested withLock knows it already has one */
  private readonly heldHere = new AsyncLocalStorage<ReadonlyMap<string, Lease>>();
  /** roles this store holds: leases renewed until released or closed */
  private readonly roles = new Map<string, NodeJS.Timeout>();

  /** A prepared statement, prepared once per SQL text: preparing costs more than most runs. */
  private sql(text: string): Database.Statement {
    let statement = this.statements.get(text);
    if (!statement) {
      statement = this.db.prepare(text);
      this.statements.set(text, statement);
    }
    return statement;
  }

  /** Opens (creating if needed) the database at `file`, or an in-memory one for ":memory:". */
  constructor(file: string) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    // First, so that opening beside another process waits for its locks instead of failing.
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    this.migrate();
    LIVE_HOLDERS.add(this.holder);
  }

  /**
   * Brings the schema up to date in one write transaction, reading the version inside it: two
   * processes opening a new database at once (`once` beside `run`) migrate it once, not twice.
   */
  private migrate(): void {
    this.db
      .transaction(() => {
        const current = this.db.pragma('user_version', { simple: true }) as number;
        if (current > MIGRATIONS.length) {
          throw new Error(`database schema version ${current} is newer than this steppewatch (${MIGRATIONS.length}); upgrade steppewatch`);
        }
        MIGRATIONS.slice(current).forEach((sql, i) => {
          this.db.exec(sql);
          this.db.pragma(`user_version = ${current + i + 1}`);
        });
        // A write even when there is nothing to migrate: a read-only file is refused here, at
        // open, not by the first cycle after the worker said it started.
        if (current === MIGRATIONS.length) this.db.pragma(`user_version = ${current}`);
      })
      .immediate();
  }

  async getFeedState(url: string): Promise<FeedState | null> {
    const row = this.sql('SELECT * FROM feeds WHERE url = ?').get(url) as FeedRow | undefined;
    return row ? feedState(row) : null;
  }

  async feedStates(): Promise<FeedState[]> {
    return (this.sql('SELECT * FROM feeds ORDER BY url').all() as FeedRow[]).map(feedState);
  }

  async chatCounts(): Promise<{ active: number; inactive: number }> {
    const row = this.sql('SELECT COALESCE(SUM(active), 0) AS active, COUNT(*) - COALESCE(SUM(active), 0) AS inactive FROM chats').get() as {
      active: number;
      inactive: number;
    };
    return row;
  }

  async recordFeedFailure(url: string, error: string, at: number, nextPollAt: number): Promise<void> {
    this
      .sql(
        `INSERT INTO feeds (url, last_error, last_error_at, consecutive_failures, next_poll_at, failing_since)
         VALUES (?, ?, ?, 1, ?, ?)
         ON CONFLICT(url) DO UPDATE SET last_error = excluded.last_error, last_error_at = excluded.last_error_at,
           consecutive_failures = feeds.consecutive_failures + 1, next_poll_at = excluded.next_poll_at,
           failing_since = COALESCE(feeds.failing_since, excluded.failing_since)`,
      )
      .run(url, error, at, nextPollAt, at);
  }

  async recordFeedUnchanged(url: string, at: number): Promise<void> {
    this.sql(`UPDATE feeds SET last_success_at = ?, ${FEED_HEALTHY} WHERE url = ?`).run(at, url);
  }

  async recordFeedPace(url: string, pace: FeedPace): Promise<void> {
    this
      .sql('UPDATE feeds SET poll_interval_ms = ?, poll_reason = ?, next_poll_at = ?, poll_earliest_at = ?, ttl_minutes = ? WHERE url = ?')
      .run(pace.intervalMs, pace.reason, pace.nextPollAt, pace.earliestAt, pace.ttlMinutes, url);
  }

  async feedActivity(url: string, since: number, limit: number): Promise<FeedActivity> {
    const times = this
      .sql(
        `SELECT MIN(COALESCE(published_at, first_seen_at), first_seen_at) AS t FROM items WHERE feed_url = ? ORDER BY t DESC LIMIT ?`,
      )
      .pluck()
      .all(url, limit) as number[];
    const watchlists = this
      .sql(`SELECT DISTINCT j.value FROM items i, json_each(i.watchlists) j WHERE i.feed_url = ? AND i.first_seen_at >= ? AND i.watchlists <> '[]'`)
      .pluck()
      .all(url, since) as string[];
    return { times, watchlists };
  }

  async breakingWatchlists(since: number): Promise<Set<string>> {
    const names = this
      .sql(`SELECT DISTINCT j.value FROM stories s JOIN items i ON i.story_id = s.id, json_each(i.watchlists) j WHERE s.breaking_at >= ?`)
      .pluck()
      .all(since) as string[];
    return new Set(names);
  }

  async setFeedFetchUrl(url: string, fetchUrl: string | null): Promise<void> {
    this
      .sql('INSERT INTO feeds (url, fetch_url) VALUES (?, ?) ON CONFLICT(url) DO UPDATE SET fetch_url = excluded.fetch_url')
      .run(url, fetchUrl);
  }

  async markFeedFailureReported(url: string, at: number): Promise<void> {
    this.sql('UPDATE feeds SET failure_reported_at = ? WHERE url = ?').run(at, url);
  }

  async itemHashes(feedUrl: string, keys: string[]): Promise<Map<string, string | null>> {
    const lookup = this.sql('SELECT content_hash FROM items WHERE feed_url = ? AND item_key = ?');
    const hashes = new Map<string, string | null>();
    for (const key of keys) {
      const row = lookup.get(feedUrl, key) as { content_hash: string | null } | undefined;
      if (row) hashes.set(key, row.content_hash);
    }
    return hashes;
  }

  async recordItemUpdate(feedUrl: string, key: string, contentHash: string, at: number): Promise<void> {
    this.sql('UPDATE items SET content_hash = ?, updated_at = ? WHERE feed_url = ? AND item_key = ?').run(contentHash, at, feedUrl, key);
  }

  async findStory(keys: string[], since: number): Promise<StoryMatch | null> {
    if (keys.length === 0) return null;
    const row = this
      .sql(
        `SELECT s.id FROM story_keys k JOIN stories s ON s.id = k.story_id
         WHERE k.key IN (${keys.map(() => '?').join(',')}) AND s.created_at >= ?
         ORDER BY s.created_at DESC LIMIT 1`,
      )
      .get(...keys, since) as { id: number } | undefined;
    return row ? this.getStory(row.id) : null;
  }

  async getStory(id: number): Promise<StoryMatch | null> {
    const story = this.sql('SELECT id, title, breaking_at FROM stories WHERE id = ?').get(id) as { id: number; title: string; breaking_at: number | null } | undefined;
    if (!story) return null;
    const alerts = (
      this
        .sql(
          `SELECT a.id, a.chat, a.thread_id, a.link_preview, a.status, a.base_html, a.base_text, a.html, a.text, a.source, a.language,
             (SELECT e.id FROM outbox e WHERE e.target_id = a.id AND e.kind = 'edit' AND e.status = 'pending' ORDER BY e.id DESC LIMIT 1) AS pending_edit
           FROM outbox a WHERE a.story_id = ? AND a.kind = 'alert' ORDER BY a.id`,
        )
        .all(id) as Array<{
        id: number;
        chat: string;
        thread_id: number;
        link_preview: number;
        status: OutboxStatus;
        base_html: string | null;
        base_text: string | null;
        html: string;
        text: string;
        pending_edit: number | null;
        source: string | null;
        language: string | null;
      }>
    ).map(
      (a): StoryAlert => ({
        outboxId: a.id,
        chat: a.chat,
        threadId: a.thread_id === 0 ? null : a.thread_id,
        status: a.status,
        baseHtml: a.base_html ?? a.html,
        baseText: a.base_text ?? a.text,
        pendingEditId: a.pending_edit,
        linkPreview: a.link_preview === 1,
        source: a.source,
        language: a.language,
      }),
    );
    const reports = (
      // The first report (the alert's) and the newest ones: a story that has gathered thousands of
      // reports must not cost thousands of rows each time it gathers one more.
      this
        .sql(
          `SELECT at, source, link, language, entities, numbers FROM (
             SELECT id, at, source, link, language, entities, numbers FROM story_reports WHERE story_id = @id
             AND id NOT IN (SELECT id FROM story_reports WHERE story_id = @id ORDER BY at, id LIMIT 1)
             ORDER BY at DESC, id DESC LIMIT ${STORY_REPORTS_READ}
           )
           UNION ALL
           SELECT at, source, link, language, entities, numbers FROM (SELECT at, source, link, language, entities, numbers, id FROM story_reports WHERE story_id = @id ORDER BY at, id LIMIT 1)
           ORDER BY at`,
        )
        .all({ id }) as Array<{
        at: number;
        source: string;
        link: string | null;
        language: string | null;
        entities: string;
        numbers: string;
      }>
    ).map((r): KnownReport => ({ at: r.at, source: r.source, link: r.link, language: r.language, entities: JSON.parse(r.entities) as string[], numbers: JSON.parse(r.numbers) as string[] }));
    // A chat that takes digests has the story once it is collected for its digest (in its topic, if it has one).
    const digested = (this.sql('SELECT DISTINCT d.chat, c.thread_id FROM digest_items d LEFT JOIN chats c ON c.chat = d.chat WHERE d.story_id = ?').all(id) as Array<{ chat: string; thread_id: number | null }>).map((r) =>
      destinationKey(r.chat, r.thread_id === 0 ? null : r.thread_id),
    );
    return {
      id: story.id,
      title: story.title,
      destinations: new Set([...alerts.map((a) => destinationKey(a.chat, a.threadId)), ...digested]),
      alerts,
      reports,
      breakingAt: story.breaking_at,
    };
  }

  async reportsAfter(afterId: number, since: number, limit: number): Promise<StoredReportRow[]> {
    // The same rows either way, read by the narrower bound: catching up walks the id key from
    // `afterId`; a first read of a recent window in a long history walks story_reports_at instead
    // of every older report (ids follow time closely enough to tell which is narrower).
    const firstInWindow = this.sql('SELECT id FROM story_reports WHERE at >= ? ORDER BY at, id LIMIT 1').pluck().get(since) as number | undefined;
    if (firstInWindow === undefined) return [];
    const by = firstInWindow - afterId > limit ? 'INDEXED BY story_reports_at' : 'NOT INDEXED';
    const rows = this
      .sql(
        `SELECT id, story_id, at, language, signature, bands, term_hashes, entities, numbers, features FROM story_reports ${by}
         WHERE id > ? AND at >= ? ORDER BY id LIMIT ?`,
      )
      .all(afterId, since, limit) as Array<{
      id: number;
      story_id: number;
      at: number;
      language: string | null;
      signature: Buffer;
      bands: number;
      term_hashes: Buffer;
      entities: string;
      numbers: string;
      features: string;
    }>;
    return rows.map((row) => ({
      id: row.id,
      storyId: row.story_id,
      at: row.at,
      language: row.language,
      signature: uint32s(row.signature),
      bands: row.bands >>> 0,
      termHashes: uint32s(row.term_hashes),
      entities: JSON.parse(row.entities) as string[],
      numbers: JSON.parse(row.numbers) as string[],
      features: JSON.parse(row.features) as string[],
    }));
  }

  async claimFeeds(claim: FeedClaim): Promise<string[]> {
    // One write transaction: SQLite has one writer at a time, so two processes never claim one feed.
    return this.db
      .transaction(() => {
        const urls = JSON.stringify(claim.urls);
        this.sql('INSERT INTO feeds (url) SELECT value FROM json_each(?) WHERE true ON CONFLICT(url) DO NOTHING').run(urls);
        const due = this
          .sql(
            `SELECT f.url FROM json_each(?) AS j JOIN feeds f ON f.url = j.value
             WHERE (f.lease_until IS NULL OR f.lease_until < ? OR f.lease_holder = ?)
               AND (f.polled_at IS NULL OR f.polled_at < ?)
             ORDER BY f.polled_at NULLS FIRST, j.key LIMIT ?`,
          )
          .pluck()
          .all(urls, claim.now, this.holder, claim.polledBefore, claim.limit) as string[];
        const lease = this.sql('UPDATE feeds SET lease_holder = ?, lease_until = ? WHERE url = ?');
        for (const url of due) lease.run(this.holder, claim.now + claim.leaseMs, url);
        return due;
      })
      .immediate();
  }

  async finishFeed(url: string, polledAt: number | null): Promise<void> {
    this.sql('UPDATE feeds SET polled_at = COALESCE(?, polled_at), lease_holder = NULL, lease_until = NULL WHERE url = ?').run(polledAt, url);
  }

  async tryRole(name: string): Promise<boolean> {
    if (this.roles.has(name)) return true;
    // A role and a lock of one name exclude each other: a lock held by this store's own code waits its turn.
    if (this.leases.has(name)) return false;
    if (!this.claim(name, LOCK_TTL_MS) && !(this.releaseIfHolderGone(name) && this.claim(name, LOCK_TTL_MS))) return false;
    const renewal = setInterval(() => {
      if (!this.db.open) return;
      try {
        const renewed = this.sql('UPDATE locks SET expires_at = ? WHERE name = ? AND holder = ?').run(Date.now() + LOCK_TTL_MS, name, this.holder).changes === 1;
        // Lost (the event loop stalled past the lease and another store took it): the role is theirs now.
        if (!renewed) this.dropRole(name);
      } catch {
        // A busy database misses one renewal; the next one tries again.
      }
    }, Math.floor(LOCK_TTL_MS / 3));
    renewal.unref();
    this.roles.set(name, renewal);
    return true;
  }

  async releaseRole(name: string): Promise<void> {
    if (!this.roles.has(name)) return;
    this.dropRole(name);
    if (this.db.open) this.sql('DELETE FROM locks WHERE name = ? AND holder = ?').run(name, this.holder);
  }

  heldRoles(): string[] {
    return [...this.roles.keys()];
  }

  private dropRole(name: string): void {
    clearInterval(this.roles.get(name));
    this.roles.delete(name);
  }

  async withLock<T>(name: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
    // This store holds the role of that name: nobody else can hold the lock.
    if (this.roles.has(name)) return fn();
    const held = this.heldHere.getStore()?.get(name);
    // Called from within its own holder: it has the lock already.
    if (held && this.leases.get(name) === held) return this.nested(held, fn);
    // Calls from this store take turns, so only one at a time asks the database.
    const previous = this.lockQueues.get(name) ?? Promise.resolve();
    let done = (): void => undefined;
    const turn = new Promise<void>((resolve) => (done = resolve));
    this.lockQueues.set(name, turn);
    try {
      await previous;
      const lease = await this.acquire(name, options.ttlMs ?? LOCK_TTL_MS, options.waitMs ?? LOCK_WAIT_MS);
      const inside = new Map(this.heldHere.getStore() ?? []).set(name, lease);
      return await this.heldHere.run(inside, () => this.nested(lease, fn));
    } finally {
      if (this.lockQueues.get(name) === turn) this.lockQueues.delete(name);
      done();
    }
  }

  /** Runs `fn` under `lease`; the last one out releases it. */
  private async nested<T>(lease: Lease, fn: () => Promise<T>): Promise<T> {
    lease.depth++;
    try {
      return await fn();
    } finally {
      if (--lease.depth === 0) this.release(lease);
    }
  }

  /** Takes the lease on `name`, trying again until `waitMs` has passed. */
  private async acquire(name: string, ttlMs: number, waitMs: number): Promise<Lease> {
    const deadline = Date.now() + waitMs;
    while (!this.claim(name, ttlMs)) {
      // A holder that died (kill -9, a crash) needs no waiting out its lease: on this machine we can tell.
      if (this.releaseIfHolderGone(name)) continue;
      if (Date.now() >= deadline) {
        const holder = this.sql('SELECT holder FROM locks WHERE name = ?').pluck().get(name) as string | undefined;
        throw new StoreBusyError(name, holder ?? null);
      }
      await sleep(LOCK_RETRY_MS * (0.5 + Math.random()));
    }
    const lease: Lease = { name, depth: 0, renewal: setInterval(() => this.renew(lease, ttlMs), Math.max(1, Math.floor(ttlMs / 3))) };
    // A lease must not keep the process alive; a holder that stops renewing loses it.
    lease.renewal.unref();
    this.leases.set(name, lease);
    return lease;
  }

  /**
   * Frees `name` when its holder's process is gone. A SQLite file is on this machine, so every
   * holder's pid is too: a pid that is not running, or ours under another holder id that no store
   * of this process has (a restart that got the dead process's pid, as in a container), is gone.
   */
  private releaseIfHolderGone(name: string): boolean {
    const holder = this.sql('SELECT holder FROM locks WHERE name = ?').pluck().get(name) as string | undefined;
    if (holder === undefined) return false;
    const pid = Number(holder.split('-')[0]);
    if (!Number.isInteger(pid) || pid <= 0) return false;
    const gone = pid === process.pid ? !LIVE_HOLDERS.has(holder) : !processAlive(pid);
    return gone && this.sql('DELETE FROM locks WHERE name = ? AND holder = ?').run(name, holder).changes === 1;
  }

  /** One statement, so that two processes cannot both win: free, expired, or already ours. */
  private claim(name: string, ttlMs: number): boolean {
    const now = Date.now();
    return (
      this
        .sql(
          `INSERT INTO locks (name, holder, expires_at) VALUES (?, ?, ?)
           ON CONFLICT(name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
           WHERE locks.expires_at < ? OR locks.holder = excluded.holder`,
        )
        .run(name, this.holder, now + ttlMs, now).changes === 1
    );
  }

  private renew(lease: Lease, ttlMs: number): void {
    if (!this.db.open) return;
    try {
      const renewed = this.sql('UPDATE locks SET expires_at = ? WHERE name = ? AND holder = ?').run(Date.now() + ttlMs, lease.name, this.holder).changes === 1;
      // Lost (the event loop stalled past the lease): take it back unless another holder has.
      if (!renewed) this.claim(lease.name, ttlMs);
    } catch {
      // A busy database misses one renewal; the next one, ttl/3 later, tries again.
    }
  }

  private release(lease: Lease): void {
    clearInterval(lease.renewal);
    if (this.leases.get(lease.name) === lease) this.leases.delete(lease.name);
    if (this.db.open) this.sql('DELETE FROM locks WHERE name = ? AND holder = ?').run(lease.name, this.holder);
  }

  async prune(before: number): Promise<{ items: number; stories: number }> {
    const pruned = this.db.transaction(() => {
      // A story with a message still to send (or an alert an edit may still target) is kept.
      const stories = this
        .sql(
          `DELETE FROM stories WHERE created_at < ?
             AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.story_id = stories.id AND o.status = 'pending')`,
        )
        .run(before).changes;
      this.sql('DELETE FROM story_keys WHERE created_at < ? AND story_id NOT IN (SELECT id FROM stories)').run(before);
      this.sql('DELETE FROM story_reports WHERE at < ?').run(before);
      const items = this.sql('DELETE FROM items WHERE first_seen_at < ?').run(before).changes;
      return { items, stories };
    })();
    return pruned;
  }

  async commitFeedBatch(batch: FeedBatch): Promise<void> {
    const insertStory = this.sql('INSERT INTO stories (created_at, title, link) VALUES (?, ?, ?)');
    const insertKey = this.sql('INSERT OR IGNORE INTO story_keys (key, story_id, created_at) VALUES (?, ?, ?)');
    const insertItem = this.sql(
      `INSERT INTO items (feed_url, item_key, title, link, published_at, first_seen_at, decision, watchlists, story_id, content_hash, language, forms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(feed_url, item_key) DO NOTHING`,
    );
    const insertOutbox = this.sql(
      `INSERT OR IGNORE INTO outbox (story_id, kind, target_id, chat, thread_id, link_preview, html, text, base_html, base_text, source, language, next_attempt_at, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const insertReport = this.sql(
      `INSERT INTO story_reports (story_id, at, source, link, title, language, signature, bands, term_hashes, entities, numbers, features)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const rewriteOutbox = this.sql(`UPDATE outbox SET html = ?, text = ? WHERE id = ? AND status = 'pending'`);
    const reviseAlert = this.sql(`UPDATE outbox SET base_html = ?, base_text = ?, source = ?, language = ? WHERE id = ? AND status = 'pending'`);
    const markBreaking = this.sql('UPDATE stories SET breaking_at = COALESCE(breaking_at, ?) WHERE id = ?');
    const insertDigestItem = this.sql('INSERT INTO digest_items (chat, story_id, html, text, created_at) VALUES (?, ?, ?, ?, ?)');
    const upsertFeed = this.sql(
      `INSERT INTO feeds (url, etag, last_modified, first_polled_at, last_success_at, consecutive_failures, title)
       VALUES (?, ?, ?, ?, ?, 0, ?)
       ON CONFLICT(url) DO UPDATE SET etag = excluded.etag, last_modified = excluded.last_modified,
         first_polled_at = COALESCE(feeds.first_polled_at, excluded.first_polled_at), title = COALESCE(excluded.title, feeds.title),
         last_success_at = excluded.last_success_at, ${FEED_HEALTHY}`,
    );

    this.db.transaction(() => {
      const newIds = batch.newStories.map((story) => {
        const id = Number(insertStory.run(batch.at, story.title, story.link).lastInsertRowid);
        for (const key of story.keys) insertKey.run(key, id, batch.at);
        return id;
      });
      const resolve = (ref: StoryRef | null): number | null => {
        if (ref === null) return null;
        if ('id' in ref) return ref.id;
        const id = newIds[ref.newIndex];
        if (id === undefined) throw new Error(`batch refers to new story ${ref.newIndex}, which it does not create`);
        return id;
      };
      for (const { storyId, key } of batch.storyKeys) insertKey.run(key, storyId, batch.at);
      for (const item of batch.items) {
        insertItem.run(
          batch.feedUrl,
          item.key,
          item.title,
          item.link,
          item.publishedAt,
          batch.at,
          item.decision,
          JSON.stringify(item.watchlists),
          resolve(item.story),
          item.contentHash,
          item.language ?? null,
          item.forms && item.forms.length > 0 ? JSON.stringify(item.forms) : null,
        );
      }
      for (const report of batch.reports) {
        insertReport.run(
          resolve(report.story) ?? 0,
          report.at,
          report.source,
          report.link,
          report.title,
          report.language,
          bytesOf(report.signature),
          report.bands,
          bytesOf(report.termHashes),
          JSON.stringify(report.entities),
          JSON.stringify(report.numbers),
          JSON.stringify(report.features),
        );
      }
      for (const message of batch.outbox) {
        const base = message.kind === 'alert' ? [message.html, message.text] : [null, null];
        insertOutbox.run(
          resolve(message.story),
          message.kind,
          message.targetId,
          message.chat,
          message.threadId ?? 0,
          message.linkPreview ? 1 : 0,
          message.html,
          message.text,
          ...base,
          message.origin?.source ?? null,
          message.origin?.language ?? null,
          batch.at,
          batch.at,
        );
      }
      for (const rewrite of batch.outboxRewrites) {
        rewriteOutbox.run(rewrite.html, rewrite.text, rewrite.id);
        if (rewrite.base && rewrite.origin) reviseAlert.run(rewrite.base.html, rewrite.base.text, rewrite.origin.source, rewrite.origin.language, rewrite.id);
      }
      for (const ref of batch.breaking) markBreaking.run(batch.at, resolve(ref));
      for (const item of batch.digestItems) insertDigestItem.run(item.chat, resolve(item.story), item.html, item.text, batch.at);
      upsertFeed.run(batch.feedUrl, batch.fetch.etag, batch.fetch.lastModified, batch.at, batch.at, batch.feedTitle ?? null);
    })();
  }

  async dueOutbox(now: number, limit: number): Promise<OutboxRow[]> {
    const rows = this
      .sql(
        `SELECT o.*, t.status AS target_status, t.message_id AS target_message_id
         FROM outbox o LEFT JOIN outbox t ON t.id = o.target_id
         WHERE o.status = 'pending' AND o.next_attempt_at <= ? ORDER BY o.id LIMIT ?`,
      )
      .all(now, limit) as OutboxDbRow[];
    return rows.map((row) => ({
        id: row.id,
        storyId: row.story_id,
        kind: row.kind,
        target: row.target_status === null ? null : { status: row.target_status, messageId: row.target_message_id },
        chat: row.chat,
        threadId: row.thread_id === 0 ? null : row.thread_id,
        linkPreview: row.link_preview === 1,
        html: row.html,
        text: row.text,
        attempts: row.attempts,
        createdAt: row.created_at,
      }));
  }

  async nextOutboxDue(): Promise<number | null> {
    const next = this.sql(`SELECT MIN(next_attempt_at) FROM outbox WHERE status = 'pending'`).pluck().get() as
      | number
      | null;
    return next ?? null;
  }

  async markSent(id: number, messageId: number | null, at: number): Promise<void> {
    this
      .sql(`UPDATE outbox SET status = 'sent', sent_at = ?, message_id = ?, attempts = attempts + 1, last_error = NULL WHERE id = ?`)
      .run(at, messageId, id);
  }

  async markRetry(id: number, error: string, nextAttemptAt: number, rateLimited = false): Promise<void> {
    this
      .sql('UPDATE outbox SET attempts = attempts + 1, rate_limits = rate_limits + ?, last_error = ?, next_attempt_at = ? WHERE id = ?')
      .run(rateLimited ? 1 : 0, error, nextAttemptAt, id);
  }

  async markFailed(id: number, error: string, at: number): Promise<void> {
    this
      .sql(`UPDATE outbox SET status = 'failed', attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE id = ?`)
      .run(error, at, id);
  }

  async outboxCounts(): Promise<Record<OutboxStatus, number>> {
    const counts: Record<OutboxStatus, number> = { pending: 0, sent: 0, failed: 0 };
    const rows = this.sql('SELECT status, COUNT(*) AS n FROM outbox GROUP BY status').all() as Array<{
      status: OutboxStatus;
      n: number;
    }>;
    for (const row of rows) counts[row.status] = row.n;
    return counts;
  }

  async feedItemCounts(since: number): Promise<Map<string, number>> {
    return feedItemCountsOf(this.sql(feedItemCountsSql('?')).all(since));
  }

  async sentAlerts(since: number): Promise<SentAlerts> {
    return this.db.transaction(() => sentAlertsOf(this.sql(sentAlertsSql('?')).all(since), this.sql(sentStoryWatchlistsSql('?')).all(since)))();
  }

  async deliveryCounts(since: number): Promise<DeliveryCounts> {
    return deliveryCountsOf(this.sql(deliveryCountsSql('?')).get(since));
  }

  async latestStories(limit: number, before: StoryCursor = NEWEST): Promise<StoryOverview[]> {
    const stories = this.sql(latestStoriesSql('@at', '@id', '@limit')).all({ at: before.createdAt, id: before.id, limit });
    const ids = JSON.stringify(storyIdsOf(stories));
    const list = '(SELECT value FROM json_each(?))';
    return storyOverviewsOf(stories, this.sql(storyReportsSql(list)).all(ids), this.sql(storyMessagesSql(list)).all(ids), this.sql(storyDigestsSql(list)).all(ids));
  }

  async upsertChat(chat: string, kind: ChatRecord['kind'], at: number): Promise<ChatRecord> {
    this
      .sql(
        `INSERT INTO chats (chat, kind, created_at) VALUES (?, ?, ?)
         ON CONFLICT(chat) DO UPDATE SET kind = excluded.kind, active = 1, deactivated_at = NULL, deactivated_reason = NULL`,
      )
      .run(chat, kind, at);
    return (await this.getChat(chat)) as ChatRecord;
  }

  async getChat(chat: string): Promise<ChatRecord | null> {
    const row = this.sql(`SELECT ${CHAT_COLUMNS} FROM chats WHERE chat = ?`).get(chat) as ChatRow | undefined;
    return row ? chatRecordOf(row) : null;
  }

  async chatSettings(): Promise<Map<string, ChatSettings>> {
    const rows = this.sql(`SELECT ${CHAT_COLUMNS} FROM chats WHERE active = 1`).all() as ChatRow[];
    return new Map(rows.map((row) => [row.chat, chatSettingsOf(row)]));
  }

  async setChatSettings(chat: string, settings: ChatSettingsChange): Promise<void> {
    const columns = chatSettingsColumns(settings);
    if (columns.length === 0) return;
    // Column names come from chatSettingsColumns' fixed list, never from input.
    this.sql(`UPDATE chats SET ${columns.map(([name]) => `${name} = ?`).join(', ')} WHERE chat = ?`).run(...columns.map(([, value]) => value), chat);
  }

  async moveChat(from: string, to: string, at: number): Promise<void> {
    if (from === to) return;
    this.db.transaction(() => {
      this.sql(
        `INSERT INTO chats (chat, kind, active, muted_until, digest, last_digest_at, template, updates, created_at, thread_id, languages, quiet, language, app_language)
         SELECT ?, 'supergroup', 1, muted_until, digest, last_digest_at, template, updates, created_at, thread_id, languages, quiet, language, app_language
         FROM chats WHERE chat = ?
         ON CONFLICT(chat) DO NOTHING`,
      ).run(to, from);
      this.sql('UPDATE chat_watchlists SET chat = ? WHERE chat = ?').run(to, from);
      this.sql('UPDATE digest_items SET chat = ? WHERE chat = ?').run(to, from);
      // Every row moves, sent ones too: the story stays known as delivered there. A row the new id
      // already has (its own alert of the story) stays behind, and a pending one of those is dropped.
      this.sql('UPDATE OR IGNORE outbox SET chat = ? WHERE chat = ?').run(to, from);
      this.sql(`UPDATE outbox SET status = 'failed', last_error = ? WHERE chat = ? AND status = 'pending'`).run(`the chat moved to ${to}`, from);
      this.sql('UPDATE chats SET active = 0, deactivated_at = ?, deactivated_reason = ? WHERE chat = ?').run(at, `moved to ${to}`, from);
      this.sql('UPDATE chat_moves SET to_chat = ? WHERE to_chat = ?').run(to, from);
      this.sql('DELETE FROM chat_moves WHERE from_chat = ?').run(to);
      this.sql('INSERT INTO chat_moves (from_chat, to_chat, moved_at) VALUES (?, ?, ?) ON CONFLICT(from_chat) DO UPDATE SET to_chat = excluded.to_chat, moved_at = excluded.moved_at').run(from, to, at);
    })();
  }

  async chatMoves(): Promise<Map<string, string>> {
    const rows = this.sql('SELECT from_chat, to_chat FROM chat_moves').all() as Array<{ from_chat: string; to_chat: string }>;
    return new Map(rows.map((r) => [r.from_chat, r.to_chat]));
  }

  async traceLinks(links: string[]): Promise<ItemTrace[]> {
    if (links.length === 0) return [];
    const rows = this.sql(`${TRACE_SELECT} WHERE i.link IN (${links.map(() => '?').join(', ')}) ORDER BY i.first_seen_at DESC, i.feed_url, i.item_key LIMIT 5`).all(...links) as TraceRow[];
    return rows.map((row) => {
      const deliveries = row.story_id === null ? [] : (this.sql(traceDeliveriesSql('?')).all(row.story_id) as DeliveryRow[]);
      const digests = row.story_id === null ? [] : (this.sql(traceDigestsSql('?')).all(row.story_id) as DigestRow[]);
      return traceOf(row, deliveries, digests);
    });
  }

  async setDigest(chat: string, period: DigestPeriod, now: number): Promise<void> {
    this.sql('UPDATE chats SET digest = ?, last_digest_at = COALESCE(last_digest_at, ?) WHERE chat = ?').run(period, now, chat);
  }

  async dueDigests(now: number): Promise<Array<{ chat: string; items: DigestItem[] }>> {
    const chats = this
      .sql(
        `SELECT chat FROM chats WHERE active = 1 AND (digest = 'off' OR
           (digest = 'hourly' AND COALESCE(last_digest_at, 0) <= ?) OR (digest = 'daily' AND COALESCE(last_digest_at, 0) <= ?))
         AND EXISTS (SELECT 1 FROM digest_items d WHERE d.chat = chats.chat AND d.queued_at IS NULL) ORDER BY chat`,
      )
      .pluck()
      .all(now - 3_600_000, now - 86_400_000) as string[];
    return chats.map((chat) => ({
      chat,
      items: this
        .sql('SELECT id, story_id AS storyId, html, text FROM digest_items WHERE chat = ? AND queued_at IS NULL ORDER BY id')
        .all(chat) as DigestItem[],
    }));
  }

  async queueDigest(chat: string, messages: Array<{ storyId: number; html: string; text: string }>, itemIds: number[], now: number): Promise<void> {
    const insert = this.sql(
      `INSERT INTO outbox (story_id, kind, target_id, chat, thread_id, link_preview, html, text, base_html, base_text, next_attempt_at, created_at)
       VALUES (?, 'digest', NULL, ?, COALESCE((SELECT thread_id FROM chats WHERE chat = ?), 0), 0, ?, ?, NULL, NULL, ?, ?)`,
    );
    const mark = this.sql('UPDATE digest_items SET queued_at = ? WHERE id = ?');
    this.db.transaction(() => {
      for (const message of messages) insert.run(message.storyId, chat, chat, message.html, message.text, now, now);
      for (const id of itemIds) mark.run(now, id);
      this.sql('UPDATE chats SET last_digest_at = ? WHERE chat = ?').run(now, chat);
    })();
  }

  async addChatWatchlist(chat: string, watchlist: { preset: string } | { query: string }, at: number): Promise<ChatWatchlist> {
    const preset = 'preset' in watchlist ? watchlist.preset : null;
    const query = 'query' in watchlist ? watchlist.query : null;
    const id = Number(this.sql('INSERT INTO chat_watchlists (chat, preset, query, created_at) VALUES (?, ?, ?, ?)').run(chat, preset, query, at).lastInsertRowid);
    return { id, chat, preset, query };
  }

  async removeChatWatchlist(chat: string, id: number): Promise<boolean> {
    return this.sql('DELETE FROM chat_watchlists WHERE chat = ? AND id = ?').run(chat, id).changes > 0;
  }

  async chatWatchlists(chat: string): Promise<ChatWatchlist[]> {
    return this.sql('SELECT id, chat, preset, query FROM chat_watchlists WHERE chat = ? ORDER BY id').all(chat) as ChatWatchlist[];
  }

  async activeWatchlists(now: number): Promise<ChatWatchlist[]> {
    return this
      .sql(
        `SELECT w.id, w.chat, w.preset, w.query FROM chat_watchlists w JOIN chats c ON c.chat = w.chat
         WHERE c.active = 1 AND (c.muted_until IS NULL OR c.muted_until <= ?) ORDER BY w.id`,
      )
      .all(now) as ChatWatchlist[];
  }

  async setMutedUntil(chat: string, until: number | null): Promise<void> {
    this.sql('UPDATE chats SET muted_until = ? WHERE chat = ?').run(until, chat);
  }

  async deactivateChat(chat: string, reason: string, at: number): Promise<void> {
    this.sql('UPDATE chats SET active = 0, deactivated_at = ?, deactivated_reason = ? WHERE chat = ?').run(at, reason, chat);
  }

  async getBotOffset(): Promise<number> {
    const value = this.sql(`SELECT value FROM bot_state WHERE key = 'offset'`).pluck().get() as string | undefined;
    return value === undefined ? 0 : Number(value);
  }

  async setBotOffset(offset: number): Promise<void> {
    this.sql(`INSERT INTO bot_state (key, value) VALUES ('offset', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`).run(String(offset));
  }

  async saveWebsubSubscription(subscription: WebsubSubscription): Promise<void> {
    this.sql(`INSERT OR REPLACE INTO websub_subscriptions (${WEBSUB_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(...websubValues(subscription));
  }

  async websubSubscription(id: string): Promise<WebsubSubscription | null> {
    const row = this.sql(`SELECT ${WEBSUB_COLUMNS} FROM websub_subscriptions WHERE id = ?`).get(id) as WebsubRow | undefined;
    return row ? websubOf(row) : null;
  }

  async websubSubscriptions(): Promise<WebsubSubscription[]> {
    return (this.sql(`SELECT ${WEBSUB_COLUMNS} FROM websub_subscriptions ORDER BY requested_at, id`).all() as WebsubRow[]).map(websubOf);
  }

  async deleteWebsubSubscription(id: string): Promise<void> {
    this.sql('DELETE FROM websub_subscriptions WHERE id = ?').run(id);
  }

  async ping(): Promise<void> {
    // Throws once closed, or when the database can no longer be read.
    this.sql('SELECT 1 FROM feeds LIMIT 1').get();
  }

  async close(): Promise<void> {
    // Leases still held are not released: they go as a crashed holder's do.
    for (const lease of this.leases.values()) clearInterval(lease.renewal);
    // Roles are given back: another process may take them at once.
    for (const name of this.heldRoles()) await this.releaseRole(name);
    LIVE_HOLDERS.delete(this.holder);
    if (this.db.open) this.db.close();
  }
}

/** The holder ids of this process's open stores (see releaseIfHolderGone). */
const LIVE_HOLDERS = new Set<string>();

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

