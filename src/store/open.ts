// Opens the store named by DATABASE_URL.

import { PostgresStore, SCHEMA_NAME, takeQueryParam } from './postgres.js';
import { storeProblem } from './problem.js';
import { SqliteStore } from './sqlite.js';
import type { Store } from './store.js';

export const DEFAULT_DATABASE_URL = 'sqlite:./data/steppewatch.db';

export class StoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreError';
  }
}

/** `sqlite:PATH` (or `sqlite::memory:`), or `postgres://…` (optionally `?schema=NAME`); migrated on open. */
export async function openStore(databaseUrl: string = DEFAULT_DATABASE_URL): Promise<Store> {
  if (databaseUrl.startsWith('sqlite:')) {
    const path = databaseUrl.slice('sqlite:'.length).replace(/^\/\/(?=\/)/u, '');
    if (!path) throw new StoreError('DATABASE_URL "sqlite:" needs a file path, e.g. sqlite:./data/steppewatch.db');
    try {
      return new SqliteStore(path);
    } catch (error) {
      throw new StoreError(`cannot open SQLite database ${path}: ${storeProblem(error, 'the file') ?? (error as Error).message}`);
    }
  }
  if (/^postgres(ql)?:\/\//u.test(databaseUrl)) return openPostgres(databaseUrl);
  throw new StoreError(`DATABASE_URL must start with sqlite: or postgres:// (got "${databaseUrl.split(':')[0] ?? ''}:…")`);
}

async function openPostgres(databaseUrl: string): Promise<Store> {
  const shown = redactUrl(databaseUrl);
  const { url, values } = takeQueryParam(databaseUrl, 'schema');
  if (values.length > 1) throw new StoreError(`DATABASE_URL ${shown} names more than one schema`);
  const schema = values[0] ?? 'public';
  if (!SCHEMA_NAME.test(schema)) {
    throw new StoreError(`DATABASE_URL ${shown}: schema must be 1 to 63 letters, digits or underscores (got "${schema}")`);
  }
  try {
    return await PostgresStore.open(url, schema);
  } catch (error) {
    throw new StoreError(`cannot open PostgreSQL database ${shown} (schema ${schema}): ${scrubPassword(errorText(error), databaseUrl)}`);
  }
}

/** The URL with its password (if any, in the userinfo or as `password=`) masked: `postgres://user:***@host/db`. */
export function redactUrl(databaseUrl: string): string {
  return databaseUrl.replace(/([?&]password=)[^&#]*/giu, '$1***').replace(/^(postgres(?:ql)?:\/\/)([^/?#]*)@/u, (_match, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(':');
    return colon === -1 ? `${scheme}${userinfo}@` : `${scheme}${userinfo.slice(0, colon)}:***@`;
  });
}

/** An error's message, however pg or Node put it (a refused connection to several addresses has none of its own). */
export function errorText(error: unknown): string {
  if (error instanceof AggregateError && !error.message) {
    const inner = error.errors.map((e) => errorText(e)).filter(Boolean);
    if (inner.length > 0) return [...new Set(inner)].join('; ');
  }
  if (error instanceof Error) {
    const code = 'code' in error && typeof error.code === 'string' ? error.code : '';
    return error.message || code || error.name;
  }
  return String(error);
}

/** `message` without the URL's password, in whatever form it might appear. */
export function scrubPassword(message: string, databaseUrl: string): string {
  const userinfo = /^postgres(?:ql)?:\/\/([^/?#]*)@/u.exec(databaseUrl)?.[1];
  const colon = userinfo?.indexOf(':') ?? -1;
  const secrets = [userinfo !== undefined && colon !== -1 ? userinfo.slice(colon + 1) : ''];
  for (const match of databaseUrl.matchAll(/[?&]password=([^&#]*)/giu)) secrets.push(match[1] ?? '');
  let scrubbed = message.split(databaseUrl).join(redactUrl(databaseUrl));
  for (const raw of secrets.filter(Boolean)) {
    let decoded = raw;
    try {
      decoded = decodeURIComponent(raw);
    } catch {
      // not percent-encoded
    }
    for (const secret of new Set([raw, decoded])) if (secret) scrubbed = scrubbed.split(secret).join('***');
  }
  return scrubbed;
}
