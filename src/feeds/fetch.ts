// Fetches a feed's bytes over HTTP, politely and within limits: conditional GET, at most 5
// redirects (permanent ones reported so the caller can remember the new URL), connect and total
// timeouts, a byte cap enforced while streaming the *decoded* body (so a gzip bomb stops at the
// cap), and 429/503 turned into a typed "come back later" carrying Retry-After.

import { Agent, fetch, Pool, type Response } from 'undici';
import { PRODUCT_USER_AGENT } from '../version.js';
import type { AddressAllowList} from './address.js';
import type { CacheHeaders } from './pace.js';
import { AddressRefused, checkDestination, publicOnlyLookup, type Resolver } from './address.js';

export const MAX_REDIRECTS = 5;

export interface FetchRequest {
  url: string;
  etag?: string | null;
  lastModified?: string | null;
  timeoutMs: number;
  maxBytes: number;
  /** aborts the request early (shutdown) */
  signal?: AbortSignal;
  /** connection pool with the connect timeout; one is shared per process when not given */
  agent?: Agent;
  /**
   * where the request may connect: without it (inspect, tests of the fetcher) anywhere; with it,
   * every hop is checked, and private addresses refused unless `allowPrivate` (the configured
   * URL is itself private) or the allow-list says so
   */
  access?: { allowPrivate: boolean; allowList: AddressAllowList; resolver?: Resolver; checkedAtConnect?: boolean };
}

export type FetchResult =
  | {
      kind: 'not-modified';
      permanentRedirect: string | null;
      /** the answer's caching headers: how soon the feed may be asked again (pace.ts) */
      cache: CacheHeaders;
    }
  | {
      kind: 'ok';
      /** the URL after redirects */
      url: string;
      /** where every hop was permanent (301/308): the URL to poll from now on */
      permanentRedirect: string | null;
      body: Uint8Array;
      contentType: string | null;
      etag: string | null;
      lastModified: string | null;
      /** the answer's caching headers: how soon the feed may be asked again (pace.ts) */
      cache: CacheHeaders;
      /** the response's Link header (WebSub discovery: rel="hub", rel="self") */
      link?: string | null;
    };

export type FetchErrorKind = 'timeout' | 'too-large' | 'http' | 'throttled' | 'redirect' | 'network' | 'refused';

/** A fetch that failed; `kind` says how, so callers branch without reading messages. */
export class FetchError extends Error {
  constructor(
    readonly kind: FetchErrorKind,
    message: string,
    readonly status?: number,
    /** for `throttled`: how long the server asked us to wait, when it said */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'FetchError';
  }
}

const NETWORK_ERRORS: Record<string, string> = {
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  UND_ERR_CONNECT_TIMEOUT: 'connect timeout',
  UND_ERR_SOCKET: 'connection closed',
  CERT_HAS_EXPIRED: 'TLS certificate expired',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'TLS certificate not trusted',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'TLS certificate self-signed',
  ERR_TLS_CERT_ALTNAME_INVALID: 'TLS certificate for another host',
};

let sharedAgent: Agent | null = null;

export interface FeedAgentOptions {
  connectTimeoutMs?: number;
  /** connect only to public addresses (and these exceptions): the socket is checked at connect */
  publicOnly?: AddressAllowList;
  /** connections one host may have open (its per_host limit) */
  connectionsFor?: (host: string) => number;
  /** certificate authorities to trust besides the system's (tests' own servers) */
  ca?: string;
}

/**
 * A connection pool whose connects give up after `connectTimeoutMs`; with `publicOnly`, its
 * sockets refuse private addresses at connect time (what a name resolves to then, not before).
 */
