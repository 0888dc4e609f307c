// `steppewatch migrate-store`: moves a SQLite store into an empty PostgreSQL schema, every row
// kept as it is (ids, queued and sent alerts, seen items, the bot's offset), in one transaction.
//
// The SQLite file is read in one read transaction (a consistent snapshot), but what a worker
// writes to it after that snapshot would not be moved: stop every worker on it first. A worker
// that is running (it holds a lease in the file's `locks` table) makes the migration refuse.

import { existsSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { Logger } from '../log.js';
import { errorText, redactUrl, scrubPassword, StoreError } from './open.js';
import { PostgresStore, SCHEMA_NAME, takeQueryParam } from './postgres.js';
import { MIGRATIONS, SqliteStore } from './sqlite.js';

/**
 * The tables moved, parents before children (PostgreSQL checks foreign keys row by row). SQLite's
 * `locks` is not among them: leases of SQLite holders, where PostgreSQL uses advisory locks.
 */
export const MIGRATED_TABLES = [
  'feeds',
  'stories',
  'story_keys',
  'items',
  'story_reports',
  'outbox',
  'chats',
  'chat_watchlists',
  'chat_moves',
  'digest_items',
  'bot_state',
  'websub_subscriptions',
] as const;
export type MigratedTable = (typeof MIGRATED_TABLES)[number];

/** Tables of either schema that are not moved, on purpose. */
const SQLITE_ONLY = new Set(['locks']);
const POSTGRES_ONLY = new Set(['schema_migrations']);

/**
 * Columns copied as NULL: a feed's poll lease names a holder of the old database, which will never
 * finish it; in the new one the feed is free to claim at once (its poll state, polled_at, is kept).
 */
const NOT_COPIED: Partial<Record<MigratedTable, ReadonlySet<string>>> = {
  feeds: new Set(['lease_holder', 'lease_until']),
};

/** Rows per INSERT: one statement per column array, so few round trips, and bounded memory. */
const BATCH_ROWS = 5_000;
/** …and fewer when the rows are large (alert HTML, report fingerprints). */
const BATCH_BYTES = 16 * 1024 * 1024;
const CONNECT_TIMEOUT_MS = 10_000;

export interface MigrateOptions {
  /** `sqlite:PATH` */
  from: string;
  /** `postgres://…` (or `postgresql://…`), optionally `?schema=NAME` (default public) */
  to: string;
  /** progress, one line per table copied */
  log?: Pick<Logger, 'info'>;
}

export interface MigrateResult {
  /** rows moved, per table, in the order they were moved */
  counts: Record<MigratedTable, number>;
  /** pending outbox rows (alerts, edits, replies, digests still to send) */
  queued: number;
  /** the SQLite file read */
  source: string;
  /** the target URL, password masked */
  target: string;
  schema: string;
  ms: number;
}

type PgType = 'text' | 'bigint' | 'integer' | 'boolean' | 'bytea';
const PG_TYPES = new Set<string>(['text', 'bigint', 'integer', 'boolean', 'bytea']);

interface Column {
  name: string;
  type: PgType;
  copied: boolean;
}

/** Moves the SQLite store `from` into the empty PostgreSQL schema `to`. Throws StoreError (password masked) on any failure. */
export async function migrateStore(options: MigrateOptions): Promise<MigrateResult> {
  const started = Date.now();
  const path = sqlitePath(options.from);
  const target = postgresTarget(options.to);
  try {
    await prepareSqlite(path);
    await preparePostgres(options.to, target.schema);
    const db = new Database(path, { readonly: true, fileMustExist: true });
    try {
      const { counts, queued } = await copy(db, target, options.log);
      return { counts, queued, source: path, target: target.shown, schema: target.schema, ms: Date.now() - started };
    } finally {
      db.close();
    }
  } catch (error) {
    if (error instanceof StoreError) throw new StoreError(scrubPassword(error.message, options.to));
    throw new StoreError(`migrate-store: ${scrubPassword(errorText(error), options.to)}`);
  }
}

function sqlitePath(from: string): string {
  if (!from.startsWith('sqlite:')) throw new StoreError(`migrate-store: --from must be sqlite:PATH (got "${from.split(':')[0] ?? ''}:…")`);
  const path = from.slice('sqlite:'.length).replace(/^\/\/(?=\/)/u, '');
  if (!path) throw new StoreError('migrate-store: --from "sqlite:" needs a file path, e.g. sqlite:./data/steppewatch.db');
  if (path === ':memory:') throw new StoreError('migrate-store: --from sqlite::memory: is empty; name the database file');
  if (!existsSync(path)) throw new StoreError(`migrate-store: SQLite database ${path} does not exist`);
  if (!statSync(path).isFile()) throw new StoreError(`migrate-store: SQLite database ${path} is not a file`);
  return path;
}

interface Target {
  /** the URL without `schema=`, as PostgresStore.open takes it */
  url: string;
  schema: string;
  /** the URL as given, password masked */
  shown: string;
}

function postgresTarget(to: string): Target {
  const shown = redactUrl(to);
  if (!/^postgres(ql)?:\/\//u.test(to)) throw new StoreError(`migrate-store: --to must be postgres://… (got "${to.split(':')[0] ?? ''}:…")`);
  const { url, values } = takeQueryParam(to, 'schema');
  if (values.length > 1) throw new StoreError(`migrate-store: --to ${shown} names more than one schema`);
  const schema = values[0] ?? 'public';
  if (!SCHEMA_NAME.test(schema)) throw new StoreError(`migrate-store: --to ${shown}: schema must be 1 to 63 letters, digits or underscores (got "${schema}")`);
  return { url, schema, shown };
}

/**
 * Refuses a file a running worker uses, then brings it to the current schema through SqliteStore
 * (the only write made to it), or refuses one newer than this steppewatch.
 */
async function prepareSqlite(path: string): Promise<void> {
  let probe: Database.Database;
  try {
    probe = new Database(path, { readonly: true, fileMustExist: true });
  } catch (error) {
    throw new StoreError(`migrate-store: cannot open SQLite database ${path}: ${errorText(error)}`);
  }
  try {
    const version = probe.pragma('user_version', { simple: true }) as number;
    if (version > MIGRATIONS.length) {
      throw new StoreError(`migrate-store: SQLite database ${path} is at schema version ${version}, newer than this steppewatch (${MIGRATIONS.length}); upgrade steppewatch`);
    }
    const user = inUseBy(probe);
    if (user) {
      throw new StoreError(
        `migrate-store: SQLite database ${path} is in use: ${user}; stop every steppewatch worker on it first (what they write during the copy would be lost)`,
      );
    }
  } catch (error) {
    if (error instanceof StoreError) throw error;
    throw new StoreError(`migrate-store: cannot read SQLite database ${path}: ${errorText(error)}`);
  } finally {
    probe.close();
  }
  try {
    // Migrated on open, in one transaction; a schema newer than ours is refused by it.
    await new SqliteStore(path).close();
  } catch (error) {
    throw new StoreError(`migrate-store: cannot open SQLite database ${path}: ${errorText(error)}`);
  }
}

/** Who holds a live lease in the file (a role, a lock, a feed being polled), or null. */
function inUseBy(db: Database.Database): string | null {
  const tables = new Set(db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).pluck().all() as string[]);
  const now = Date.now();
  if (tables.has('locks')) {
    const rows = db.prepare('SELECT name, holder FROM locks WHERE expires_at >= ?').all(now) as Array<{ name: string; holder: string }>;
    for (const row of rows) if (holderAlive(row.holder)) return `process ${row.holder.split('-')[0] ?? '?'} holds "${row.name}"`;
  }
  const feedColumns = tables.has('feeds') ? (db.prepare('PRAGMA table_info(feeds)').all() as Array<{ name: string }>).map((c) => c.name) : [];
  if (feedColumns.includes('lease_until')) {
    const rows = db.prepare('SELECT url, lease_holder FROM feeds WHERE lease_until >= ? AND lease_holder IS NOT NULL').all(now) as Array<{ url: string; lease_holder: string }>;
    for (const row of rows) if (holderAlive(row.lease_holder)) return `process ${row.lease_holder.split('-')[0] ?? '?'} is polling ${row.url}`;
  }
  return null;
}

/** A holder id is `PID-random`: alive while that process runs (the file is on this machine). */
function holderAlive(holder: string): boolean {
  const pid = Number(holder.split('-')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Creates or migrates the target schema the way a worker would, so that it exists at the current version. */
async function preparePostgres(to: string, schema: string): Promise<void> {
  const { url } = takeQueryParam(to, 'schema');
  let store: PostgresStore;
  try {
    store = await PostgresStore.open(url, schema);
  } catch (error) {
    throw new StoreError(`migrate-store: cannot open PostgreSQL database ${redactUrl(to)} (schema ${schema}): ${errorText(error)}`);
  }
  await store.close();
}

async function connect(target: Target): Promise<pg.Client> {
  // As PostgresStore does: the URL's own `options` are kept beside ours.
  const { url, values: ownOptions } = takeQueryParam(target.url, 'options');
  const client = new pg.Client({
    connectionString: url,
    options: [...ownOptions, `-c search_path="${target.schema}"`].join(' '),
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    application_name: 'steppewatch migrate-store',
  });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

async function copy(db: Database.Database, target: Target, log: MigrateOptions['log']): Promise<{ counts: Record<MigratedTable, number>; queued: number }> {
  const q = (table: string): string => `"${target.schema}"."${table}"`;
  const client = await connect(target);
  try {
    await client.query('BEGIN');
    try {
      // Workers started on the target meanwhile wait for the copy instead of writing beside it,
      // and a second migration into the same schema waits, then finds it not empty.
      await client.query(`LOCK TABLE ${MIGRATED_TABLES.map(q).join(', ')} IN EXCLUSIVE MODE`);
      for (const table of MIGRATED_TABLES) {
        const { rows } = await client.query(`SELECT 1 FROM ${q(table)} LIMIT 1`);
        if (rows.length > 0) {
          throw new StoreError(`migrate-store: target ${target.shown} (schema ${target.schema}) is not empty (${table} has rows); migrate into an empty schema`);
        }
      }
      const columns = await matchSchemas(db, client, target.schema);

      // One read transaction: every table from the same snapshot of the file.
      db.exec('BEGIN');
      const counts = {} as Record<MigratedTable, number>;
      let queued = 0;
      try {
        checkForeignKeys(db);
        for (const table of MIGRATED_TABLES) {
          counts[table] = await copyTable(db, client, q(table), table, columns.get(table) ?? []);
          log?.info({ table, rows: counts[table] }, 'table copied');
        }
        queued = Number(db.prepare(`SELECT COUNT(*) FROM outbox WHERE status = 'pending'`).pluck().get());
      } finally {
        db.exec('COMMIT');
      }

      // ids were copied as they were: each serial column's next value follows the largest one.
      const { rows: serials } = await client.query<{ table_name: string; column_name: string }>(
        `SELECT table_name, column_name FROM information_schema.columns
         WHERE table_schema = $1 AND column_default LIKE 'nextval(%' ORDER BY table_name`,
        [target.schema],
      );
      for (const { table_name: table, column_name: column } of serials) {
        await client.query(
          `SELECT setval(pg_get_serial_sequence($1, $2), COALESCE((SELECT MAX("${column}") FROM ${q(table)}), 0) + 1, false)`,
          [q(table), column],
        );
      }
      await client.query('COMMIT');
      return { counts, queued };
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * The columns of each table, as PostgreSQL types them. Both schemas must hold exactly the same
 * tables and columns: anything the SQLite file has that the target has not would be lost.
 */
async function matchSchemas(db: Database.Database, client: pg.Client, schema: string): Promise<Map<MigratedTable, Column[]>> {
  const known = new Set<string>(MIGRATED_TABLES);
  const sqliteTables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`).pluck().all() as string[];
  const { rows: pgColumns } = await client.query<{ table_name: string; column_name: string; data_type: string }>(
    `SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c
     JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'
     WHERE c.table_schema = $1 ORDER BY c.table_name, c.ordinal_position`,
    [schema],
  );
  const pgTables = new Set(pgColumns.map((c) => c.table_name));
  const strange = [
    ...sqliteTables.filter((t) => !known.has(t) && !SQLITE_ONLY.has(t)).map((t) => `SQLite table ${t}`),
    ...[...pgTables].filter((t) => !known.has(t) && !POSTGRES_ONLY.has(t)).map((t) => `PostgreSQL table ${t}`),
  ];
  if (strange.length > 0) throw new StoreError(`migrate-store: this steppewatch does not know how to move ${strange.join(', ')}; upgrade steppewatch`);

  const columns = new Map<MigratedTable, Column[]>();
  for (const table of MIGRATED_TABLES) {
    const inPg = pgColumns.filter((c) => c.table_name === table);
    const inSqlite = new Set((db.prepare(`PRAGMA table_info("${table}")`).all() as Array<{ name: string }>).map((c) => c.name));
    if (inPg.length === 0) throw new StoreError(`migrate-store: the target schema ${schema} has no table ${table}`);
    if (inSqlite.size === 0) throw new StoreError(`migrate-store: the SQLite database has no table ${table}`);
    const missing = [
      ...inPg.filter((c) => !inSqlite.has(c.column_name)).map((c) => `${table}.${c.column_name} is not in SQLite`),
      ...[...inSqlite].filter((name) => !inPg.some((c) => c.column_name === name)).map((name) => `${table}.${name} is not in PostgreSQL`),
    ];
    if (missing.length > 0) throw new StoreError(`migrate-store: the schemas differ (${missing.join('; ')}); upgrade steppewatch`);
    columns.set(
      table,
      inPg.map((c) => {
        if (!PG_TYPES.has(c.data_type)) throw new StoreError(`migrate-store: ${table}.${c.column_name} has type ${c.data_type}, which migrate-store cannot convert`);
        return { name: c.column_name, type: c.data_type as PgType, copied: !NOT_COPIED[table]?.has(c.column_name) };
      }),
    );
  }
  return columns;
}

/** Rows that refer to rows that are not there would fail PostgreSQL's foreign keys halfway: say which, up front. */
function checkForeignKeys(db: Database.Database): void {
  const violations = db.prepare('PRAGMA foreign_key_check').all() as Array<{ table: string; rowid: number | null; parent: string }>;
  const relevant = violations.filter((v) => (MIGRATED_TABLES as readonly string[]).includes(v.table));
  if (relevant.length === 0) return;
  const byTable = new Map<string, number>();
  for (const v of relevant) byTable.set(`${v.table} → ${v.parent}`, (byTable.get(`${v.table} → ${v.parent}`) ?? 0) + 1);
  const list = [...byTable].map(([what, n]) => `${n} in ${what}`).join(', ');
  throw new StoreError(`migrate-store: the SQLite database has rows that refer to missing rows (${list}); PostgreSQL would refuse them`);
}

/** Copies one table in batches, in rowid order; returns how many rows it moved. */
async function copyTable(db: Database.Database, client: pg.Client, qualified: string, table: MigratedTable, columns: Column[]): Promise<number> {
  const read = db.prepare(`SELECT rowid AS "__rowid", ${columns.map((c) => `"${c.name}"`).join(', ')} FROM "${table}" WHERE rowid > ? ORDER BY rowid LIMIT ?`);
  // Integers as BigInt: exact whatever their size (pg gets them as strings).
  read.safeIntegers(true);
  const names = columns.map((c) => `"${c.name}"`).join(', ');
  const insert = `INSERT INTO ${qualified} (${names})
    SELECT ${names} FROM unnest(${columns.map((c, i) => `$${i + 1}::${c.type}[]`).join(', ')})
      WITH ORDINALITY AS u(${names}, "__ord") ORDER BY "__ord"`;
  let after = -1n;
  let total = 0;
  for (;;) {
    const rows = read.all(after, BATCH_ROWS) as Array<Record<string, unknown>>;
    if (rows.length === 0) break;
    after = rows[rows.length - 1]?.__rowid as bigint;
    // Split so that no one statement carries more than BATCH_BYTES.
    let start = 0;
    while (start < rows.length) {
      let end = start;
      let bytes = 0;
      while (end < rows.length && (end === start || bytes < BATCH_BYTES)) bytes += rowBytes(rows[end++] ?? {});
      const slice = rows.slice(start, end);
      const arrays = columns.map((c) => slice.map((row) => (c.copied ? convert(row[c.name], c, table) : null)));
      const result = await client.query(insert, arrays).catch((error: unknown) => {
        throw new StoreError(`migrate-store: copying ${table} failed: ${errorText(error)}`);
      });
      if (result.rowCount !== slice.length) throw new StoreError(`migrate-store: copying ${table}: ${slice.length} rows read, ${result.rowCount ?? 0} written`);
      total += slice.length;
      start = end;
    }
  }
  return total;
}

function rowBytes(row: Record<string, unknown>): number {
  let bytes = 0;
  for (const value of Object.values(row)) bytes += typeof value === 'string' ? value.length * 2 : value instanceof Buffer ? value.length * 2 : 8;
  return bytes;
}

/** A SQLite value as pg takes it for a column of `column.type`. */
function convert(value: unknown, column: Column, table: string): unknown {
  if (value === null || value === undefined) return null;
  const bad = (): never => {
    throw new StoreError(`migrate-store: ${table}.${column.name} holds a ${value instanceof Buffer ? 'BLOB' : typeof value} where ${column.type} belongs`);
  };
  switch (column.type) {
    case 'bigint':
    case 'integer':
      return typeof value === 'bigint' ? value.toString() : typeof value === 'number' && Number.isInteger(value) ? String(value) : bad();
    case 'boolean':
      // SQLite keeps booleans as 0 and 1.
      return typeof value === 'bigint' ? value !== 0n : typeof value === 'number' ? value !== 0 : bad();
    case 'text':
      return typeof value === 'string' ? value : typeof value === 'bigint' || typeof value === 'number' ? String(value) : bad();
    case 'bytea':
      return value instanceof Buffer ? value : bad();
  }
}

