// Database failures in words: each case is the real driver's error, met on a real database.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { storeProblem } from '../../src/store/problem.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'steppewatch-problem-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** The error `run` throws. */
function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

describe('storeProblem on SQLite', () => {
  it('names the fix for a file that cannot be written', () => {
    const file = join(dir, 'a.db');
    new Database(file).exec('CREATE TABLE t (x)');
    const readOnly = new Database(file, { readonly: true });
    const problem = storeProblem(thrown(() => readOnly.exec('INSERT INTO t VALUES (1)')));
    readOnly.close();
    expect(problem).toBe(
      'the SQLite database cannot be written (attempt to write a readonly database): make the file, its -wal and -shm files and the directory they are in writable by the user running steppewatch',
    );
  });

  it('names the fix for a damaged file and a full disk', () => {
    const garbage = join(dir, 'garbage.db');
    writeFileSync(garbage, Buffer.alloc(4096, 7));
    const damaged = new Database(garbage);
    expect(storeProblem(thrown(() => damaged.exec('SELECT * FROM sqlite_master')), 'the file')).toMatch(
      /^the file is damaged \(file is not a database\): stop steppewatch, then restore the file from a backup/u,
    );
    damaged.close();

    // A database that may grow no further answers as a full disk does.
    const full = new Database(join(dir, 'full.db'));
    full.exec('CREATE TABLE t (x)');
    full.pragma('max_page_count = 3');
    const problem = storeProblem(thrown(() => full.exec(`INSERT INTO t VALUES (zeroblob(100000))`)));
    full.close();
    expect(problem).toBe(
      'the disk holding the SQLite database is full (database or disk is full): free some space; queued alerts are kept and go out once writes succeed again',
    );
  });

  it('leaves our own mistakes (a constraint, bad SQL) and other errors to their stack', () => {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE t (x PRIMARY KEY)');
    db.exec('INSERT INTO t VALUES (1)');
    expect(storeProblem(thrown(() => db.exec('INSERT INTO t VALUES (1)')))).toBeNull();
    expect(storeProblem(thrown(() => db.exec('SELEKT 1')))).toBeNull();
    db.close();
    expect(storeProblem(new RangeError('Maximum call stack size exceeded'))).toBeNull();
    expect(storeProblem('not an error')).toBeNull();
  });
});

const databaseUrl = process.env.TEST_DATABASE_URL;
// Without TEST_DATABASE_URL (a developer machine without PostgreSQL) this half is skipped; CI sets it.
describe.skipIf(!databaseUrl)('storeProblem on PostgreSQL', () => {
  it('names the fix for a server that accepts no writes, and for one that cannot be reached', async () => {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      await client.query('SET default_transaction_read_only = on');
      const error = await client.query('CREATE TEMP TABLE steppewatch_problem (x int)').then(
        () => null,
        (e: unknown) => e,
      );
      expect(storeProblem(error)).toBe(
        'the PostgreSQL database accepts no writes (cannot execute CREATE TABLE in a read-only transaction): it is a standby or read-only; point DATABASE_URL at the primary',
      );
    } finally {
      await client.end();
    }

    const nobody = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:1/test', connectionTimeoutMillis: 2_000 });
    const refused = await nobody.connect().then(
      () => null,
      (e: unknown) => e,
    );
    expect(storeProblem(refused)).toMatch(/^the database server cannot be reached \(.*ECONNREFUSED.*\): check that it runs and that DATABASE_URL points at it/u);
  });
});