export function createFeedAgent(options: FeedAgentOptions = {}): Agent {
  const { connectTimeoutMs = 10_000, publicOnly, connectionsFor, ca } = options;
  return new Agent({
    connect: { timeout: connectTimeoutMs, ...(publicOnly ? { lookup: publicOnlyLookup(publicOnly) } : {}), ...(ca ? { ca } : {}) },
    // Connections are kept and reused: one host's many feeds share them.
    keepAliveTimeout: 10_000,
    // HTTP/2 where the server offers it (ALPN): many requests on one connection, faster and politer.
    allowH2: true,
    // At most the host's limit of sockets, even in the moment between a response read and its
    // socket marked free (else a new request opens one more): the politeness bound is on connections.
    ...(connectionsFor ? { factory: (origin: string | URL, poolOptions: Pool.Options) => new Pool(origin, { ...poolOptions, connections: connectionsFor(new URL(origin).host) }) } : {}),
  });
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/u.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

async function readCapped(response: Response, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  // Content-Length counts encoded bytes; only an identity body can be refused up front.
  if (!response.headers.get('content-encoding') && declared > maxBytes) {
    throw new FetchError('too-large', `body of ${declared} bytes exceeds the cap of ${maxBytes}`);
  }
  if (!response.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of response.body) {
    const bytes = chunk as Uint8Array;
    total += bytes.byteLength;
    if (total > maxBytes) {
      await response.body.cancel().catch(() => undefined);
      throw new FetchError('too-large', `body exceeds the cap of ${maxBytes} bytes`);
    }
    chunks.push(bytes);
  }
  return Buffer.concat(chunks);
}

/** The headers that say how long an answer stays fresh. */
function cacheHeaders(response: Response): CacheHeaders {
  const get = (name: string) => response.headers.get(name);
  return { cacheControl: get('cache-control'), expires: get('expires'), date: get('date'), age: get('age'), retryAfter: get('retry-after') };
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** GETs a feed, following redirects by hand; a 304 is a result, not an error. */
export async function fetchFeed(request: FetchRequest): Promise<FetchResult> {
  const headers: Record<string, string> = {
    'user-agent': PRODUCT_USER_AGENT,
    accept: 'application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5',
  };
  if (request.etag) headers['if-none-match'] = request.etag;
  if (request.lastModified) headers['if-modified-since'] = request.lastModified;

  const timeout = AbortSignal.timeout(request.timeoutMs);
  const signal = request.signal ? AbortSignal.any([timeout, request.signal]) : timeout;
  const dispatcher = request.agent ?? (sharedAgent ??= createFeedAgent());
  let url = request.url;
  let permanent = true;
  try {
    for (let hop = 0; ; hop++) {
      if (request.access) await checkDestination(url, request.access);
      const response = await fetch(url, { headers, signal, redirect: 'manual', dispatcher });
      const location = response.headers.get('location');
      if (REDIRECTS.has(response.status) && location) {
        await response.body?.cancel().catch(() => undefined);
        if (hop >= MAX_REDIRECTS) throw new FetchError('redirect', `more than ${MAX_REDIRECTS} redirects`);
        const next = new URL(location, url);
        if (next.protocol !== 'http:' && next.protocol !== 'https:') {
          throw new FetchError('redirect', `redirect to a ${next.protocol} URL refused`);
        }
        permanent &&= response.status === 301 || response.status === 308;
        url = next.href;
        continue;
      }
      const permanentRedirect = permanent && url !== request.url ? url : null;
      if (response.status === 304) {
        await response.body?.cancel().catch(() => undefined);
        return { kind: 'not-modified', permanentRedirect, cache: cacheHeaders(response) };
      }
      if (response.status === 429 || response.status === 503) {
        await response.body?.cancel().catch(() => undefined);
        const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
        throw new FetchError('throttled', `HTTP ${response.status} ${response.statusText}`.trim(), response.status, retryAfterMs);
      }
      if (!response.ok) {
        await response.body?.cancel().catch(() => undefined);
        throw new FetchError('http', `HTTP ${response.status} ${response.statusText}`.trim(), response.status);
      }
      const body = await readCapped(response, request.maxBytes);
      return {
        kind: 'ok',
        url,
        permanentRedirect,
        body,
        contentType: response.headers.get('content-type'),
        etag: response.headers.get('etag'),
        lastModified: response.headers.get('last-modified'),
        cache: cacheHeaders(response),
        link: response.headers.get('link'),
      };
    }
  } catch (error) {
    if (error instanceof FetchError) throw error;
    if (error instanceof AddressRefused) throw new FetchError('refused', error.message);
    if (timeout.aborted) throw new FetchError('timeout', `no complete answer within ${request.timeoutMs} ms`);
    if (signal.aborted) throw new FetchError('network', 'aborted: shutting down');
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    if (cause instanceof AddressRefused) throw new FetchError('refused', cause.message);
    const code = cause?.code ?? '';
    const reason = NETWORK_ERRORS[code] ?? cause?.message ?? (error as Error).message;
    throw new FetchError('network', code && !reason.includes(code) ? `${reason} (${code})` : reason);
  }
}
