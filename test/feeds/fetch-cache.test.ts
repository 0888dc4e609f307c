// The fetcher hands adaptive polling the caching headers of an answer, a 200 and a 304 alike.

import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchFeed } from '../../src/feeds/fetch.js';
import { closeServer, listenLocal } from '../support/local-server.js';

const HEADERS = {
  'cache-control': 'public, max-age=600',
  expires: 'Wed, 02 Dec 2026 12:10:00 GMT',
  date: 'Wed, 02 Dec 2026 12:00:00 GMT',
  age: '30',
  'retry-after': '120',
};

let server: Server;
let base: string;
beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.headers['if-none-match'] === '"v1"') res.writeHead(304, { etag: '"v1"', ...HEADERS }).end();
    else res.writeHead(200, { 'content-type': 'application/rss+xml', etag: '"v1"', ...HEADERS }).end('<rss version="2.0"><channel/></rss>');
  });
  base = await listenLocal(server);
});
afterAll(() => closeServer(server));

describe('fetchFeed caching headers', () => {
  it('gives Cache-Control, Expires, Date, Age and Retry-After with a 200 and with a 304', async () => {
    const expected = { cacheControl: 'public, max-age=600', expires: HEADERS.expires, date: HEADERS.date, age: '30', retryAfter: '120' };
    const first = await fetchFeed({ url: `${base}/feed.xml`, timeoutMs: 2000, maxBytes: 1 << 20 });
    expect(first).toMatchObject({ kind: 'ok', cache: expected });
    const second = await fetchFeed({ url: `${base}/feed.xml`, etag: '"v1"', timeoutMs: 2000, maxBytes: 1 << 20 });
    expect(second).toMatchObject({ kind: 'not-modified', permanentRedirect: null, cache: expected });
  });
});
