// The shared store: PostgreSQL through `pg`, for several workers on one database. Behaves as the
// SQLite store does (its SQL is the reference); locks and roles are session advisory locks.

import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';
import type { ClientConfig, PoolClient, QueryResultRow } from 'pg';
import {
  destinationKey,
  StoreBusyError,
  type ChatRecord,
  type ChatSettings,
  type ChatSettingsChange,
  type ChatWatchlist,
  type DigestItem,
  type DigestPeriod,
  type FeedBatch,
  type FeedClaim,
  type FeedState,
  type FeedActivity,
  type FeedPace,
  type ItemTrace,
  type KnownReport,
  type LockOptions,
  type OutboxKind,
  type OutboxRow,
  type OutboxStatus,
  type Store,
  type StoredReportRow,
  type StoryAlert,
  type StoryMatch,
  type StoryRef,
} from './store.js';
import {
  bytesOf,
  CHAT_COLUMNS,
  chatRecordOf,
  chatSettingsColumns,
  chatSettingsOf,
  FEED_HEALTHY,
  feedState,
  STORY_REPORTS_READ,
  traceDeliveriesSql,
  traceDigestsSql,
  traceOf,
  TRACE_SELECT,
  uint32s,
  type ChatRow,
  type DeliveryRow,
  type DigestRow,
  type FeedRow,
  type TraceRow,
} from './rows.js';
import { WEBSUB_COLUMNS, websubOf, websubValues, type WebsubRow } from './rows.js';
import type { DeliveryCounts, SentAlerts, StoryCursor, StoryOverview, WebsubSubscription } from './store.js';
import { deliveryCountsOf, deliveryCountsSql, feedItemCountsOf, feedItemCountsSql, latestStoriesSql, NEWEST, sentAlertsOf, sentAlertsSql, sentStoryWatchlistsSql, storyDigestsSql, storyIdsOf, storyMessagesSql, storyOverviewsOf, storyReportsSql } from './overview.js';

/**
 * Each entry moves the schema one version up; never edit one that has shipped, add another.
 * Version 1 is SQLite's schema after all six of its migrations, less its `locks` table (advisory
 * locks take its place), plus the indexes PostgreSQL needs for its foreign keys' cascades.
 */
export const PG_MIGRATIONS: string[] = [
  `
  CREATE TABLE feeds (
    url TEXT PRIMARY KEY,
    etag TEXT,
    last_modified TEXT,
    first_polled_at BIGINT,
    last_success_at BIGINT,
    last_error TEXT,
    last_error_at BIGINT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    next_poll_at BIGINT,
    fetch_url TEXT,
    failing_since BIGINT,
    failure_reported_at BIGINT,
    lease_holder TEXT,
    lease_until BIGINT,
    polled_at BIGINT
  );
  CREATE TABLE stories (
    id BIGSERIAL PRIMARY KEY,
    created_at BIGINT NOT NULL,
    title TEXT NOT NULL,
    link TEXT,
    breaking_at BIGINT
  );
  CREATE INDEX stories_created ON stories(created_at);
  CREATE TABLE story_keys (
    key TEXT NOT NULL,
    story_id BIGINT NOT NULL REFERENCES stories(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (key, story_id)
  );
  CREATE INDEX story_keys_story ON story_keys(story_id);
  CREATE TABLE items (
    feed_url TEXT NOT NULL,
    item_key TEXT NOT NULL,
    title TEXT NOT NULL,
    link TEXT,
    published_at BIGINT,
    first_seen_at BIGINT NOT NULL,
    decision TEXT NOT NULL,
    watchlists TEXT NOT NULL DEFAULT '[]',
    story_id BIGINT REFERENCES stories(id) ON DELETE SET NULL,
    content_hash TEXT,
    updated_at BIGINT,
    PRIMARY KEY (feed_url, item_key)
  );
  CREATE INDEX items_seen ON items(first_seen_at);
  CREATE INDEX items_story ON items(story_id);
  CREATE TABLE story_reports (
    id BIGSERIAL PRIMARY KEY,
    story_id BIGINT NOT NULL REFERENCES stories(id) ON DELETE CASCADE,
    at BIGINT NOT NULL,
    source TEXT NOT NULL,
    link TEXT,
    title TEXT NOT NULL,
    language TEXT,
    signature BYTEA NOT NULL,
    bands BIGINT NOT NULL,
    term_hashes BYTEA NOT NULL,
    entities TEXT NOT NULL,
    numbers TEXT NOT NULL,
    features TEXT NOT NULL DEFAULT '[]'
  );
  CREATE INDEX story_reports_story ON story_reports(story_id, at, id);
  CREATE INDEX story_reports_at ON story_reports(at);
  CREATE TABLE outbox (
    id BIGSERIAL PRIMARY KEY,
    story_id BIGINT NOT NULL REFERENCES stories(id) ON DELETE CASCADE,
    kind TEXT NOT NULL DEFAULT 'alert',
    target_id BIGINT,
    chat TEXT NOT NULL,
    thread_id BIGINT NOT NULL DEFAULT 0,
    link_preview BOOLEAN NOT NULL DEFAULT false,
    html TEXT NOT NULL,
    text TEXT NOT NULL,
    base_html TEXT,
    base_text TEXT,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    sent_at BIGINT,
    message_id BIGINT,
    last_error TEXT,
    source TEXT,
    language TEXT
  );
  CREATE UNIQUE INDEX outbox_alert ON outbox(story_id, chat, thread_id) WHERE kind = 'alert';
  CREATE INDEX outbox_due ON outbox(status, next_attempt_at, id);
  CREATE INDEX outbox_target ON outbox(target_id);
  CREATE INDEX outbox_story ON outbox(story_id);
  CREATE TABLE chats (
    chat TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT true,
    muted_until BIGINT,
    digest TEXT NOT NULL DEFAULT 'off',
    last_digest_at BIGINT,
    template TEXT NOT NULL DEFAULT 'full',
    updates TEXT NOT NULL DEFAULT 'edit',
    created_at BIGINT NOT NULL,
    deactivated_at BIGINT,
    deactivated_reason TEXT
  );
  CREATE TABLE chat_watchlists (
    id BIGSERIAL PRIMARY KEY,
    chat TEXT NOT NULL REFERENCES chats(chat) ON DELETE CASCADE,
    preset TEXT,
    query TEXT,
    created_at BIGINT NOT NULL
  );
  CREATE INDEX chat_watchlists_chat ON chat_watchlists(chat, id);
  CREATE TABLE bot_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE digest_items (
    id BIGSERIAL PRIMARY KEY,
    chat TEXT NOT NULL,
    story_id BIGINT NOT NULL REFERENCES stories(id) ON DELETE CASCADE,
    html TEXT NOT NULL,
    text TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    queued_at BIGINT
  );
  CREATE INDEX digest_items_pending ON digest_items(chat, queued_at, id);
  CREATE INDEX digest_items_story ON digest_items(story_id);
  `,
  // SQLite's seventh: chats speak a language, take some languages, keep quiet hours, live in a
  // topic, and move (group → supergroup); items keep what /why needs. outbox(story_id) is indexed
  // since version 1. thread_id is BIGINT, as outbox.thread_id (queueDigest copies one into the other).
  `
  ALTER TABLE chats ADD COLUMN thread_id BIGINT;
  ALTER TABLE chats ADD COLUMN languages TEXT;
  ALTER TABLE chats ADD COLUMN quiet TEXT;
  ALTER TABLE chats ADD COLUMN language TEXT;
  ALTER TABLE chats ADD COLUMN app_language TEXT;
  CREATE TABLE chat_moves (
    from_chat TEXT PRIMARY KEY,
    to_chat TEXT NOT NULL,
    moved_at BIGINT NOT NULL
  );
  ALTER TABLE items ADD COLUMN language TEXT;
  ALTER TABLE items ADD COLUMN forms TEXT;
  CREATE INDEX items_link ON items(link);
  `,
  // SQLite's eighth: WebSub, a feed's subscription to its hub (src/feeds/websub.ts).
  `
  CREATE TABLE websub_subscriptions (
    id TEXT PRIMARY KEY,
    feed_url TEXT NOT NULL,
    topic TEXT NOT NULL,
    hub TEXT NOT NULL,
    secret TEXT NOT NULL,
    state TEXT NOT NULL,
    lease_seconds BIGINT,
    expires_at BIGINT,
    requested_at BIGINT NOT NULL
  );
  CREATE INDEX websub_subscriptions_feed ON websub_subscriptions(feed_url);
  `,
  // SQLite's ninth: adaptive polling, each feed's chosen interval and why (src/feeds/pace.ts).
  // items(story_id) is indexed since version 1.
  `
  ALTER TABLE feeds ADD COLUMN poll_interval_ms BIGINT;
  ALTER TABLE feeds ADD COLUMN poll_reason TEXT;
  ALTER TABLE feeds ADD COLUMN ttl_minutes BIGINT;
  ALTER TABLE feeds ADD COLUMN poll_earliest_at BIGINT;
  `,
  // SQLite's tenth: the operator page (src/page/), a feed's own title, how often Telegram answered
  // a message with 429, and messages read by when they were queued and sent.
  `
  ALTER TABLE feeds ADD COLUMN title TEXT;
  ALTER TABLE outbox ADD COLUMN rate_limits INTEGER NOT NULL DEFAULT 0;
  CREATE INDEX outbox_created ON outbox(created_at);
  CREATE INDEX outbox_sent ON outbox(sent_at);
  `,
];

