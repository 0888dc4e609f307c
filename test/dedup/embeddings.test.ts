// The optional embeddings client against a local stand-in for an OpenAI-compatible endpoint.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cosine, createEmbedder, type Embedder } from '../../src/dedup/embeddings.js';
import { createLogger } from '../../src/log.js';
import { closeServer, listenLocal } from '../support/local-server.js';

type Answer = (body: { model: string; input: string[] }, res: ServerResponse) => void;

const KEY = 'sk-embed-secret-123456789';
const DIMS = 16;

/**
 * A deterministic stand-in model: letters hashed into 16 dimensions, plus a heavy weight for each
 * "@marker" word, so two texts that share a marker point almost the same way. Deliberately not unit length.
 */
function fakeEmbedding(text: string): number[] {
  const v = new Array<number>(DIMS).fill(0);
  for (const ch of text.toLowerCase()) if (/\p{L}/u.test(ch)) v[(ch.codePointAt(0) ?? 0) % DIMS]! += 1;
  for (const marker of text.match(/@\p{L}+/gu) ?? []) {
    let h = 0;
    for (const ch of marker) h = (h * 31 + (ch.codePointAt(0) ?? 0)) % 1_000_003;
    v[h % DIMS]! += 200;
  }
  return v.map((x) => x * 3);
}

// The endpoint's data in reverse order: the client must put it back by index.
const openAi: Answer = (body, res) => {
  const data = body.input.map((text, index) => ({ object: 'embedding', index, embedding: fakeEmbedding(text) })).reverse();
  json(res, { object: 'list', model: body.model, data });
};
const json = (res: ServerResponse, value: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(value));

let server: Server;
let url: string;
let answer: Answer;
const requests: Array<{ headers: IncomingMessage['headers']; body: { model: string; input: string[] }; path: string }> = [];
const logLines: string[] = [];
// No secrets given to the logger: the client itself must never log the key.
const log = createLogger({ level: 'debug', destination: new Writable({ write: (chunk: Buffer, _e, cb) => (logLines.push(chunk.toString()), cb()) }) });
const warnings = () => logLines.map((line) => JSON.parse(line) as { level: number; msg: string; err?: string; kind?: string }).filter((l) => l.level === 40);

beforeEach(async () => {
  requests.length = 0;
  logLines.length = 0;
  answer = openAi;
  server = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8').on('data', (chunk: string) => (raw += chunk));
    req.on('end', () => {
      const body = JSON.parse(raw) as { model: string; input: string[] };
      requests.push({ headers: req.headers, body, path: req.url ?? '' });
      answer(body, res);
    });
  });
  url = `${await listenLocal(server)}/v1/embeddings`;
});
afterEach(async () => {
  await closeServer(server);
});

const embedder = (timeoutMs?: number): Embedder => {
  const created = createEmbedder({ EMBEDDINGS_API_URL: url, EMBEDDINGS_MODEL: 'tiny-embed', EMBEDDINGS_API_KEY: KEY }, log, timeoutMs ? { timeoutMs } : {});
  if (!created) throw new Error('expected an embedder');
  return created;
};
const norm = (v: Float32Array) => Math.sqrt(v.reduce((sum, x) => sum + x * x, 0));

describe('createEmbedder', () => {
  it('is off without EMBEDDINGS_API_URL', () => {
    expect(createEmbedder({}, log)).toBeNull();
    expect(createEmbedder({ EMBEDDINGS_API_URL: '', EMBEDDINGS_MODEL: 'tiny-embed' }, log)).toBeNull();
  });

  it('needs a model and an http(s) URL once the URL is set', () => {
    expect(() => createEmbedder({ EMBEDDINGS_API_URL: url }, log)).toThrow('EMBEDDINGS_MODEL is required when EMBEDDINGS_API_URL is set');
    expect(() => createEmbedder({ EMBEDDINGS_API_URL: 'ftp://127.0.0.1/v1/embeddings', EMBEDDINGS_MODEL: 'm' }, log)).toThrow('http(s)');
    expect(() => createEmbedder({ EMBEDDINGS_API_URL: 'not a url', EMBEDDINGS_MODEL: 'm' }, log)).toThrow('http(s)');
  });
});

