// Fetches a feed's bytes over HTTP: conditional GET, a total timeout and a byte cap enforced
// while streaming, so a hanging or huge server costs at most the limits.

import { PRODUCT_USER_AGENT } from '../version.js';

export interface FetchRequest {
  url: string;
  etag?: string | null;
  lastModified?: string | null;
  timeoutMs: number;
  maxBytes: number;
  /** aborts the request early (shutdown) */
  signal?: AbortSignal;
}

export type FetchResult =
  | { kind: 'not-modified' }
  | {
      kind: 'ok';
      /** the URL after redirects */
      url: string;
      body: Uint8Array;
      contentType: string | null;
      etag: string | null;
      lastModified: string | null;
    };

export type FetchErrorKind = 'timeout' | 'too-large' | 'http' | 'network';

/** A fetch that failed; `kind` says how, so callers branch without reading messages. */
export class FetchError extends Error {
  constructor(
    readonly kind: FetchErrorKind,
    message: string,
    readonly status?: number,
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

async function readCapped(response: Response, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > maxBytes) throw new FetchError('too-large', `body of ${declared} bytes exceeds the cap of ${maxBytes}`);
  if (!response.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let total = 0;
  // Node's fetch types the body loosely; it yields bytes.
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw new FetchError('too-large', `body exceeds the cap of ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

/** GETs a feed; a 304 is a result, not an error. */
export async function fetchFeed(request: FetchRequest): Promise<FetchResult> {
  const headers: Record<string, string> = {
    'user-agent': PRODUCT_USER_AGENT,
    accept: 'application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5',
  };
  if (request.etag) headers['if-none-match'] = request.etag;
  if (request.lastModified) headers['if-modified-since'] = request.lastModified;

  const timeout = AbortSignal.timeout(request.timeoutMs);
  const signal = request.signal ? AbortSignal.any([timeout, request.signal]) : timeout;
  try {
    const response = await fetch(request.url, { headers, signal, redirect: 'follow' });
    if (response.status === 304) {
      await response.body?.cancel();
      return { kind: 'not-modified' };
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new FetchError('http', `HTTP ${response.status} ${response.statusText}`.trim(), response.status);
    }
    const body = await readCapped(response, request.maxBytes);
    return {
      kind: 'ok',
      url: response.url || request.url,
      body,
      contentType: response.headers.get('content-type'),
      etag: response.headers.get('etag'),
      lastModified: response.headers.get('last-modified'),
    };
  } catch (error) {
    if (error instanceof FetchError) throw error;
    if (timeout.aborted) throw new FetchError('timeout', `no complete answer within ${request.timeoutMs} ms`);
    if (signal.aborted) throw new FetchError('network', 'aborted: shutting down');
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const code = cause?.code ?? '';
    const reason = NETWORK_ERRORS[code] ?? cause?.message ?? (error as Error).message;
    throw new FetchError('network', code && !reason.includes(code) ? `${reason} (${code})` : reason);
  }
}
