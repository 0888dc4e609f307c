// The page's HTTP side over a real SQLite store and a real server on 127.0.0.1: which paths are
// its own, methods, bad queries, HEAD, the reader's language, secrets never shown, paging.

import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createOperatorPage, type OperatorPageOptions } from '../../src/page/page.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { closeServer, listenLocal } from '../support/local-server.js';
import { SEED_FEEDS, seedConfig, seedStore } from '../support/page-seed.js';

const TOKEN = '123456789:AAE-secret-bot-token-value';
const NOW = Date.UTC(2026, 11, 7, 9, 0);

let dir: string;
let store: SqliteStore;
let server: Server | null;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'steppewatch-page-unit-'));
  store = new SqliteStore(join(dir, 'state.db'));
  server = null;
});
afterEach(async () => {
  await closeServer(server);
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function serve(overrides: Partial<OperatorPageOptions> = {}): Promise<string> {
  const config = seedConfig();
  const page = createOperatorPage({
    store,
    config: () => config,
    worker: () => Promise.resolve({ ready: false, reasons: ['the first cycle is still running'], lastCycleFinishedAt: null, roles: [] }),
    credentials: null,
    secrets: [TOKEN],
    now: () => NOW,
    ...overrides,
  });
  server = createServer((request, response) => {
    void page.serve(request, response).then((served) => {
      if (!served) response.writeHead(404, { 'content-type': 'text/plain' }).end('not the page\n');
    });
  });
  return listenLocal(server);
}

describe('the operator page over HTTP', () => {
  it('answers its own paths only, GET and HEAD only, and refuses a malformed query', async () => {
    const base = await serve();
    expect((await fetch(`${base}/metrics`)).status).toBe(404);
    expect((await fetch(`${base}/favicon.ico`)).status).toBe(404);
    const post = await fetch(`${base}/`, { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    expect((await fetch(`${base}/stories?before=yesterday`)).status).toBe(400);
    const head = await fetch(`${base}/`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    expect(Number(head.headers.get('content-length'))).toBeGreaterThan(1000);
    const css = await fetch(`${base}/page.css`);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(css.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('says when the worker is not ready and why, and shows an empty store plainly', async () => {
    const base = await serve();
    const body = await (await fetch(`${base}/`)).text();
    expect(body).toContain('Not ready: the first cycle is still running');
    expect(body).toContain('No alerts were sent in the last 7 days.');
    expect(body).toContain('No stories yet.');
    expect(body).toContain('0 ok, 0 failing, 6 not polled yet');
  });

  it('speaks the language the browser asks for, and the one the link names over it', async () => {
    await seedStore(store, { now: NOW });
    const base = await serve();
    const kazakh = await (await fetch(`${base}/`, { headers: { 'accept-language': 'de-DE, kk;q=0.8, ru;q=0.5' } })).text();
    expect(kazakh).toContain('<html lang="kk" dir="ltr">');
    expect(kazakh).toContain('Арналар');
    const arabic = await (await fetch(`${base}/?lang=ar`, { headers: { 'accept-language': 'kk' } })).text();
    expect(arabic).toContain('<html lang="ar" dir="rtl">');
    expect(await (await fetch(`${base}/?lang=xx`)).text()).toContain('<html lang="en"');
  });

  it('never shows a secret, even inside a feed\'s error', async () => {
    await store.recordFeedFailure(SEED_FEEDS[0].url, `fetch https://api.telegram.example/bot${TOKEN}/getMe: 401`, NOW - 1_000, NOW + 60_000);
    const base = await serve();
    const body = await (await fetch(`${base}/`)).text();
    expect(body).toContain('[redacted]');
    expect(body).not.toContain(TOKEN);
    expect(body).not.toContain('secret-bot-token');
  });

  it('pages through the stories, newest first', async () => {
    await seedStore(store, { now: NOW, rounds: 5 });
    const base = await serve();
    const first = await (await fetch(`${base}/stories`)).text();
    const ids = (text: string) => [...text.matchAll(/data-story="(\d+)"/gu)].map((m) => Number(m[1]));
    expect(ids(first)).toHaveLength(30);
    const next = /href="(\/stories\?before=[^"]+)"/u.exec(first)?.[1]?.replace(/&amp;/gu, '&');
    expect(next).toBeDefined();
    const second = await (await fetch(`${base}${next ?? ''}`)).text();
    expect(ids(second)).toHaveLength(40 - 30);
    expect([...ids(first), ...ids(second)]).toEqual(Array.from({ length: 40 }, (_, i) => 40 - i));
    expect(second).not.toContain('rel="next"');
  });

  it('names a database that fails, as /readyz does, instead of an error page', async () => {
    // A disk that fails under a read: no local server stands in for that, so the store's read does.
    const ioError = Object.assign(new Error('disk I/O error'), { name: 'SqliteError', code: 'SQLITE_IOERR_READ' });
    const failing = new Proxy(store, { get: (target, name, receiver) => (name === 'feedStates' ? () => Promise.reject(ioError) : Reflect.get(target, name, receiver) as unknown) });
    const base = await serve({ store: failing });
    const failed = await fetch(`${base}/`);
    expect(failed.status).toBe(503);
    expect(await failed.text()).toBe('the store cannot be read: the SQLite database could not be read or written (disk I/O error): check the disk and the file system it is on\n');
  });

  it('asks for a link, not a script, in the search', async () => {
    const base = await serve();
    const body = await (await fetch(`${base}/why?link=${encodeURIComponent('javascript:alert(1)//"><b>x')}`)).text();
    expect(body).toContain('Give an http(s) link, as it appeared in the feed.');
    expect(body).toContain('javascript:alert(1)//&quot;&gt;&lt;b&gt;x');
    expect(body).not.toContain('"><b>x');
  });
});
