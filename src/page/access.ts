// Who may see the operator page. It is off unless http.page is true; on loopback it is open to
// this machine (or behind a password, when one is set); beyond loopback it needs basic auth, and a
// config that would expose it without one is refused at start.

import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { ConfigError, type Config } from '../config/load.js';

export interface Credentials {
  user: string;
  password: string;
}

/** Whether `host` (as the server binds it) is reachable from this machine only. */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/gu, '').toLowerCase();
  if (bare === 'localhost' || bare === '::1') return true;
  return isIP(bare) === 4 && bare.startsWith('127.');
}

/**
 * The page's credentials (the environment's over the config's), or null where none are needed;
 * throws ConfigError naming http.auth when the page would be served beyond loopback without them.
 */
export function pageCredentials(config: Config, host: string, env: { HTTP_AUTH_USER?: string; HTTP_AUTH_PASSWORD?: string }): Credentials | null {
  if (!config.http.page) return null;
  const user = env.HTTP_AUTH_USER ?? config.http.auth?.user;
  const password = env.HTTP_AUTH_PASSWORD ?? config.http.auth?.password;
  if (user !== undefined && password !== undefined) return { user, password };
  if (user !== undefined || password !== undefined) {
    throw new ConfigError(config.file, [{ path: 'http.auth', message: `has a ${user === undefined ? 'password' : 'user'} but no ${user === undefined ? 'user' : 'password'} (from the config or HTTP_AUTH_USER / HTTP_AUTH_PASSWORD)` }]);
  }
  if (isLoopback(host)) return null;
  throw new ConfigError(config.file, [
    {
      path: 'http.auth',
      message: `is needed: http.page is on and the server listens on ${host}, beyond this machine; set http.auth (user, password) or HTTP_AUTH_USER and HTTP_AUTH_PASSWORD, or keep http.host 127.0.0.1`,
    },
  ]);
}

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/** Whether an Authorization header carries these credentials (compared in constant time). */
export function authorized(header: string | undefined, credentials: Credentials): boolean {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/iu.exec(header ?? '');
  if (!match?.[1]) return false;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return false;
  // Both compared, whatever the first says, and as digests of one length: the time taken tells nothing.
  const userOk = timingSafeEqual(digest(decoded.slice(0, colon)), digest(credentials.user));
  const passwordOk = timingSafeEqual(digest(decoded.slice(colon + 1)), digest(credentials.password));
  return userOk && passwordOk;
}
