// Feeds over HTTP/2 where the server offers it: one connection carries many requests.

import { readFileSync } from 'node:fs';
import { createSecureServer, type Http2SecureServer } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFeedAgent, fetchFeed } from '../../src/feeds/fetch.js';
import { readFeed } from '../../src/feeds/read.js';
import { rss } from '../support/feed-server.js';

// A self-signed certificate for localhost and 127.0.0.1, made for these tests only.
const key = readFileSync(new URL('../fixtures/tls/key.pem', import.meta.url), 'utf8');
const cert = readFileSync(new URL('../fixtures/tls/cert.pem', import.meta.url), 'utf8');

let server: Http2SecureServer;
let base: string;
const versions: string[] = [];
let sessions = 0;

beforeAll(async () => {
  server = createSecureServer({ key, cert, allowHTTP1: true }, (req, res) => {
    versions.push(req.httpVersion);
    res.writeHead(200, { 'content-type': 'application/rss+xml; charset=utf-8' });
    res.end(rss('Over h2', [{ title: `Item ${req.url ?? ''}`, guid: req.url ?? '', link: `https://n.test${req.url ?? ''}`, minutesAgo: 1 }]));
  });
  server.on('session', () => sessions++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('fetching over HTTP/2', () => {
  it('speaks HTTP/2 when the server offers it, and sends many requests over one connection', async () => {
    const agent = createFeedAgent({ ca: cert, connectionsFor: () => 1 });
    try {
      const paths = Array.from({ length: 20 }, (_, i) => `/feed/${i}.xml`);
      const results = await Promise.all(paths.map((path) => fetchFeed({ url: `${base}${path}`, timeoutMs: 5_000, maxBytes: 1_000_000, agent })));
      const titles = await Promise.all(
        results.map(async (result) => (result.kind === 'ok' ? (await readFeed(result.body, result.contentType, result.url)).items[0]?.title : null)),
      );
      expect(titles).toEqual(paths.map((path) => `Item ${path}`));
      expect(new Set(versions)).toEqual(new Set(['2.0']));
      expect(sessions).toBe(1);
    } finally {
      await agent.close();
    }
  });
});