/** A schema name this store accepts: it is put in SQL and in a connection option, so nothing else. */
export const SCHEMA_NAME = /^[A-Za-z0-9_]{1,63}$/u;

const LOCK_WAIT_MS = 60_000;
/** A connection attempt that has not succeeded by then fails (pg waits forever by default). */
const CONNECT_TIMEOUT_MS = 10_000;


const FEED_COLUMNS = `url, etag, last_modified, first_polled_at, last_success_at, last_error, consecutive_failures,
  next_poll_at, fetch_url, failing_since, failure_reported_at, poll_interval_ms, poll_reason, poll_earliest_at, ttl_minutes, title`;

/**
 * commitFeedBatch's one statement ($1 at, $2 feed URL, then each table's rows as arrays; a story
 * is given as an id (existing) and an index into ids (new), one of the two null).
 */
const COMMIT_FEED_BATCH = `
  WITH ids AS MATERIALIZED (
    SELECT (row_number() OVER (ORDER BY id) - 1)::int AS idx, id
    FROM (SELECT nextval(pg_get_serial_sequence('stories', 'id')) AS id FROM generate_series(1, cardinality($5::text[]))) g),
  new_stories AS (
    INSERT INTO stories (id, created_at, title, link, breaking_at)
    SELECT ids.id, $1::bigint, u.title, u.link, CASE WHEN u.breaking THEN $1::bigint END
    FROM unnest($5::text[], $6::text[], $7::boolean[]) WITH ORDINALITY AS u(title, link, breaking, ord)
      JOIN ids ON ids.idx = u.ord - 1
    ORDER BY u.ord),
  new_keys AS (
    INSERT INTO story_keys (key, story_id, created_at)
    SELECT u.key, COALESCE(u.story_id, ids.id), $1::bigint
    FROM unnest($8::text[], $9::bigint[], $10::int[]) AS u(key, story_id, new_idx) LEFT JOIN ids ON ids.idx = u.new_idx
    ON CONFLICT DO NOTHING),
  new_items AS (
    INSERT INTO items (feed_url, item_key, title, link, published_at, first_seen_at, decision, watchlists, story_id, content_hash, language, forms)
    SELECT $2::text, u.key, u.title, u.link, u.published_at, $1::bigint, u.decision, u.watchlists, COALESCE(u.story_id, ids.id), u.content_hash,
      u.language, u.forms
    FROM unnest($11::text[], $12::text[], $13::text[], $14::bigint[], $15::text[], $16::text[], $17::bigint[], $18::int[], $19::text[],
                $20::text[], $21::text[])
        WITH ORDINALITY AS u(key, title, link, published_at, decision, watchlists, story_id, new_idx, content_hash, language, forms, ord)
      LEFT JOIN ids ON ids.idx = u.new_idx
    ORDER BY u.ord
    ON CONFLICT (feed_url, item_key) DO NOTHING),
  new_reports AS (
    INSERT INTO story_reports (story_id, at, source, link, title, language, signature, bands, term_hashes, entities, numbers, features)
    SELECT COALESCE(u.story_id, ids.id), u.at, u.source, u.link, u.title, u.language, u.signature, u.bands, u.term_hashes, u.entities, u.numbers, u.features
    FROM unnest($22::bigint[], $23::int[], $24::bigint[], $25::text[], $26::text[], $27::text[], $28::text[], $29::bytea[], $30::bigint[],
                $31::bytea[], $32::text[], $33::text[], $34::text[])
        WITH ORDINALITY AS u(story_id, new_idx, at, source, link, title, language, signature, bands, term_hashes, entities, numbers, features, ord)
      LEFT JOIN ids ON ids.idx = u.new_idx
    ORDER BY u.ord),
  -- A story's alert goes to each destination once: a second one (in this batch or before) is dropped.
  new_outbox AS (
    INSERT INTO outbox (story_id, kind, target_id, chat, thread_id, link_preview, html, text, base_html, base_text, source, language, next_attempt_at, created_at)
    SELECT COALESCE(u.story_id, ids.id), u.kind, u.target_id, u.chat, u.thread_id, u.link_preview, u.html, u.text, u.base_html, u.base_text,
      u.source, u.language, $1::bigint, $1::bigint
    FROM unnest($35::bigint[], $36::int[], $37::text[], $38::bigint[], $39::text[], $40::bigint[], $41::boolean[], $42::text[], $43::text[],
                $44::text[], $45::text[], $46::text[], $47::text[])
        WITH ORDINALITY AS u(story_id, new_idx, kind, target_id, chat, thread_id, link_preview, html, text, base_html, base_text, source, language, ord)
      LEFT JOIN ids ON ids.idx = u.new_idx
    ORDER BY u.ord
    ON CONFLICT (story_id, chat, thread_id) WHERE kind = 'alert' DO NOTHING),
  -- Rows written before this statement (de-duplicated by the caller, the last rewrite of a row
  -- winning). A revised row (an alert re-rendered from another report) also gets its base and
  -- origin; the others keep theirs.
  rewrites AS (
    UPDATE outbox o SET html = u.html, text = u.text,
      base_html = CASE WHEN u.revised THEN u.base_html ELSE o.base_html END,
      base_text = CASE WHEN u.revised THEN u.base_text ELSE o.base_text END,
      source = CASE WHEN u.revised THEN u.source ELSE o.source END,
      language = CASE WHEN u.revised THEN u.language ELSE o.language END
    FROM unnest($48::bigint[], $49::text[], $50::text[], $51::boolean[], $52::text[], $53::text[], $54::text[], $55::text[])
      AS u(id, html, text, revised, base_html, base_text, source, language)
    WHERE o.id = u.id AND o.id = ANY($48::bigint[]) AND o.status = 'pending'),
  -- Existing stories only: the new ones are marked as they are inserted.
  breaking AS (
    UPDATE stories SET breaking_at = COALESCE(breaking_at, $1::bigint) WHERE id = ANY($56::bigint[])),
  new_digest AS (
    INSERT INTO digest_items (chat, story_id, html, text, created_at)
    SELECT u.chat, COALESCE(u.story_id, ids.id), u.html, u.text, $1::bigint
    FROM unnest($57::text[], $58::bigint[], $59::int[], $60::text[], $61::text[]) WITH ORDINALITY AS u(chat, story_id, new_idx, html, text, ord)
      LEFT JOIN ids ON ids.idx = u.new_idx
    ORDER BY u.ord)
  INSERT INTO feeds (url, etag, last_modified, first_polled_at, last_success_at, consecutive_failures, title)
  VALUES ($2::text, $3::text, $4::text, $1::bigint, $1::bigint, 0, $62::text)
  ON CONFLICT (url) DO UPDATE SET etag = excluded.etag, last_modified = excluded.last_modified,
    first_polled_at = COALESCE(feeds.first_polled_at, excluded.first_polled_at), title = COALESCE(excluded.title, feeds.title),
    last_success_at = excluded.last_success_at, ${FEED_HEALTHY}`;

