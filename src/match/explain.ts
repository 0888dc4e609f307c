// `steppewatch explain ("QUERY" | --watchlist NAME) [--text FILE|-] [--jsonl FILE|-]`: how a
// query parses and what it hits — the tool for debugging a watchlist. Like grep, it exits 0 when
// some input matched, 1 when none did, 2 on error.

import { once } from 'node:events';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describeHits, LineAnswerer, type AnsweredLines } from './explain-lines.js';
import type { EntityTable } from './entities.js';
import { compileWatchlist, Matcher, type Watchlist } from './matcher.js';
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
  /** standard input as a stream, for `--jsonl -` to read as it comes; else `readStdin` is used */
  stdin?: NodeJS.ReadableStream;
}

/** A problem with the request (unknown watchlist, unreadable input, bad JSON line): exit 2. */
export class ExplainError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExplainError';
  }
}

function cannotRead(file: string, error: unknown): ExplainError {
  return new ExplainError(`${file}: cannot read: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
}

function read(file: string, readStdin: () => string): string {
  if (file === '-') return readStdin();
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw cannotRead(file, error);
  }
}

/** Lines are answered in batches of this many: on this thread, or on the helper thread. */
const BATCH = 1000;
/** A helper thread is started once the input has this many lines: for less, starting it costs more than it saves. */
const HELPER_AFTER = 4 * BATCH;
/** At most this many batches are answered and not yet written. */
const AHEAD = 8;

/** A second thread answering batches, in the order they are sent. */
class Helper {
  private readonly waiting: Array<{ resolve: (answered: AnsweredLines) => void; reject: (error: unknown) => void }> = [];
  private failed: Error | null = null;
  private readonly worker: Worker;

  constructor(file: URL, watchlist: Watchlist) {
    this.worker = new Worker(file, { workerData: { watchlist } });
    this.worker.on('message', (answered: AnsweredLines) => this.waiting.shift()?.resolve(answered));
    const fail = (error: Error): void => {
      this.failed = error;
      for (const { reject } of this.waiting.splice(0)) reject(error);
    };
    this.worker.on('error', fail);
    // A helper that ends with batches unanswered (killed, out of memory) must not leave them waiting.
    this.worker.on('exit', (code) => {
      if (this.waiting.length > 0) fail(new Error(`the explain helper thread stopped (exit ${code})`));
    });
  }

  /** How many batches it has not answered yet. */
  get outstanding(): number {
    return this.waiting.length;
  }

  answer(lines: string[], firstLine: number): Promise<AnsweredLines> {
    if (this.failed !== null) return Promise.reject(this.failed);
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.worker.postMessage({ lines, firstLine });
    });
  }

  async stop(): Promise<void> {
    await this.worker.terminate();
  }
}

/** The helper thread's program beside this one, when it is built (not when run from TypeScript sources). */
function helperFile(): URL | null {
  const file = new URL('./explain-worker.js', import.meta.url);
  return file.protocol === 'file:' && existsSync(fileURLToPath(file)) ? file : null;
}

/**
 * `--jsonl`: each input line `{"id","title","text"}` gives an output line `{"id","match","hits"}`
 * (hits only for a match), in input order. The input is read as a stream and answered in batches
 * through the compiled Matcher (the worker's); a long input is shared with a helper thread, so
 * two cores answer it. Output is written a batch at a time. Lines before a bad line are answered
 * and written before it stops the run. Resolves to how many lines matched.
 */
async function explainJsonl(watchlist: Watchlist, input: AsyncIterable<string> | string, out: NodeJS.WritableStream): Promise<number> {
  const local = new LineAnswerer(watchlist);
  const file = helperFile();
  let helper: Helper | null = null;
  const answered: Array<AnsweredLines | Promise<AnsweredLines>> = [];
  let matched = 0;
  let lines: string[] = [];
  let firstLine = 1;
  let seen = 0;

  /** Writes answered batches in order: the ready ones, or all of them when `all`. */
  const write = async (all: boolean): Promise<void> => {
    while (answered.length > 0 && (all || answered.length > AHEAD || !(answered[0] instanceof Promise))) {
      const batch = await answered.shift();
      if (batch === undefined) break;
      matched += batch.matched;
      if (batch.output !== '' && !out.write(batch.output)) await once(out, 'drain');
      if (batch.error !== null) throw new ExplainError(batch.error);
    }
  };
  const send = async (): Promise<void> => {
    if (lines.length === 0) return;
    const batch = lines;
    const start = firstLine;
    lines = [];
    firstLine += batch.length;
    seen += batch.length;
    if (helper === null && file !== null && seen >= HELPER_AFTER) helper = new Helper(file, watchlist);
    // The helper is kept a few batches ahead; this thread answers what it cannot take yet.
    if (helper !== null && helper.outstanding < 3) {
      const pending = helper.answer(batch, start);
      // Settled here too, so that a failure is not unhandled before its turn to be written.
      pending.catch(() => undefined);
      answered.push(pending);
    } else {
      answered.push(local.answer(batch, start));
    }
    await write(false);
  };
  try {
    if (typeof input === 'string') {
      for (const line of input.split('\n')) {
        lines.push(line);
        if (lines.length >= BATCH) await send();
      }
    } else {
      let partial = '';
      for await (const chunk of input) {
        const split = (partial + chunk).split('\n');
        partial = split.pop() ?? '';
        for (const line of split) {
          lines.push(line);
          if (lines.length >= BATCH) await send();
        }
      }
      lines.push(partial);
    }
    await send();
    await write(true);
  } finally {
    await (helper as Helper | null)?.stop();
  }
  return matched;
}

/** The lines' source for `--jsonl FILE|-`: a stream of text, read as it comes. */
async function jsonlInput(file: string, context: ExplainContext): Promise<AsyncIterable<string> | string> {
  if (file === '-') {
    if (!context.stdin) return context.readStdin();
    context.stdin.setEncoding('utf8');
    return context.stdin as AsyncIterable<string>;
  }
  const stream = createReadStream(file, { highWaterMark: 1 << 20 });
  // An unreadable file is an error before any output, as it was when the file was read whole.
  try {
    await once(stream, 'readable');
  } catch (error) {
    throw cannotRead(file, error);
  }
  return (async function* lines() {
    // TextDecoder keeps a character cut between two chunks whole, and is quicker than a
    // StringDecoder; the BOM is kept, as reading the file whole kept it.
    const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
    try {
      for await (const chunk of stream) yield decoder.decode(chunk as Buffer, { stream: true });
    } catch (error) {
      throw cannotRead(file, error);
    }
    const rest = decoder.decode();
    if (rest !== '') yield rest;
  })();
}

/** A query error, with a caret under its position. */
export function formatQueryError(query: string, error: QueryError): string {
  const line = query.replace(/\s/gu, ' ');
  return `query error: ${error.message}\n  ${line}\n  ${' '.repeat(Math.max(0, error.position - 1))}^`;
}

export async function explain(request: ExplainRequest, context: ExplainContext): Promise<number> {
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
    const matched = await explainJsonl(watchlist, await jsonlInput(request.jsonlFile, context), out);
    return matched > 0 ? 0 : 1;
  }

  out.write(`watchlist: ${watchlist.name}\nparsed:    ${formatQuery(watchlist.ast)}\n`);
  if (request.textFile === undefined) return 0;
  const text = read(request.textFile, context.readStdin);
  const match = new Matcher([watchlist]).match('', text)[0];
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
