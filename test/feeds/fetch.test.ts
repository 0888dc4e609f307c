import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gzipSync, brotliCompressSync } from 'node:zlib';
import { FetchError, fetchFeed, parseRetryAfter } from '../../src/feeds/fetch.js';
import { FeedServer } from '../support/feed-server.js';
import { closeServer, listenLocal } from '../support/local-server.js';

let feeds: FeedServer;
let hanging: Server;
let hangingUrl: string;

beforeAll(async () => {
  feeds = await new FeedServer().start();
  // A server that sends headers and then never finishes the body.
  hanging = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/rss+xml' });
    res.write('<rss>');
  });
  hangingUrl = `${await listenLocal(hanging)}/`;
});

afterAll(async () => {
  await feeds.stop();
  await closeServer(hanging);
});

const limits = { timeoutMs: 2000, maxBytes: 1024 * 1024 };

describe('fetchFeed', () => {
  it('sends a User-Agent naming the product, then a conditional GET that costs a 304', async () => {
    const url = feeds.set('/a.xml', '<rss version="2.0"/>');
    const first = await fetchFeed({ url, ...limits });
    expect(first.kind).toBe('ok');
    if (first.kind !== 'ok') return;
    expect(Buffer.from(first.body).toString()).toBe('<rss version="2.0"/>');
    expect(feeds.requests.at(-1)?.headers['user-agent']).toMatch(/^steppewatch\//u);

    const second = await fetchFeed({ url, etag: first.etag, ...limits });
    expect(second).toMatchObject({ kind: 'not-modified', permanentRedirect: null });
    expect(feeds.requests.at(-1)?.status).toBe(304);
  });

  it('stops reading past the byte cap', async () => {
    const url = feeds.set('/big.xml', 'x'.repeat(300_000));
    await expect(fetchFeed({ url, timeoutMs: 2000, maxBytes: 100_000 })).rejects.toMatchObject({ kind: 'too-large' });
  });

  it('gives up on a server that never finishes, within the timeout', async () => {
    const started = Date.now();
    await expect(fetchFeed({ url: hangingUrl, timeoutMs: 300, maxBytes: 1000 })).rejects.toMatchObject({ kind: 'timeout' });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('reports HTTP errors and refused connections as typed errors', async () => {
    const url = feeds.set('/down.xml', { body: 'no', status: 500 });
    await expect(fetchFeed({ url, ...limits })).rejects.toMatchObject({ kind: 'http', status: 500, message: 'HTTP 500 Internal Server Error' });
    const closed = createServer();
    const closedUrl = await listenLocal(closed);
    await closeServer(closed);
    const refused = await fetchFeed({ url: `${closedUrl}/`, ...limits }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(FetchError);
    expect(refused).toMatchObject({ kind: 'network', message: 'connection refused (ECONNREFUSED)' });
  });

  it('follows up to 5 redirects and reports a chain of permanent ones as the new URL', async () => {
    const final = feeds.set('/final.xml', '<rss version="2.0"/>');
    feeds.set('/moved.xml', { body: '', status: 301, headers: { location: '/also-moved.xml' } });
    feeds.set('/also-moved.xml', { body: '', status: 308, headers: { location: final } });
    const permanent = await fetchFeed({ url: `${feeds.url}/moved.xml`, ...limits });
    expect(permanent).toMatchObject({ kind: 'ok', url: final, permanentRedirect: final });

    feeds.set('/temporary.xml', { body: '', status: 302, headers: { location: '/moved.xml' } });
    const temporary = await fetchFeed({ url: `${feeds.url}/temporary.xml`, ...limits });
    expect(temporary).toMatchObject({ kind: 'ok', url: final, permanentRedirect: null });
  });

  it('refuses a sixth redirect, a loop, and a redirect out of http(s)', async () => {
    for (let i = 0; i < 6; i++) feeds.set(`/hop${i}.xml`, { body: '', status: 302, headers: { location: `/hop${i + 1}.xml` } });
    feeds.set('/hop6.xml', '<rss version="2.0"/>');
    await expect(fetchFeed({ url: `${feeds.url}/hop0.xml`, ...limits })).rejects.toMatchObject({ kind: 'redirect', message: 'more than 5 redirects' });
    await expect(fetchFeed({ url: `${feeds.url}/hop1.xml`, ...limits })).resolves.toMatchObject({ kind: 'ok' });
    feeds.set('/loop.xml', { body: '', status: 301, headers: { location: '/loop.xml' } });
    await expect(fetchFeed({ url: `${feeds.url}/loop.xml`, ...limits })).rejects.toMatchObject({ kind: 'redirect' });
    feeds.set('/evil.xml', { body: '', status: 302, headers: { location: 'file:///etc/passwd' } });
    await expect(fetchFeed({ url: `${feeds.url}/evil.xml`, ...limits })).rejects.toMatchObject({ kind: 'redirect', message: 'redirect to a file: URL refused' });
  });

  it('turns 429 and 503 into "throttled" with the server\'s Retry-After', async () => {
    const busy = feeds.set('/busy.xml', { body: '', status: 429, headers: { 'retry-after': '120' } });
    await expect(fetchFeed({ url: busy, ...limits })).rejects.toMatchObject({ kind: 'throttled', status: 429, retryAfterMs: 120_000 });
    const maintenance = feeds.set('/maintenance.xml', { body: '', status: 503 });
    await expect(fetchFeed({ url: maintenance, ...limits })).rejects.toMatchObject({ kind: 'throttled', status: 503, retryAfterMs: undefined });
    expect(parseRetryAfter('Wed, 25 Nov 2026 10:02:00 GMT', Date.parse('2026-11-25T10:00:00Z'))).toBe(120_000);
  });

  it('decompresses gzip and brotli, and stops a decompression bomb at the byte cap', async () => {
    const xml = '<rss version="2.0"><channel><title>Сжато</title></channel></rss>';
    const gz = feeds.set('/gz.xml', { body: gzipSync(xml), headers: { 'content-encoding': 'gzip' } });
    const br = feeds.set('/br.xml', { body: brotliCompressSync(xml), headers: { 'content-encoding': 'br' } });
    for (const url of [gz, br]) {
      const result = await fetchFeed({ url, ...limits });
      expect(result.kind === 'ok' && Buffer.from(result.body).toString()).toBe(xml);
    }
    const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024)); // 50 MB of zeros, ~50 KB on the wire
    expect(bomb.byteLength).toBeLessThan(100_000);
    const url = feeds.set('/bomb.xml', { body: bomb, headers: { 'content-encoding': 'gzip' } });
    await expect(fetchFeed({ url, timeoutMs: 5000, maxBytes: 1024 * 1024 })).rejects.toMatchObject({ kind: 'too-large' });
  });
});