/**
 * A story with its alerts, reports and digest chats in one row (one statement, one round trip: a
 * story is read for every matched item), the story being the row `source` gives.
 */
function storySelect(source: string): string {
  return `
  SELECT s.id, s.title, s.breaking_at,
    (SELECT COALESCE(json_agg(json_build_object(
         'id', a.id, 'chat', a.chat, 'thread_id', a.thread_id, 'link_preview', a.link_preview, 'status', a.status,
         'base_html', a.base_html, 'base_text', a.base_text, 'html', a.html, 'text', a.text, 'source', a.source, 'language', a.language,
         'pending_edit', (SELECT e.id FROM outbox e WHERE e.target_id = a.id AND e.kind = 'edit' AND e.status = 'pending' ORDER BY e.id DESC LIMIT 1))
       ORDER BY a.id), '[]'::json)
     FROM outbox a WHERE a.story_id = s.id AND a.kind = 'alert') AS alerts,
    -- The first report (the alert's) and the newest others: a story that has gathered thousands
    -- of reports must not cost thousands of rows each time it gathers one more.
    (SELECT COALESCE(json_agg(json_build_object(
         'at', r.at, 'source', r.source, 'link', r.link, 'language', r.language, 'entities', r.entities, 'numbers', r.numbers)
       ORDER BY r.at, r.id), '[]'::json)
     FROM (
       (SELECT id, at, source, link, language, entities, numbers FROM story_reports WHERE story_id = s.id ORDER BY at, id LIMIT 1)
       UNION ALL
       (SELECT id, at, source, link, language, entities, numbers FROM story_reports WHERE story_id = s.id
          AND id <> (SELECT id FROM story_reports WHERE story_id = s.id ORDER BY at, id LIMIT 1)
          ORDER BY at DESC, id DESC LIMIT ${STORY_REPORTS_READ})
     ) r) AS reports,
    -- A chat that takes digests has the story once it is collected for its digest.
    ARRAY(SELECT DISTINCT d.chat || COALESCE('#' || NULLIF(c.thread_id, 0)::text, '') FROM digest_items d LEFT JOIN chats c ON c.chat = d.chat WHERE d.story_id = s.id) AS digested
  FROM (${source}) s`;
}

const GET_STORY = storySelect('SELECT id, title, breaking_at FROM stories WHERE id = $1');

/** The most recent story created since $2 that carries one of the keys $1. */
const FIND_STORY = storySelect(
  // Each story of the keys looked up by id (OFFSET 0 keeps that plan): a scan of every story
  // created in the window would cost more the more there are.
  `SELECT s.id, s.title, s.breaking_at
   FROM (SELECT DISTINCT story_id FROM story_keys WHERE key = ANY($1::text[])) k
     CROSS JOIN LATERAL (SELECT id, title, breaking_at, created_at FROM stories WHERE id = k.story_id AND created_at >= $2 OFFSET 0) s
   ORDER BY s.created_at DESC, s.id DESC LIMIT 1`,
);

interface StoryDbRow {
  id: number;
  title: string;
  breaking_at: number | null;
  alerts: Array<{
    id: number;
    chat: string;
    thread_id: number;
    link_preview: boolean;
    status: OutboxStatus;
    base_html: string | null;
    base_text: string | null;
    html: string;
    text: string;
    pending_edit: number | null;
    source: string | null;
    language: string | null;
  }>;
  reports: Array<{ at: number; source: string; link: string | null; language: string | null; entities: string; numbers: string }>;
  digested: string[];
}

interface OutboxDbRow {
  id: number;
  story_id: number;
  kind: OutboxKind;
  target_status: OutboxStatus | null;
  target_message_id: number | null;
  chat: string;
  thread_id: number;
  link_preview: boolean;
  html: string;
  text: string;
  attempts: number;
  created_at: number;
}

/** A lock this store holds through withLock: one advisory lock on one pooled connection, however deeply its holder nests. */
interface HeldLock {
  name: string;
  key: string;
  client: PoolClient;
  depth: number;
  /** the connection went while the lock was held (the lock went with it) */
  lost: boolean;
  onError: (error: Error) => void;
}

/** Something that runs queries: the pool, or one client of it inside a transaction. */
interface Queryable {
  query<R extends QueryResultRow>(config: { name: string; text: string; values: unknown[] }): Promise<pg.QueryResult<R>>;
}

/** int8 (ids, times, COUNT) as JS numbers: every value this store keeps fits in 2^53. Per store, not pg's global types. */
function storeTypes(): pg.TypeOverrides {
  const types = new pg.TypeOverrides();
  types.setTypeParser(pg.types.builtins.INT8, Number);
  return types;
}

/** A statement's name for pg's per-connection cache of prepared statements: parsed once per connection. */
const statementNames = new Map<string, string>();
function statementName(text: string): string {
  let name = statementNames.get(text);
  if (name === undefined) {
    name = `sw_${createHash('sha1').update(text).digest('hex').slice(0, 24)}`;
    statementNames.set(text, name);
  }
  return name;
}

/** The 64-bit advisory lock key of `name` in `schema` (advisory locks are database-wide; schemas share a database). */
export function advisoryKey(schema: string, name: string): string {
  return createHash('sha1').update(`${schema}:${name}`).digest().readBigInt64BE(0).toString();
}

/**
 * The key of the migration lock, as two int4: the two-key form of advisory locks is a key space of
 * its own, so no lock or role name (one bigint key) can ever collide with it.
 */
function migrationKey(schema: string): [number, number] {
  const digest = createHash('sha1').update(`${schema}:migrate`).digest();
  return [digest.readInt32BE(0), digest.readInt32BE(4)];
}

/** `url` without its query parameter `name`, and that parameter's values (the rest of the URL is left byte for byte). */
export function takeQueryParam(url: string, name: string): { url: string; values: string[] } {
  const hash = url.indexOf('#');
  const fragment = hash === -1 ? '' : url.slice(hash);
  const beforeFragment = hash === -1 ? url : url.slice(0, hash);
  const question = beforeFragment.indexOf('?');
  if (question === -1) return { url, values: [] };
  const values: string[] = [];
  const kept = beforeFragment
    .slice(question + 1)
    .split('&')
    .filter((pair) => {
      if (pair === '') return false;
      const [key = '', ...rest] = pair.split('=');
      if (decodeQueryPart(key) !== name) return true;
      values.push(decodeQueryPart(rest.join('=')));
      return false;
    });
  const base = beforeFragment.slice(0, question);
  return { url: `${base}${kept.length > 0 ? `?${kept.join('&')}` : ''}${fragment}`, values };
}

function decodeQueryPart(part: string): string {
  try {
    return decodeURIComponent(part.replace(/\+/gu, ' '));
  } catch {
    return part;
  }
}

