// `steppewatch explain ("QUERY" | --watchlist NAME) [--text FILE|-] [--jsonl FILE|-]`: how a
// query parses and what it hits — the tool for debugging a watchlist. Like grep, it exits 0 when
// some input matched, 1 when none did, 2 on error.

import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { surfaceTokens } from '../text/normalize.js';
import { indexDocument } from './document.js';
import type { EntityTable } from './entities.js';
import { compileWatchlist, matchWatchlist, type Hit, type Watchlist } from './matcher.js';
import { formatQuery, type QueryError } from './query.js';

export interface ExplainRequest {
  query?: string;
  watchlist?: string;
  textFile?: string;
  jsonlFile?: string;
}

export interface ExplainContext {
  watchlists: ReadonlyMap<string, Watchlist>;
  entities: EntityTable;
  out: NodeJS.WritableStream;
  readStdin: () => string;
}

/** A problem with the request (unknown watchlist, unreadable input, bad JSON line): exit 2. */
export class ExplainError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExplainError';
  }
}

const JsonlLine = z.object({ id: z.unknown().optional(), title: z.string().default(''), text: z.string().default('') });

function read(file: string, readStdin: () => string): string {
  if (file === '-') return readStdin();
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new ExplainError(`${file}: cannot read: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
}

/** The hits with the words as they are written in the input. */
function describeHits(hits: Hit[], title: string, text: string): Array<Hit & { words: string }> {
  const surface = { title: surfaceTokens(title), text: surfaceTokens(text) };
  return hits.map((hit) => ({ ...hit, words: surface[hit.field].slice(hit.index, hit.index + hit.length).join(' ') }));
}

/** A query error, with a caret under its position. */
export function formatQueryError(query: string, error: QueryError): string {
  const line = query.replace(/\s/gu, ' ');
  return `query error: ${error.message}\n  ${line}\n  ${' '.repeat(Math.max(0, error.position - 1))}^`;
}

export function explain(request: ExplainRequest, context: ExplainContext): number {
  let watchlist: Watchlist;
  if (request.watchlist !== undefined) {
    const found = context.watchlists.get(request.watchlist);
    if (!found) throw new ExplainError(`unknown watchlist "${request.watchlist}" (known: ${[...context.watchlists.keys()].join(', ')})`);
    watchlist = found;
  } else {
    watchlist = compileWatchlist('query', request.query ?? '', context.entities);
  }
  const out = context.out;

  if (request.jsonlFile !== undefined) {
    let matched = 0;
    read(request.jsonlFile, context.readStdin)
      .split('\n')
      .forEach((line, i) => {
        if (line.trim() === '') return;
        let parsed: unknown;
        try {
          parsed = JSON.parse(line);
        } catch {
          throw new ExplainError(`line ${i + 1}: not JSON`);
        }
        const entry = JsonlLine.safeParse(parsed);
        if (!entry.success) throw new ExplainError(`line ${i + 1}: expected {"id","title","text"}`);
        const { id, title, text } = entry.data;
        const match = matchWatchlist(watchlist, indexDocument(title, text));
        if (match) matched++;
        const hits = match ? describeHits(match.hits, title, text).map(({ term, field, index, words }) => ({ term, field, index, words })) : [];
        out.write(`${JSON.stringify({ id: id ?? null, match: match !== null, hits })}\n`);
      });
    return matched > 0 ? 0 : 1;
  }

  out.write(`watchlist: ${watchlist.name}\nparsed:    ${formatQuery(watchlist.ast)}\n`);
  if (request.textFile === undefined) return 0;
  const text = read(request.textFile, context.readStdin);
  const match = matchWatchlist(watchlist, indexDocument('', text));
  if (!match) {
    out.write('result:    no match\n');
    return 1;
  }
  out.write(`result:    match (${match.terms.join(', ')})\nhits:\n`);
  for (const hit of describeHits(match.hits, '', text)) {
    out.write(`  ${hit.term.padEnd(24)} word ${String(hit.index + 1).padStart(4)}  «${hit.words}»\n`);
  }
  return 0;
}