describe('Embedder', () => {
  it('returns unit vectors in input order from an answer in any order', async () => {
    const texts = ['Протест в @Алматы у акимата', 'Protest in @Алматы near the akimat', 'Погода в Астане'];
    const vectors = await embedder().embed(texts);
    expect(vectors).toHaveLength(3);
    for (const [i, v] of (vectors ?? []).entries()) {
      expect(v).toBeInstanceOf(Float32Array);
      expect(v).toHaveLength(DIMS);
      expect(norm(v)).toBeCloseTo(1, 5);
      const expected = fakeEmbedding(texts[i]!);
      const expectedNorm = Math.sqrt(expected.reduce((s, x) => s + x * x, 0));
      expect([...v].map((x) => Number(x.toFixed(5)))).toEqual(expected.map((x) => Number((x / expectedNorm).toFixed(5))));
    }
    const [ru, en, other] = vectors ?? [];
    expect(cosine(ru!, en!)).toBeGreaterThan(0.99);
    expect(cosine(ru!, other!)).toBeLessThan(0.5);
    expect(requests[0]).toMatchObject({ path: '/v1/embeddings', body: { model: 'tiny-embed', input: texts } });
  });

  it('sends the key as a Bearer token and never logs it', async () => {
    await embedder().embed(['@Алматы']);
    expect(requests[0]?.headers.authorization).toBe(`Bearer ${KEY}`);
    answer = (_body, res) => res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: `bad key ${KEY}` }));
    expect(await embedder().embed(['something else'])).toBeNull();
    expect(warnings()).toHaveLength(1);
    expect(logLines.join('')).not.toContain(KEY);
  });

  it('sends no Authorization header without a key', async () => {
    await createEmbedder({ EMBEDDINGS_API_URL: url, EMBEDDINGS_MODEL: 'tiny-embed' }, log)?.embed(['@Алматы']);
    expect(requests[0]?.headers.authorization).toBeUndefined();
  });

  it('gives up on a server that does not answer within the timeout', async () => {
    answer = () => undefined; // never answers
    const started = performance.now();
    expect(await embedder(200).embed(['@Алматы'])).toBeNull();
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(150);
    expect(elapsed).toBeLessThan(1500);
    expect(warnings()).toMatchObject([{ kind: 'timeout', msg: 'embeddings endpoint failed; folding uses the offline signature' }]);
  });

  it('gives up on a server that stalls in the middle of its answer', async () => {
    answer = (_body, res) => res.writeHead(200, { 'content-type': 'application/json' }).write('{"data": [');
    const started = performance.now();
    expect(await embedder(200).embed(['@Алматы'])).toBeNull();
    expect(performance.now() - started).toBeLessThan(1500);
  });

  it('returns null for an HTTP error, warning once per kind of failure', async () => {
    answer = (_body, res) => res.writeHead(500).end('boom');
    const client = embedder();
    expect(await client.embed(['a'])).toBeNull();
    expect(await client.embed(['b'])).toBeNull();
    expect(requests).toHaveLength(2);
    expect(warnings()).toMatchObject([{ kind: 'http', err: 'HTTP 500' }]);
    answer = (_body, res) => res.writeHead(200).end('not json{');
    expect(await client.embed(['c'])).toBeNull();
    expect(warnings().map((w) => w.kind)).toEqual(['http', 'shape']);
  });

  it.each<[string, Answer]>([
    ['malformed JSON', (_body, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"data": [')],
    ['no data', (_body, res) => json(res, { object: 'list' })],
    ['one vector too few', (body, res) => json(res, { data: body.input.slice(1).map((t, index) => ({ index, embedding: fakeEmbedding(t) })) })],
    ['one vector too many', (body, res) => json(res, { data: [...body.input, 'x'].map((t, index) => ({ index, embedding: fakeEmbedding(t) })) })],
    ['a repeated index', (body, res) => json(res, { data: body.input.map((t) => ({ index: 0, embedding: fakeEmbedding(t) })) })],
    ['vectors of different lengths', (body, res) => json(res, { data: body.input.map((t, index) => ({ index, embedding: fakeEmbedding(t).slice(index) })) })],
    ['a number that is not one', (body, res) => json(res, { data: body.input.map((t, index) => ({ index, embedding: [...fakeEmbedding(t).slice(1), null] })) })],
    ['an all-zero vector', (body, res) => json(res, { data: body.input.map((_t, index) => ({ index, embedding: new Array<number>(DIMS).fill(0) })) })],
  ])('returns null for %s', async (_name, bad) => {
    answer = bad;
    expect(await embedder().embed(['@Алматы протест', 'Astana weather'])).toBeNull();
    expect(warnings()).toMatchObject([{ kind: 'shape' }]);
  });

  it('returns null when nothing listens', async () => {
    const gone = url;
    await closeServer(server);
    server = createServer();
    const client = createEmbedder({ EMBEDDINGS_API_URL: gone, EMBEDDINGS_MODEL: 'tiny-embed', EMBEDDINGS_API_KEY: KEY }, log);
    expect(await client?.embed(['@Алматы'])).toBeNull();
    expect(warnings()).toMatchObject([{ kind: 'network' }]);
    expect(logLines.join('')).not.toContain(KEY);
  });

  it('embeds a text once: cached texts are not asked again', async () => {
    const client = embedder();
    const first = await client.embed(['@Алматы протест', 'Astana weather', '@Алматы протест']);
    expect(requests.map((r) => r.body.input)).toEqual([['@Алматы протест', 'Astana weather']]);
    const again = await client.embed(['Astana weather', '@Алматы протест']);
    expect(requests).toHaveLength(1);
    expect(again).toEqual([first?.[1], first?.[0]]);
    await client.embed(['Astana weather', 'new text']);
    expect(requests.map((r) => r.body.input)).toEqual([['@Алматы протест', 'Astana weather'], ['new text']]);
    expect(await client.embed([])).toEqual([]);
    expect(requests).toHaveLength(2);
  });

  it('does not cache a failed answer', async () => {
    const client = embedder();
    answer = (_body, res) => res.writeHead(503).end();
    expect(await client.embed(['@Алматы'])).toBeNull();
    answer = openAi;
    expect(await client.embed(['@Алматы'])).toHaveLength(1);
    expect(requests).toHaveLength(2);
  });
});

describe('cosine', () => {
  it('is 1 for the same direction, 0 for orthogonal or incomparable vectors', () => {
    expect(cosine(new Float32Array([1, 2, 3]), new Float32Array([2, 4, 6]))).toBeCloseTo(1, 6);
    expect(cosine(new Float32Array([1, 0]), new Float32Array([0, 1]))).toBe(0);
    expect(cosine(new Float32Array([1, 0]), new Float32Array([-1, 0]))).toBeCloseTo(-1, 6);
    expect(cosine(new Float32Array([1, 0]), new Float32Array([1, 0, 0]))).toBe(0);
    expect(cosine(new Float32Array([0, 0]), new Float32Array([1, 0]))).toBe(0);
  });
});
