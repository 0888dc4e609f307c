// PostgreSQL for tests: the server named by TEST_DATABASE_URL, one fresh schema per test, so that
// tests (and test files running in parallel) share one database without seeing each other's rows.

import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { onTestFinished } from 'vitest';
import { takeQueryParam } from '../../src/store/postgres.js';

/**
 * The database the PostgreSQL tests use, or undefined where there is none: a developer without
 * PostgreSQL still runs every SQLite test, and the PostgreSQL half of a suite is skipped (with
 * `describe.skipIf(!testDatabaseUrl())`). CI must run them for real: there it is an error.
 */
export function testDatabaseUrl(): string | undefined {
  const url = process.env.TEST_DATABASE_URL;
  if (url) return url;
  if (process.env.CI) throw new Error('TEST_DATABASE_URL is not set: CI must run the PostgreSQL tests (.ci/run sets it)');
  return undefined;
}

export interface TestSchema {
  /** `postgres://…?schema=NAME`, for openStore */
  url: string;
  /** the URL without the schema, for PostgresStore.open or a plain pg client */
  connectionString: string;
  schema: string;
  /** drops the schema and everything in it (close its stores first) */
  drop(): Promise<void>;
}

function requireUrl(): string {
  const url = testDatabaseUrl();
  if (!url) throw new Error('TEST_DATABASE_URL is not set (skip PostgreSQL tests with describe.skipIf(!testDatabaseUrl()))');
  return takeQueryParam(url, 'schema').url;
}

/** Runs `fn` with a client on the test database, closed afterwards. */
export async function withTestClient<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: requireUrl() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates a new empty schema `sw_test_<random>`; the caller drops it. */
export async function createTestSchema(): Promise<TestSchema> {
  const connectionString = requireUrl();
  const schema = `sw_test_${randomBytes(6).toString('hex')}`;
  await withTestClient((client) => client.query(`CREATE SCHEMA "${schema}"`));
  const separator = connectionString.includes('?') ? '&' : '?';
  return {
    url: `${connectionString}${separator}schema=${schema}`,
    connectionString,
    schema,
    drop: async () => {
      await withTestClient((client) => client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
    },
  };
}

/** A new schema for the running test, dropped when it finishes (after its afterEach hooks). */
export async function useTestSchema(): Promise<TestSchema> {
  const schema = await createTestSchema();
  onTestFinished(() => schema.drop());
  return schema;
}
