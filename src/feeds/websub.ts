// The subscriber side of WebSub (W3C Recommendation, https://www.w3.org/TR/websub/): finding a
// feed's hub (Link headers first, then the document's own links), asking the hub to subscribe or
// unsubscribe us, checking the signature of what it pushes, and when to renew a lease.
// No I/O but the hub requests, which keep the fetcher's rule: a private address only for a local feed.

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { Parser } from 'htmlparser2';
import { fetch, type Agent } from 'undici';
import { PRODUCT_USER_AGENT } from '../version.js';
import { AddressRefused, checkDestination, type AddressAllowList } from './address.js';
import { safeLink } from './adapt.js';

/** A hub and the topic (the feed's rel="self" URL) to subscribe to at it. */
export interface WebsubDiscovery {
  hub: string;
  topic: string;
}

/** What one source (a Link header, a document) says: its hubs, and its self URL. */
export interface WebsubLinks {
  hubs: string[];
  self: string | null;
}

const NO_LINKS: WebsubLinks = { hubs: [], self: null };

/**
 * The links of an HTTP Link header (RFC 8288) with rel hub or self, resolved against `base`.
 * Commas inside <…> and quoted strings do not split; a rel may list several types ("hub self").
 */
export function linksFromHeader(header: string | null | undefined, base: string): WebsubLinks {
  if (!header) return NO_LINKS;
  const hubs: string[] = [];
  let self: string | null = null;
  const LINK = /<([^>]*)>((?:\s*;\s*[^;,=\s]+\s*(?:=\s*(?:"(?:[^"\\]|\\.)*"|[^;,\s]*))?)*)/gu;
  for (const match of header.matchAll(LINK)) {
    const href = safeLink(match[1] ?? '', base);
    if (!href) continue;
    const rel = /;\s*rel\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;,\s]*))/iu.exec(match[2] ?? '');
    const rels = (rel?.[1] ?? rel?.[2] ?? '').toLowerCase().split(/\s+/u);
    if (rels.includes('hub') && !hubs.includes(href)) hubs.push(href);
    if (rels.includes('self')) self ??= href;
  }
  return { hubs, self };
}

/** The head of an XML feed is where its links are: what comes before its first item or entry. */
const FIRST_ITEM = /<(?:[\w.-]+:)?(?:item|entry)[\s>/]/u;
const HEAD_CHARS = 256 * 1024;

/**
 * The rel="hub" and rel="self" links of an RSS, RDF or Atom document: <atom:link> in RSS,
 * <link> in Atom, before the first item (an item's own links are not the feed's).
 */
export function linksFromXml(text: string, base: string): WebsubLinks {
  const firstItem = FIRST_ITEM.exec(text);
  const head = text.slice(0, Math.min(firstItem?.index ?? text.length, HEAD_CHARS));
  const hubs: string[] = [];
  let self: string | null = null;
  const parser = new Parser(
    {
      onopentag(name, attrs) {
        if (name !== 'link' && !name.endsWith(':link')) return;
        const href = safeLink(attrs['href'], base);
        if (!href) return;
        const rels = (attrs['rel'] ?? '').toLowerCase().split(/\s+/u);
        if (rels.includes('hub') && !hubs.includes(href)) hubs.push(href);
        if (rels.includes('self')) self ??= href;
      },
    },
    { xmlMode: true },
  );
  parser.write(head);
  parser.end();
  return { hubs, self };
}

/**
 * Where to subscribe a feed, or null when it names no hub. The Link header wins over the document
 * (the spec's order); the topic is the self URL, else the URL the feed was fetched at.
 */
export function discoverHub(sources: { header: WebsubLinks; document: WebsubLinks; fetchedUrl: string }): WebsubDiscovery | null {
  const { header, document } = sources;
  const fromHeader = header.hubs.length > 0;
  const hub = fromHeader ? header.hubs[0] : document.hubs[0];
  if (hub === undefined) return null;
  const topic = (fromHeader ? (header.self ?? document.self) : (document.self ?? header.self)) ?? sources.fetchedUrl;
  return { hub, topic };
}