export class PostgresStore implements Store {
  /** who this store is in feeds.lease_holder: unique per process and per store */
  private readonly holder = `${process.pid}-${randomBytes(6).toString('hex')}`;
  private readonly locks = new Map<string, HeldLock>();
  /** per lock name, the end of the last call queued for it in this store */
  private readonly lockQueues = new Map<string, Promise<void>>();
  /** the locks the running code holds, so that a nested withLock knows it already has one */
  private readonly heldHere = new AsyncLocalStorage<ReadonlyMap<string, HeldLock>>();
  /** the connection that holds this store's roles, kept open as long as they are held */
  private rolesClient: pg.Client | null = null;
  /**
   * Connections for commitFeedBatch's one statement alone, which take its generic plan: with
   * arrays for parameters PostgreSQL would plan it anew at each call (planning costs about as much
   * as running it), its generic plan never looking cheaper. Opened on first use.
   */
  private commitPool: pg.Pool | null = null;
  private readonly roles = new Set<string>();
  /** role operations, one at a time (taking an advisory lock twice in one session would need two unlocks) */
  private rolesTurn: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly clientConfig: ClientConfig,
    readonly schema: string,
  ) {}

  /** Connects to the database at `connectionString` and brings `schema` (created if need be) up to date. */
  static async open(connectionString: string, schema: string): Promise<PostgresStore> {
    if (!SCHEMA_NAME.test(schema)) throw new Error(`invalid schema name "${schema}": letters, digits and underscores only`);
    // pg lets the URL's own parameters override the config: an `options` there is merged with ours.
    const { url, values: ownOptions } = takeQueryParam(connectionString, 'options');
    const clientConfig: ClientConfig = {
      connectionString: url,
      options: [...ownOptions, `-c search_path="${schema}"`].join(' '),
      types: storeTypes(),
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      application_name: 'steppewatch',
      // A server (or the network to it) that vanishes without closing the connection is noticed,
      // so roles held on that connection are dropped rather than believed held.
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
    };
    const pool = new pg.Pool({ ...clientConfig, max: 10 });
    // An idle connection that the server closes (restart, idle timeout) leaves the pool, which
    // opens another when next needed; without a listener that would crash the process.
    pool.on('error', () => undefined);
    const store = new PostgresStore(pool, clientConfig, schema);
    try {
      await store.migrate();
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw error;
    }
    return store;
  }

  /**
   * Brings the schema up to date in one transaction under a per-schema advisory lock, reading the
   * version inside it: several processes starting at once on a new schema migrate it once.
   */
  private async migrate(): Promise<void> {
    const quoted = `"${this.schema}"`;
    await this.transaction(async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1::int, $2::int)', migrationKey(this.schema));
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoted}`);
      await client.query(`SET LOCAL search_path TO ${quoted}`);
      await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INT PRIMARY KEY, applied_at BIGINT NOT NULL)');
      const { rows } = await client.query<{ version: number | null }>('SELECT MAX(version) AS version FROM schema_migrations');
      const current = rows[0]?.version ?? 0;
      if (current > PG_MIGRATIONS.length) {
        throw new Error(`database schema "${this.schema}" is at version ${current}, newer than this steppewatch (${PG_MIGRATIONS.length}); upgrade steppewatch`);
      }
      for (const [i, sql] of PG_MIGRATIONS.entries()) {
        if (i < current) continue;
        await client.query(sql);
        await client.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [i + 1, Date.now()]);
      }
    });
  }

  /** The rows of one statement, prepared once per connection. */
  private async rows<R extends QueryResultRow>(text: string, values: unknown[] = [], on: Queryable = this.pool): Promise<R[]> {
    return (await on.query<R>({ name: statementName(text), text, values })).rows;
  }

  /** How many rows one statement changed. */
  private async run(text: string, values: unknown[] = [], on: Queryable = this.pool): Promise<number> {
    return (await on.query({ name: statementName(text), text, values })).rowCount ?? 0;
  }

  /** Runs `fn` in one transaction on one connection: committed if it resolves, rolled back if it throws. */
  private async transaction<T>(fn: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    // A connection lost between two statements must reject the next one, not crash the process.
    const onError = (): void => undefined;
    client.on('error', onError);
    let broken = false;
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      try {
        await client.query('ROLLBACK');
      } catch {
        broken = true;
      }
      throw error;
    } finally {
      client.removeListener('error', onError);
      client.release(broken);
    }
  }

  async getFeedState(url: string): Promise<FeedState | null> {
    const [row] = await this.rows<FeedRow>(`SELECT ${FEED_COLUMNS} FROM feeds WHERE url = $1`, [url]);
    return row ? feedState(row) : null;
  }

  async feedStates(): Promise<FeedState[]> {
    return (await this.rows<FeedRow>(`SELECT ${FEED_COLUMNS} FROM feeds ORDER BY url`)).map(feedState);
  }

  async chatCounts(): Promise<{ active: number; inactive: number }> {
    const [row] = await this.rows<{ active: number; inactive: number }>(
      'SELECT COUNT(*) FILTER (WHERE active) AS active, COUNT(*) FILTER (WHERE NOT active) AS inactive FROM chats',
    );
    return row ?? { active: 0, inactive: 0 };
  }

  async recordFeedFailure(url: string, error: string, at: number, nextPollAt: number): Promise<void> {
    await this.run(
      `INSERT INTO feeds (url, last_error, last_error_at, consecutive_failures, next_poll_at, failing_since)
       VALUES ($1, $2, $3, 1, $4, $3)
       ON CONFLICT (url) DO UPDATE SET last_error = excluded.last_error, last_error_at = excluded.last_error_at,
         consecutive_failures = feeds.consecutive_failures + 1, next_poll_at = excluded.next_poll_at,
         failing_since = COALESCE(feeds.failing_since, excluded.failing_since)`,
      [url, error, at, nextPollAt],
    );
  }

  async recordFeedUnchanged(url: string, at: number): Promise<void> {
    await this.run(`UPDATE feeds SET last_success_at = $1, ${FEED_HEALTHY} WHERE url = $2`, [at, url]);
  }

  async recordFeedPace(url: string, pace: FeedPace): Promise<void> {
    await this.run('UPDATE feeds SET poll_interval_ms = $1, poll_reason = $2, next_poll_at = $3, poll_earliest_at = $4, ttl_minutes = $5 WHERE url = $6', [
      pace.intervalMs,
      pace.reason,
      pace.nextPollAt,
      pace.earliestAt,
      pace.ttlMinutes,
      url,
    ]);
  }

  async feedActivity(url: string, since: number, limit: number): Promise<FeedActivity> {
    const [row] = await this.rows<{ times: number[] | null; watchlists: string[] | null }>(
      `SELECT
         (SELECT array_agg(t ORDER BY t DESC) FROM (
            SELECT LEAST(COALESCE(published_at, first_seen_at), first_seen_at) AS t FROM items WHERE feed_url = $1 ORDER BY t DESC LIMIT $3) latest) AS times,
         (SELECT array_agg(DISTINCT w) FROM items i, jsonb_array_elements_text(i.watchlists::jsonb) w
            WHERE i.feed_url = $1 AND i.first_seen_at >= $2 AND i.watchlists <> '[]') AS watchlists`,
      [url, since, limit],
    );
    return { times: (row?.times ?? []).map(Number), watchlists: row?.watchlists ?? [] };
  }

  async breakingWatchlists(since: number): Promise<Set<string>> {
    const rows = await this.rows<{ w: string }>(
      `SELECT DISTINCT w FROM stories s JOIN items i ON i.story_id = s.id, jsonb_array_elements_text(i.watchlists::jsonb) w WHERE s.breaking_at >= $1`,
      [since],
    );
    return new Set(rows.map((r) => r.w));
  }

  async setFeedFetchUrl(url: string, fetchUrl: string | null): Promise<void> {
    await this.run('INSERT INTO feeds (url, fetch_url) VALUES ($1, $2) ON CONFLICT (url) DO UPDATE SET fetch_url = excluded.fetch_url', [url, fetchUrl]);
  }

  async markFeedFailureReported(url: string, at: number): Promise<void> {
    await this.run('UPDATE feeds SET failure_reported_at = $1 WHERE url = $2', [at, url]);
  }

  async itemHashes(feedUrl: string, keys: string[]): Promise<Map<string, string | null>> {
    const hashes = new Map<string, string | null>();
    if (keys.length === 0) return hashes;
    const rows = await this.rows<{ item_key: string; content_hash: string | null }>(
      'SELECT item_key, content_hash FROM items WHERE feed_url = $1 AND item_key = ANY($2::text[])',
      [feedUrl, keys],
    );
    const found = new Map(rows.map((row) => [row.item_key, row.content_hash]));
    // In the order asked, as the SQLite store gives them.
    for (const key of keys) {
      const hash = found.get(key);
      if (hash !== undefined) hashes.set(key, hash);
    }
    return hashes;
  }

  async recordItemUpdate(feedUrl: string, key: string, contentHash: string, at: number): Promise<void> {
    await this.run('UPDATE items SET content_hash = $1, updated_at = $2 WHERE feed_url = $3 AND item_key = $4', [contentHash, at, feedUrl, key]);
  }

  async findStory(keys: string[], since: number): Promise<StoryMatch | null> {
    if (keys.length === 0) return null;
    const [row] = await this.rows<StoryDbRow>(FIND_STORY, [keys, since]);
    return row ? storyMatch(row) : null;
  }

  async getStory(id: number): Promise<StoryMatch | null> {
    const [row] = await this.rows<StoryDbRow>(GET_STORY, [id]);
    return row ? storyMatch(row) : null;
  }

  async reportsAfter(afterId: number, since: number, limit: number): Promise<StoredReportRow[]> {
    const rows = await this.rows<{
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
    }>(
      `SELECT id, story_id, at, language, signature, bands, term_hashes, entities, numbers, features FROM story_reports
       WHERE id > $1 AND at >= $2 ORDER BY id LIMIT $3`,
      [afterId, since, limit],
    );
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
    if (claim.urls.length === 0 || claim.limit <= 0) return [];
    await this.run('INSERT INTO feeds (url) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING', [claim.urls]);
    // SKIP LOCKED: two stores claiming at once each take rows the other has not locked, never the same.
    // In the config's order among feeds polled as long ago: which report of a story comes first
    // must not depend on the store.
    const rows = await this.rows<{ url: string }>(
      `WITH wanted AS (SELECT url, ord FROM unnest($4::text[]) WITH ORDINALITY AS w(url, ord)),
       due AS (
         SELECT f.url, f.polled_at, w.ord FROM feeds f JOIN wanted w ON w.url = f.url
         WHERE (f.lease_until IS NULL OR f.lease_until < $2 OR f.lease_holder = $1)
           AND (f.polled_at IS NULL OR f.polled_at < $5)
         ORDER BY f.polled_at NULLS FIRST, w.ord LIMIT $6
         FOR UPDATE OF f SKIP LOCKED),
       claimed AS (
         UPDATE feeds SET lease_holder = $1, lease_until = $2::bigint + $3::bigint
         FROM due WHERE feeds.url = due.url
         RETURNING feeds.url)
       SELECT due.url FROM due JOIN claimed ON claimed.url = due.url ORDER BY due.polled_at NULLS FIRST, due.ord`,
      [this.holder, claim.now, claim.leaseMs, claim.urls, claim.polledBefore, claim.limit],
    );
    return rows.map((row) => row.url);
  }

  async finishFeed(url: string, polledAt: number | null): Promise<void> {
    await this.run('UPDATE feeds SET polled_at = COALESCE($2, polled_at), lease_holder = NULL, lease_until = NULL WHERE url = $1', [url, polledAt]);
  }

  async tryRole(name: string): Promise<boolean> {
    return this.rolesInTurn(async () => {
      if (this.closed) throw new Error('the store is closed');
      const key = advisoryKey(this.schema, name);
      const current = this.rolesClient;
      if (this.roles.has(name) && current) {
        // Held as long as the connection is: make sure it still is.
        try {
          await current.query('SELECT 1');
          return true;
        } catch {
          this.dropRolesClient(current);
        }
      }
      const client = await this.rolesConnection();
      try {
        const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS locked', [key]);
        const locked = rows[0]?.locked === true;
        // Lost while asking: the lock went with the connection.
        if (this.rolesClient !== client) return false;
        if (locked) this.roles.add(name);
        return locked;
      } catch (error) {
        this.dropRolesClient(client);
        throw error;
      }
    });
  }

  async releaseRole(name: string): Promise<void> {
    await this.rolesInTurn(async () => {
      const client = this.rolesClient;
      if (!this.roles.delete(name) || !client) return;
      try {
        await client.query('SELECT pg_advisory_unlock($1::bigint)', [advisoryKey(this.schema, name)]);
      } catch {
        // Not unlocked: only closing the connection frees it for sure (and the other roles with it).
        this.dropRolesClient(client);
      }
    });
  }

  heldRoles(): string[] {
    return [...this.roles];
  }

  private rolesInTurn<T>(fn: () => Promise<T>): Promise<T> {
    const turn = this.rolesTurn.then(fn, fn);
    this.rolesTurn = turn.catch(() => undefined);
    return turn;
  }

  /** The connection for roles, opened when none is open. */
  private async rolesConnection(): Promise<pg.Client> {
    if (this.rolesClient) return this.rolesClient;
    const client = new pg.Client(this.clientConfig);
    // Whatever ends the connection (the server, the network, close) ends every role held on it.
    client.on('error', () => this.dropRolesClient(client));
    client.on('end', () => this.dropRolesClient(client));
    try {
      await client.connect();
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    this.rolesClient = client;
    return client;
  }

  /** Forgets `client` and the roles it held, and closes it (which frees them in the database). */
  private dropRolesClient(client: pg.Client): void {
    if (this.rolesClient === client) {
      this.rolesClient = null;
      this.roles.clear();
    }
    client.end().catch(() => undefined);
  }

  async withLock<T>(name: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
    // This store holds the role of that name: nobody else can hold the lock.
    if (this.roles.has(name)) return fn();
    const held = this.heldHere.getStore()?.get(name);
    // Called from within its own holder: it has the lock already.
    if (held && this.locks.get(name) === held) return this.nested(held, fn);
    // Calls from this store take turns, so only one at a time asks the database.
    const previous = this.lockQueues.get(name) ?? Promise.resolve();
    let done = (): void => undefined;
    const turn = new Promise<void>((resolve) => (done = resolve));
    this.lockQueues.set(name, turn);
    try {
      await previous;
      const lock = await this.acquire(name, options.waitMs ?? LOCK_WAIT_MS);
      const inside = new Map(this.heldHere.getStore() ?? []).set(name, lock);
      return await this.heldHere.run(inside, () => this.nested(lock, fn));
    } finally {
      if (this.lockQueues.get(name) === turn) this.lockQueues.delete(name);
      done();
    }
  }

  /** Runs `fn` under `lock`; the last one out releases it. */
  private async nested<T>(lock: HeldLock, fn: () => Promise<T>): Promise<T> {
    lock.depth++;
    try {
      return await fn();
    } finally {
      if (--lock.depth === 0) await this.release(lock);
    }
  }

  /**
   * Takes the advisory lock of `name` on a pooled connection. Waiting is PostgreSQL's: the server
   * queues the waiters and hands the lock to the next the moment it is released, so a lock passed
   * between workers (the story step) idles for no retry interval; `lock_timeout` bounds the wait.
   */
  private async acquire(name: string, waitMs: number): Promise<HeldLock> {
    const key = advisoryKey(this.schema, name);
    const client = await this.pool.connect();
    let locked: boolean;
    try {
      if (waitMs <= 0) {
        const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS locked', [key]);
        locked = rows[0]?.locked === true;
      } else {
        await client.query(`SELECT set_config('lock_timeout', $1, false)`, [`${Math.ceil(waitMs)}ms`]);
        try {
          await client.query('SELECT pg_advisory_lock($1::bigint)', [key]);
          locked = true;
        } catch (error) {
          // 55P03 lock_not_available: lock_timeout ran out.
          if ((error as { code?: string }).code !== '55P03') throw error;
          locked = false;
        }
        await client.query(`SELECT set_config('lock_timeout', '0', false)`);
      }
    } catch (error) {
      client.release(true);
      throw error;
    }
    if (!locked) {
      client.release();
      throw new StoreBusyError(name, await this.lockHolder(key));
    }
    const lock: HeldLock = { name, key, client, depth: 0, lost: false, onError: () => (lock.lost = true) };
    // Held across fn, idle: a connection lost meanwhile must not crash the process.
    client.on('error', lock.onError);
    this.locks.set(name, lock);
    return lock;
  }

  /** Unlocks and gives the connection back; one that cannot unlock is closed, which unlocks. */
  private async release(lock: HeldLock): Promise<void> {
    if (this.locks.get(lock.name) === lock) this.locks.delete(lock.name);
    let destroy = lock.lost;
    if (!destroy) {
      try {
        const { rows } = await lock.client.query<{ unlocked: boolean }>('SELECT pg_advisory_unlock($1::bigint) AS unlocked', [lock.key]);
        destroy = rows[0]?.unlocked !== true;
      } catch {
        destroy = true;
      }
    }
    lock.client.removeListener('error', lock.onError);
    lock.client.release(destroy);
  }

  /** Who holds an advisory lock: its server process, if still anyone. */
  private async lockHolder(key: string): Promise<string | null> {
    const value = BigInt.asUintN(64, BigInt(key));
    try {
      const [row] = await this.rows<{ pid: number; application_name: string | null; client_addr: string | null }>(
        `SELECT l.pid, a.application_name, host(a.client_addr) AS client_addr
         FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
         WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
           AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
           AND l.classid = $1::bigint::oid AND l.objid = $2::bigint::oid
         LIMIT 1`,
        [(value >> 32n).toString(), BigInt.asUintN(32, value).toString()],
      );
      if (!row) return null;
      const who = [row.application_name, row.client_addr].filter((part) => part).join(' at ');
      return `PostgreSQL backend ${row.pid}${who ? ` (${who})` : ''}`;
    } catch {
      return null;
    }
  }

  async prune(before: number): Promise<{ items: number; stories: number }> {
    return this.transaction(async (client) => {
      // A story with a message still to send (or an alert an edit may still target) is kept.
      const stories = await this.run(
        `DELETE FROM stories WHERE created_at < $1
           AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.story_id = stories.id AND o.status = 'pending')`,
        [before],
        client,
      );
      await this.run('DELETE FROM story_keys WHERE created_at < $1 AND story_id NOT IN (SELECT id FROM stories)', [before], client);
      await this.run('DELETE FROM story_reports WHERE at < $1', [before], client);
      const items = await this.run('DELETE FROM items WHERE first_seen_at < $1', [before], client);
      return { items, stories };
    });
  }

  /**
   * One statement, so one round trip and atomic by itself: data-modifying CTEs, one per table,
   * each given its rows as arrays (unnest, in the batch's order so that ids follow it as in
   * SQLite). The new stories' ids are reserved first (ids) and rows refer to a story by its id or
   * by its index among them. The CTEs see the same snapshot, not each other's rows: a new story
   * breaking is marked as it is inserted, and rewrites only ever target rows of earlier batches
   * (a row's id is known only once it is written). Foreign keys are checked at the statement's end.
   */
  async commitFeedBatch(batch: FeedBatch): Promise<void> {
    const newCount = batch.newStories.length;
    // Refs checked before anything is sent: a batch that refers to a story it does not create writes nothing.
    const check = (ref: StoryRef): void => {
      if ('newIndex' in ref && !(Number.isInteger(ref.newIndex) && ref.newIndex >= 0 && ref.newIndex < newCount)) {
        throw new Error(`batch refers to new story ${ref.newIndex}, which it does not create`);
      }
    };
    for (const ref of [
      ...batch.items.flatMap((i) => (i.story === null ? [] : [i.story])),
      ...batch.reports.map((r) => r.story),
      ...batch.outbox.map((m) => m.story),
      ...batch.breaking,
      ...batch.digestItems.map((d) => d.story),
    ]) {
      check(ref);
    }
    // A story as two parallel arrays: its id if it exists, else its index among the new stories.
    const idOf = (ref: StoryRef | null): number | null => (ref !== null && 'id' in ref ? ref.id : null);
    const indexOf = (ref: StoryRef | null): number | null => (ref !== null && 'newIndex' in ref ? ref.newIndex : null);
    const breakingNew = new Set(batch.breaking.map(indexOf));
    const breakingIds = batch.breaking.map(idOf).filter((id) => id !== null);
    const keys: Array<{ key: string; story: StoryRef }> = [
      ...batch.newStories.flatMap((story, i) => story.keys.map((key) => ({ key, story: { newIndex: i } }))),
      ...batch.storyKeys.map(({ storyId, key }) => ({ key, story: { id: storyId } })),
    ];
    const { items, reports, outbox, digestItems: digest } = batch;
    const alert = (m: (typeof outbox)[number]): boolean => m.kind === 'alert';
    // One row per id, as when they are applied one after the other: the last rewrite's html and
    // text, and the base and origin of the last one that gives both (the others leave them).
    type Rewrite = FeedBatch['outboxRewrites'][number];
    const byId = new Map<number, { id: number; html: string; text: string; revision: Required<Pick<Rewrite, 'base' | 'origin'>> | null }>();
    for (const r of batch.outboxRewrites) {
      const revision = r.base && r.origin ? { base: r.base, origin: r.origin } : (byId.get(r.id)?.revision ?? null);
      byId.set(r.id, { id: r.id, html: r.html, text: r.text, revision });
    }
    const rewrites = [...byId.values()];
    await this.run(COMMIT_FEED_BATCH, [
      batch.at,
      batch.feedUrl,
      batch.fetch.etag,
      batch.fetch.lastModified,
      batch.newStories.map((s) => s.title),
      batch.newStories.map((s) => s.link),
      batch.newStories.map((_, i) => breakingNew.has(i)),
      keys.map((k) => k.key),
      keys.map((k) => idOf(k.story)),
      keys.map((k) => indexOf(k.story)),
      items.map((i) => i.key),
      items.map((i) => i.title),
      items.map((i) => i.link),
      items.map((i) => i.publishedAt),
      items.map((i) => i.decision),
      items.map((i) => JSON.stringify(i.watchlists)),
      items.map((i) => idOf(i.story)),
      items.map((i) => indexOf(i.story)),
      items.map((i) => i.contentHash),
      items.map((i) => i.language ?? null),
      items.map((i) => (i.forms && i.forms.length > 0 ? JSON.stringify(i.forms) : null)),
      reports.map((r) => idOf(r.story)),
      reports.map((r) => indexOf(r.story)),
      reports.map((r) => r.at),
      reports.map((r) => r.source),
      reports.map((r) => r.link),
      reports.map((r) => r.title),
      reports.map((r) => r.language),
      reports.map((r) => bytesOf(r.signature)),
      reports.map((r) => r.bands),
      reports.map((r) => bytesOf(r.termHashes)),
      reports.map((r) => JSON.stringify(r.entities)),
      reports.map((r) => JSON.stringify(r.numbers)),
      reports.map((r) => JSON.stringify(r.features)),
      outbox.map((m) => idOf(m.story)),
      outbox.map((m) => indexOf(m.story)),
      outbox.map((m) => m.kind),
      outbox.map((m) => m.targetId),
      outbox.map((m) => m.chat),
      outbox.map((m) => m.threadId ?? 0),
      outbox.map((m) => m.linkPreview),
      outbox.map((m) => m.html),
      outbox.map((m) => m.text),
      outbox.map((m) => (alert(m) ? m.html : null)),
      outbox.map((m) => (alert(m) ? m.text : null)),
      outbox.map((m) => m.origin?.source ?? null),
      outbox.map((m) => m.origin?.language ?? null),
      rewrites.map((r) => r.id),
      rewrites.map((r) => r.html),
      rewrites.map((r) => r.text),
      rewrites.map((r) => r.revision !== null),
      rewrites.map((r) => r.revision?.base.html ?? null),
      rewrites.map((r) => r.revision?.base.text ?? null),
      rewrites.map((r) => r.revision?.origin.source ?? null),
      rewrites.map((r) => r.revision?.origin.language ?? null),
      breakingIds,
      digest.map((d) => d.chat),
      digest.map((d) => idOf(d.story)),
      digest.map((d) => indexOf(d.story)),
      digest.map((d) => d.html),
      digest.map((d) => d.text),
      batch.feedTitle ?? null,
    ], this.commitConnections());
  }

  private commitConnections(): pg.Pool {
    if (this.closed) throw new Error('the store is closed');
    if (!this.commitPool) {
      const options = [this.clientConfig.options, '-c plan_cache_mode=force_generic_plan'].filter((o) => o).join(' ');
      this.commitPool = new pg.Pool({ ...this.clientConfig, options, max: 2 });
      this.commitPool.on('error', () => undefined);
    }
    return this.commitPool;
  }

  async dueOutbox(now: number, limit: number): Promise<OutboxRow[]> {
    const rows = await this.rows<OutboxDbRow>(
      `SELECT o.id, o.story_id, o.kind, t.status AS target_status, t.message_id AS target_message_id, o.chat, o.thread_id,
         o.link_preview, o.html, o.text, o.attempts, o.created_at
       FROM outbox o LEFT JOIN outbox t ON t.id = o.target_id
       WHERE o.status = 'pending' AND o.next_attempt_at <= $1 ORDER BY o.id LIMIT $2`,
      [now, limit],
    );
    return rows.map((row) => ({
      id: row.id,
      storyId: row.story_id,
      kind: row.kind,
      target: row.target_status === null ? null : { status: row.target_status, messageId: row.target_message_id },
      chat: row.chat,
      threadId: row.thread_id === 0 ? null : row.thread_id,
      linkPreview: row.link_preview,
      html: row.html,
      text: row.text,
      attempts: row.attempts,
      createdAt: row.created_at,
    }));
  }

  async nextOutboxDue(): Promise<number | null> {
    const [row] = await this.rows<{ next: number | null }>(`SELECT MIN(next_attempt_at) AS next FROM outbox WHERE status = 'pending'`);
    return row?.next ?? null;
  }

  async markSent(id: number, messageId: number | null, at: number): Promise<void> {
    await this.run(`UPDATE outbox SET status = 'sent', sent_at = $1, message_id = $2, attempts = attempts + 1, last_error = NULL WHERE id = $3`, [at, messageId, id]);
  }

  async markRetry(id: number, error: string, nextAttemptAt: number, rateLimited = false): Promise<void> {
    await this.run('UPDATE outbox SET attempts = attempts + 1, rate_limits = rate_limits + $4, last_error = $1, next_attempt_at = $2 WHERE id = $3', [error, nextAttemptAt, id, rateLimited ? 1 : 0]);
  }

  async markFailed(id: number, error: string, at: number): Promise<void> {
    await this.run(`UPDATE outbox SET status = 'failed', attempts = attempts + 1, last_error = $1, next_attempt_at = $2 WHERE id = $3`, [error, at, id]);
  }

  async outboxCounts(): Promise<Record<OutboxStatus, number>> {
    const counts: Record<OutboxStatus, number> = { pending: 0, sent: 0, failed: 0 };
    const rows = await this.rows<{ status: OutboxStatus; n: number }>('SELECT status, COUNT(*) AS n FROM outbox GROUP BY status');
    for (const row of rows) counts[row.status] = row.n;
    return counts;
  }

  async feedItemCounts(since: number): Promise<Map<string, number>> {
    return feedItemCountsOf(await this.rows(feedItemCountsSql('$1'), [since]));
  }

  async sentAlerts(since: number): Promise<SentAlerts> {
    // Two reads that may see different moments: an alert whose story's watchlists were not read is counted under "other".
    const [alerts, watchlists] = await Promise.all([this.rows(sentAlertsSql('$1'), [since]), this.rows(sentStoryWatchlistsSql('$1'), [since])]);
    return sentAlertsOf(alerts, watchlists);
  }

  async deliveryCounts(since: number): Promise<DeliveryCounts> {
    const [row] = await this.rows(deliveryCountsSql('$1'), [since]);
    return deliveryCountsOf(row);
  }

  async latestStories(limit: number, before: StoryCursor = NEWEST): Promise<StoryOverview[]> {
    const stories = await this.rows(latestStoriesSql('$1', '$2', '$3'), [before.createdAt, before.id, limit]);
    const ids = storyIdsOf(stories);
    if (ids.length === 0) return [];
    const list = '(SELECT unnest($1::bigint[]))';
    const [reports, messages, digests] = await Promise.all([this.rows(storyReportsSql(list), [ids]), this.rows(storyMessagesSql(list), [ids]), this.rows(storyDigestsSql(list), [ids])]);
    return storyOverviewsOf(stories, reports, messages, digests);
  }

  async upsertChat(chat: string, kind: ChatRecord['kind'], at: number): Promise<ChatRecord> {
    const [row] = await this.rows<ChatRow>(
      `INSERT INTO chats (chat, kind, created_at) VALUES ($1, $2, $3)
       ON CONFLICT (chat) DO UPDATE SET kind = excluded.kind, active = true, deactivated_at = NULL, deactivated_reason = NULL
       RETURNING ${CHAT_COLUMNS}`,
      [chat, kind, at],
    );
    if (!row) throw new Error(`chat ${chat} was not recorded`);
    return chatRecordOf(row);
  }

  async getChat(chat: string): Promise<ChatRecord | null> {
    const [row] = await this.rows<ChatRow>(`SELECT ${CHAT_COLUMNS} FROM chats WHERE chat = $1`, [chat]);
    return row ? chatRecordOf(row) : null;
  }

  async chatSettings(): Promise<Map<string, ChatSettings>> {
    const rows = await this.rows<ChatRow>(`SELECT ${CHAT_COLUMNS} FROM chats WHERE active ORDER BY chat`);
    return new Map(rows.map((row) => [row.chat, chatSettingsOf(row)]));
  }

  async setChatSettings(chat: string, settings: ChatSettingsChange): Promise<void> {
    const columns = chatSettingsColumns(settings);
    if (columns.length === 0) return;
    // Column names come from chatSettingsColumns' fixed list, never from input.
    await this.run(`UPDATE chats SET ${columns.map(([name], i) => `${name} = $${i + 1}`).join(', ')} WHERE chat = $${columns.length + 1}`, [
      ...columns.map(([, value]) => value),
      chat,
    ]);
  }

  async moveChat(from: string, to: string, at: number): Promise<void> {
    if (from === to) return;
    await this.transaction(async (client) => {
      await this.run(
        `INSERT INTO chats (chat, kind, active, muted_until, digest, last_digest_at, template, updates, created_at, thread_id, languages, quiet, language, app_language)
         SELECT $1, 'supergroup', true, muted_until, digest, last_digest_at, template, updates, created_at, thread_id, languages, quiet, language, app_language
         FROM chats WHERE chat = $2
         ON CONFLICT (chat) DO NOTHING`,
        [to, from],
        client,
      );
      await this.run('UPDATE chat_watchlists SET chat = $1 WHERE chat = $2', [to, from], client);
      await this.run('UPDATE digest_items SET chat = $1 WHERE chat = $2', [to, from], client);
      // Every row moves, sent ones too: the story stays known as delivered there. An alert the new
      // id already has (its own alert of the story) stays behind, and a pending one of those is dropped.
      await this.run(
        `UPDATE outbox o SET chat = $1 WHERE o.chat = $2
           AND NOT (o.kind = 'alert' AND EXISTS (
             SELECT 1 FROM outbox x WHERE x.kind = 'alert' AND x.story_id = o.story_id AND x.chat = $1 AND x.thread_id = o.thread_id))`,
        [to, from],
        client,
      );
      await this.run(`UPDATE outbox SET status = 'failed', last_error = $1 WHERE chat = $2 AND status = 'pending'`, [`the chat moved to ${to}`, from], client);
      await this.run('UPDATE chats SET active = false, deactivated_at = $1, deactivated_reason = $2 WHERE chat = $3', [at, `moved to ${to}`, from], client);
      await this.run('UPDATE chat_moves SET to_chat = $1 WHERE to_chat = $2', [to, from], client);
      await this.run('DELETE FROM chat_moves WHERE from_chat = $1', [to], client);
      await this.run(
        `INSERT INTO chat_moves (from_chat, to_chat, moved_at) VALUES ($1, $2, $3)
         ON CONFLICT (from_chat) DO UPDATE SET to_chat = excluded.to_chat, moved_at = excluded.moved_at`,
        [from, to, at],
        client,
      );
    });
  }

  async chatMoves(): Promise<Map<string, string>> {
    const rows = await this.rows<{ from_chat: string; to_chat: string }>('SELECT from_chat, to_chat FROM chat_moves ORDER BY from_chat');
    return new Map(rows.map((r) => [r.from_chat, r.to_chat]));
  }

  async traceLinks(links: string[]): Promise<ItemTrace[]> {
    if (links.length === 0) return [];
    const rows = await this.rows<TraceRow>(`${TRACE_SELECT} WHERE i.link = ANY($1::text[]) ORDER BY i.first_seen_at DESC, i.feed_url, i.item_key LIMIT 5`, [links]);
    return Promise.all(
      rows.map(async (row) => {
        const [deliveries, digests] =
          row.story_id === null
            ? [[], []]
            : await Promise.all([this.rows<DeliveryRow>(traceDeliveriesSql('$1'), [row.story_id]), this.rows<DigestRow>(traceDigestsSql('$1'), [row.story_id])]);
        return traceOf(row, deliveries, digests);
      }),
    );
  }

  async setDigest(chat: string, period: DigestPeriod, now: number): Promise<void> {
    await this.run('UPDATE chats SET digest = $1, last_digest_at = COALESCE(last_digest_at, $2) WHERE chat = $3', [period, now, chat]);
  }

  async dueDigests(now: number): Promise<Array<{ chat: string; items: DigestItem[] }>> {
    // A chat without digests has items waiting when they were held for its quiet hours.
    const rows = await this.rows<{ chat: string; id: number; story_id: number; html: string; text: string }>(
      `SELECT d.chat, d.id, d.story_id, d.html, d.text FROM digest_items d JOIN chats c ON c.chat = d.chat
       WHERE d.queued_at IS NULL AND c.active AND (c.digest = 'off' OR
         (c.digest = 'hourly' AND COALESCE(c.last_digest_at, 0) <= $1) OR (c.digest = 'daily' AND COALESCE(c.last_digest_at, 0) <= $2))
       ORDER BY d.chat, d.id`,
      [now - 3_600_000, now - 86_400_000],
    );
    const byChat = new Map<string, DigestItem[]>();
    for (const row of rows) {
      let items = byChat.get(row.chat);
      if (!items) byChat.set(row.chat, (items = []));
      items.push({ id: row.id, storyId: row.story_id, html: row.html, text: row.text });
    }
    return [...byChat].map(([chat, items]) => ({ chat, items }));
  }

  async queueDigest(chat: string, messages: Array<{ storyId: number; html: string; text: string }>, itemIds: number[], now: number): Promise<void> {
    await this.transaction(async (client) => {
      if (messages.length > 0) {
        // In the chat's forum topic, if it has one.
        await this.run(
          `INSERT INTO outbox (story_id, kind, target_id, chat, thread_id, link_preview, html, text, base_html, base_text, next_attempt_at, created_at)
           SELECT story_id, 'digest', NULL, $1::text, COALESCE((SELECT thread_id FROM chats WHERE chat = $1::text), 0), false, html, text, NULL, NULL, $2::bigint, $2::bigint
           FROM unnest($3::bigint[], $4::text[], $5::text[]) WITH ORDINALITY AS u(story_id, html, text, ord)
           ORDER BY ord`,
          [chat, now, messages.map((m) => m.storyId), messages.map((m) => m.html), messages.map((m) => m.text)],
          client,
        );
      }
      if (itemIds.length > 0) await this.run('UPDATE digest_items SET queued_at = $1 WHERE id = ANY($2::bigint[])', [now, itemIds], client);
      await this.run('UPDATE chats SET last_digest_at = $1 WHERE chat = $2', [now, chat], client);
    });
  }

  async addChatWatchlist(chat: string, watchlist: { preset: string } | { query: string }, at: number): Promise<ChatWatchlist> {
    const preset = 'preset' in watchlist ? watchlist.preset : null;
    const query = 'query' in watchlist ? watchlist.query : null;
    const [row] = await this.rows<{ id: number }>('INSERT INTO chat_watchlists (chat, preset, query, created_at) VALUES ($1, $2, $3, $4) RETURNING id', [
      chat,
      preset,
      query,
      at,
    ]);
    if (!row) throw new Error(`watchlist of chat ${chat} was not recorded`);
    return { id: row.id, chat, preset, query };
  }

  async removeChatWatchlist(chat: string, id: number): Promise<boolean> {
    return (await this.run('DELETE FROM chat_watchlists WHERE chat = $1 AND id = $2', [chat, id])) > 0;
  }

  async chatWatchlists(chat: string): Promise<ChatWatchlist[]> {
    return this.rows<ChatWatchlist>('SELECT id, chat, preset, query FROM chat_watchlists WHERE chat = $1 ORDER BY id', [chat]);
  }

  async activeWatchlists(now: number): Promise<ChatWatchlist[]> {
    return this.rows<ChatWatchlist>(
      `SELECT w.id, w.chat, w.preset, w.query FROM chat_watchlists w JOIN chats c ON c.chat = w.chat
       WHERE c.active AND (c.muted_until IS NULL OR c.muted_until <= $1) ORDER BY w.id`,
      [now],
    );
  }

  async setMutedUntil(chat: string, until: number | null): Promise<void> {
    await this.run('UPDATE chats SET muted_until = $1 WHERE chat = $2', [until, chat]);
  }

  async deactivateChat(chat: string, reason: string, at: number): Promise<void> {
    await this.run('UPDATE chats SET active = false, deactivated_at = $1, deactivated_reason = $2 WHERE chat = $3', [at, reason, chat]);
  }

  async getBotOffset(): Promise<number> {
    const [row] = await this.rows<{ value: string }>(`SELECT value FROM bot_state WHERE key = 'offset'`);
    return row === undefined ? 0 : Number(row.value);
  }

  async setBotOffset(offset: number): Promise<void> {
    await this.run(`INSERT INTO bot_state (key, value) VALUES ('offset', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, [String(offset)]);
  }

  async saveWebsubSubscription(subscription: WebsubSubscription): Promise<void> {
    await this.run(
      `INSERT INTO websub_subscriptions (${WEBSUB_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (id) DO UPDATE SET feed_url = excluded.feed_url, topic = excluded.topic, hub = excluded.hub, secret = excluded.secret,
         state = excluded.state, lease_seconds = excluded.lease_seconds, expires_at = excluded.expires_at, requested_at = excluded.requested_at`,
      websubValues(subscription),
    );
  }

  async websubSubscription(id: string): Promise<WebsubSubscription | null> {
    const [row] = await this.rows<WebsubRow>(`SELECT ${WEBSUB_COLUMNS} FROM websub_subscriptions WHERE id = $1`, [id]);
    return row ? websubOf(row) : null;
  }

  async websubSubscriptions(): Promise<WebsubSubscription[]> {
    return (await this.rows<WebsubRow>(`SELECT ${WEBSUB_COLUMNS} FROM websub_subscriptions ORDER BY requested_at, id`)).map(websubOf);
  }

  async deleteWebsubSubscription(id: string): Promise<void> {
    await this.run('DELETE FROM websub_subscriptions WHERE id = $1', [id]);
  }

  async ping(): Promise<void> {
    // Rejects once closed, or when the database does not answer.
    if (this.closed) throw new Error('the store is closed');
    await this.pool.query('SELECT 1');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Closing the roles connection gives the roles back: another process may take them at once.
    await this.rolesInTurn(async () => {
      const client = this.rolesClient;
      this.roles.clear();
      this.rolesClient = null;
      if (client) await client.end().catch(() => undefined);
    });
    await this.commitPool?.end();
    await this.pool.end();
  }
}

function storyMatch(row: StoryDbRow): StoryMatch {
  const alerts = row.alerts.map(
    (a): StoryAlert => ({
      outboxId: a.id,
      chat: a.chat,
      threadId: a.thread_id === 0 ? null : a.thread_id,
      status: a.status,
      baseHtml: a.base_html ?? a.html,
      baseText: a.base_text ?? a.text,
      pendingEditId: a.pending_edit,
      linkPreview: a.link_preview,
      source: a.source,
      language: a.language,
    }),
  );
  const reports = row.reports.map(
    (r): KnownReport => ({
      at: r.at,
      source: r.source,
      link: r.link,
      language: r.language,
      entities: JSON.parse(r.entities) as string[],
      numbers: JSON.parse(r.numbers) as string[],
    }),
  );
  return {
    id: row.id,
    title: row.title,
    destinations: new Set([...alerts.map((a) => destinationKey(a.chat, a.threadId)), ...row.digested]),
    alerts,
    reports,
    breakingAt: row.breaking_at,
  };
}
