// Opens the store named by DATABASE_URL.

import { SqliteStore } from './sqlite.js';
import type { Store } from './store.js';

export const DEFAULT_DATABASE_URL = 'sqlite:./data/steppewatch.db';

export class StoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreError';
  }
}

/** `sqlite:PATH` (or `sqlite::memory:`); PostgreSQL is planned but not built yet. */
export function openStore(databaseUrl: string = DEFAULT_DATABASE_URL): Store {
  if (databaseUrl.startsWith('sqlite:')) {
    const path = databaseUrl.slice('sqlite:'.length).replace(/^\/\/(?=\/)/u, '');
    if (!path) throw new StoreError('DATABASE_URL "sqlite:" needs a file path, e.g. sqlite:./data/steppewatch.db');
    try {
      return new SqliteStore(path);
    } catch (error) {
      throw new StoreError(`cannot open SQLite database ${path}: ${(error as Error).message}`);
    }
  }
  if (/^postgres(ql)?:\/\//u.test(databaseUrl)) {
    throw new StoreError('PostgreSQL is not supported by this version yet; use DATABASE_URL=sqlite:PATH');
  }
  throw new StoreError(`DATABASE_URL must start with sqlite: or postgres:// (got "${databaseUrl.split(':')[0] ?? ''}:…")`);
}