export type SignatureVerdict = 'valid' | 'missing' | 'unsupported' | 'invalid';

const ALGORITHMS = new Set(['sha1', 'sha256', 'sha384', 'sha512']);

/**
 * Checks X-Hub-Signature ("sha256=<hex>") over the exact body bytes with the subscription's
 * secret, in constant time. Only `valid` content may be used.
 */
export function verifySignature(header: string | null | undefined, body: Uint8Array, secret: string): SignatureVerdict {
  if (!header) return 'missing';
  const match = /^\s*([a-z0-9]+)=([0-9a-f]+)\s*$/iu.exec(header);
  if (!match) return 'invalid';
  const algorithm = (match[1] ?? '').toLowerCase();
  if (!ALGORITHMS.has(algorithm)) return 'unsupported';
  const expected = createHmac(algorithm, secret).update(body).digest();
  const given = Buffer.from((match[2] ?? '').toLowerCase(), 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected) ? 'valid' : 'invalid';
}

/** The callback id: 128 random bits, URL-safe. */
export function newCallbackId(): string {
  return randomBytes(16).toString('base64url');
}

/** A per-subscription secret (the spec allows up to 200 bytes): 256 random bits as hex. */
export function newSecret(): string {
  return randomBytes(32).toString('hex');
}

/**
 * When to renew a lease that began at `verifiedAt` for `leaseSeconds`: at 80% of it, so a slow
 * or failing hub has the last fifth to answer (and a retry) before pushes stop.
 */
export function renewalDue(verifiedAt: number, leaseSeconds: number): number {
  return verifiedAt + Math.floor(leaseSeconds * 1000 * 0.8);
}

export interface HubRequest {
  mode: 'subscribe' | 'unsubscribe';
  hub: string;
  topic: string;
  callback: string;
  /** subscribe only */
  secret?: string;
  leaseSeconds?: number;
}

export interface HubAccess {
  /** the hub may be on a private address: the feed itself is (a local feed) */
  allowPrivate: boolean;
  allowList: AddressAllowList;
  agent?: Agent;
  timeoutMs: number;
}

/** The hub did not accept a (un)subscription request; `message` says why, without the secret. */
export class HubRequestError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'HubRequestError';
  }
}

/**
 * POSTs a (un)subscription request to the hub; resolves when the hub accepted it (2xx, normally
 * 202: it verifies our intent at the callback next). Redirects are not followed: a hub that moves
 * is found again at the next poll.
 */
export async function requestAtHub(request: HubRequest, access: HubAccess): Promise<void> {
  const form = new URLSearchParams({ 'hub.mode': request.mode, 'hub.topic': request.topic, 'hub.callback': request.callback });
  if (request.secret !== undefined) form.set('hub.secret', request.secret);
  if (request.leaseSeconds !== undefined) form.set('hub.lease_seconds', String(request.leaseSeconds));
  try {
    await checkDestination(request.hub, { allowPrivate: access.allowPrivate, allowList: access.allowList });
    const response = await fetch(request.hub, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': PRODUCT_USER_AGENT },
      body: form.toString(),
      redirect: 'manual',
      signal: AbortSignal.timeout(access.timeoutMs),
      ...(access.agent ? { dispatcher: access.agent } : {}),
    });
    const said = (await response.text().catch(() => '')).slice(0, 200).trim();
    if (response.status < 200 || response.status > 299) {
      throw new HubRequestError(`hub answered HTTP ${response.status}${said ? `: ${said}` : ''}`, response.status);
    }
  } catch (error) {
    if (error instanceof HubRequestError) throw error;
    if (error instanceof AddressRefused) throw new HubRequestError(error.message);
    const cause = (error as { cause?: { message?: string } }).cause;
    throw new HubRequestError(`hub not reached: ${cause?.message ?? (error as Error).message}`);
  }
}
