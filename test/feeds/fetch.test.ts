import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FetchError, fetchFeed } from '../../src/feeds/fetch.js';
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
    expect(second).toEqual({ kind: 'not-modified' });
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
    const url = feeds.set('/down.xml', { body: 'no', status: 503 });
    await expect(fetchFeed({ url, ...limits })).rejects.toMatchObject({ kind: 'http', status: 503 });
    const closed = createServer();
    const closedUrl = await listenLocal(closed);
    await closeServer(closed);
    const refused = await fetchFeed({ url: `${closedUrl}/`, ...limits }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(FetchError);
    expect(refused).toMatchObject({ kind: 'network', message: 'connection refused (ECONNREFUSED)' });
  });
});
