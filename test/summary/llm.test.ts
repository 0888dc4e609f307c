// The optional chat-endpoint summariser against a local fake of an OpenAI-compatible API.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Item } from '../../src/feeds/item.js';
import { createLogger } from '../../src/log.js';
import { ChatSummarizer } from '../../src/summary/llm.js';
import { summarize } from '../../src/summary/summarize.js';
import { closeServer, listenLocal } from '../support/local-server.js';

type Answer = (req: IncomingMessage, body: Record<string, unknown>, res: ServerResponse) => void;

let server: Server;
let url: string;
let answer: Answer;
const requests: Array<{ headers: IncomingMessage['headers']; body: Record<string, unknown>; path: string }> = [];

beforeEach(async () => {
  requests.length = 0;
  server = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8').on('data', (chunk: string) => (raw += chunk));
    req.on('end', () => {
      const body = JSON.parse(raw) as Record<string, unknown>;
      requests.push({ headers: req.headers, body, path: req.url ?? '' });
      answer(req, body, res);
    });
  });
  url = `${await listenLocal(server)}/v1`;
});
afterEach(async () => {
  await closeServer(server);
});

const logLines: string[] = [];
const log = createLogger({ level: 'warn', destination: new Writable({ write: (chunk: Buffer, _e, cb) => (logLines.push(chunk.toString()), cb()) }) });
const item: Item = {
  id: 'x',
  feedUrl: 'https://f.test/rss',
  guid: null,
  link: 'https://f.test/1',
  title: 'В Алматы протестующие захватили акимат',
  text: 'Протестующие ворвались в здание акимата Алматы. Полиция применила газ. Погода тёплая.',
  published: null,
  author: null,
  language: 'ru',
};
const forms = new Set(['алматы', 'протестующие']);
const summarizer = (timeoutMs = 2000) => new ChatSummarizer({ url, model: 'tiny-news', apiKey: 'sk-test-123456789', timeoutMs, log });
const reply = (content: string): Answer => (_req, _body, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ choices: [{ message: { role: 'assistant', content } }] }));

describe('ChatSummarizer', () => {
  it("uses the endpoint's summary, asked in the item's language", async () => {
    answer = reply('**Протестующие** захватили акимат Алматы. Полиция применила газ.');
    const summary = await summarizer().summarize(item, forms, 400);
    expect(summary).toEqual({ title: item.title, sentences: ['Протестующие захватили акимат Алматы. Полиция применила газ.'] });
    expect(requests[0]).toMatchObject({ path: '/v1/chat/completions', body: { model: 'tiny-news', temperature: 0 }, headers: { authorization: 'Bearer sk-test-123456789' } });
    expect(JSON.stringify(requests[0]?.body)).toContain('in Russian');
  });

  it('cuts a long answer to the budget at a word', async () => {
    answer = reply('Слово '.repeat(500));
    const [sentence] = (await summarizer().summarize(item, forms, 100)).sentences;
    expect([...(sentence ?? '')].length).toBeLessThanOrEqual(100);
    expect(sentence?.endsWith('Слово…')).toBe(true);
  });

  it('falls back to the extractive summary when the endpoint fails, answers nonsense or is too slow', async () => {
    const extractive = summarize(item, forms, 400).sentences;
    expect(extractive).toEqual(['Протестующие ворвались в здание акимата Алматы.']);
    answer = (_req, _body, res) => res.writeHead(500).end('boom');
    expect((await summarizer().summarize(item, forms, 400)).sentences).toEqual(extractive);
    answer = (_req, _body, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"choices": []}');
    expect((await summarizer().summarize(item, forms, 400)).sentences).toEqual(extractive);
    answer = () => undefined; // never answers: the timeout decides
    expect((await summarizer(200).summarize(item, forms, 400)).sentences).toEqual(extractive);
    expect(logLines.join('')).toContain('summary endpoint failed');
    expect(logLines.join('')).not.toContain('sk-test-123456789');
  });
});
