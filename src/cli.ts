#!/usr/bin/env node
// steppewatch's command line: run | once | check-config | demo (contract in DESIGN.md).

import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, loadEntities, loadPresets, type Config } from './config/load.js';
import { ConsoleSink } from './delivery/console.js';
import type { AlertSink } from './delivery/sink.js';
import { TelegramSink } from './delivery/telegram.js';
import { runDemo } from './demo/demo.js';
import { inspectSources } from './feeds/inspect.js';
import { explain, ExplainError, formatQueryError } from './match/explain.js';
import { QueryError } from './match/query.js';
import { importOpml, OpmlError, writeOpml } from './opml/opml.js';
import { EnvError, readEnv, type Env } from './env.js';
import { createLogger, scrubLibraryDebug, type Logger } from './log.js';
import { openStore, StoreError } from './store/open.js';
import { storeProblem } from './store/problem.js';
import { migrateStore } from './store/migrate.js';
import { BOT_ROLE } from './worker/roles.js';
import { VERSION } from './version.js';
import { runCycle } from './worker/cycle.js';
import { createEmbedder } from './dedup/embeddings.js';
import { Bot } from './bot/bot.js';
import type { FeedState, Store } from './store/store.js';
import { decodeReason, describePace, formatInterval } from './feeds/pace.js';
import { scheduleTickMs } from './worker/tick.js';
import { isLink, linkVariants, operatorWhyAnswer } from './bot/why.js';
import { pageCredentials } from './page/access.js';
import { translator } from './i18n/i18n.js';
import { plainText } from './summary/render.js';
import { ChatSummarizer, extractive, type Summarizer } from './summary/llm.js';
import { HttpServerError } from './worker/http.js';
import { runService } from './worker/service.js';

const USAGE = `steppewatch ${VERSION} — news feeds → multilingual watchlists → one Telegram alert per story

Usage:
  steppewatch run [--config FILE]            poll on the schedule, deliver alerts (long-running)
  steppewatch once [--config FILE]           one full cycle, then exit
  steppewatch check-config [--config FILE]   validate the config and print a summary
  steppewatch demo                           offline demo on bundled sample feeds
  steppewatch inspect URL|FILE… [--json]     fetch or read feeds and print their items
  steppewatch explain ("QUERY" | --watchlist NAME) [--text FILE|-] [--jsonl FILE|-]
                                             how a query parses and what it hits (exit 0 match, 1 none, 2 error)
  steppewatch why URL [--json]               what became of an item: feed, decision, story, deliveries
                                             (exit 0 found, 1 unknown, 2 error)
  steppewatch opml import FILE [--config F]  add an OPML file's feeds to the config
  steppewatch opml export [--config FILE]    print the config's feeds as OPML
  steppewatch migrate-store --from sqlite:PATH --to postgres://…[?schema=NAME]
                                             move a SQLite store into an empty PostgreSQL schema
                                             (queued alerts, seen items, chats…); stop the workers first

Options:
  -c, --config FILE   config file (default: $STEPPEWATCH_CONFIG, else config/steppewatch.yaml)
  -h, --help          this help
  -v, --version       print the version

Environment: TELEGRAM_BOT_TOKEN (absent: alerts go to stdout), TELEGRAM_API_ROOT,
DATABASE_URL (default sqlite:./data/steppewatch.db), LOG_LEVEL (default info),
HTTP_PORT / HTTP_HOST (health and metrics server of run; default 127.0.0.1:8080, 0 = off).

Signals (run): SIGTERM/SIGINT stop gracefully, a second one exits at once; SIGHUP reloads the config.
`;

/** An error the user can fix, printed without a stack; exit code 1. */
function isUserError(error: unknown): error is Error {
  return (
    error instanceof ConfigError || error instanceof StoreError || error instanceof EnvError || error instanceof OpmlError || error instanceof HttpServerError
  );
}

function createSink(env: Env, log: Logger): AlertSink {
  if (!env.TELEGRAM_BOT_TOKEN) {
    log.info('TELEGRAM_BOT_TOKEN is not set: alerts go to stdout (dry run)');
    return new ConsoleSink();
  }
  return new TelegramSink({ token: env.TELEGRAM_BOT_TOKEN, apiRoot: env.TELEGRAM_API_ROOT });
}

/** The bot that takes subscriptions by command, when there is a token to take them with. */
function createBot(env: Env, config: () => Config, store: Store, log: Logger): Bot | null {
  if (!env.TELEGRAM_BOT_TOKEN) return null;
  return new Bot({ token: env.TELEGRAM_BOT_TOKEN, apiRoot: env.TELEGRAM_API_ROOT, store, config, log });
}

/** The summary endpoint when SUMMARY_API_URL and SUMMARY_MODEL are set, else extractive summaries. */
function createSummarizer(env: Env, config: Config, log: Logger): Summarizer {
  if (!env.SUMMARY_API_URL || !env.SUMMARY_MODEL) return extractive;
  log.info({ url: env.SUMMARY_API_URL, model: env.SUMMARY_MODEL }, 'summaries through a chat endpoint, extractive as fallback');
  return new ChatSummarizer({ url: env.SUMMARY_API_URL, model: env.SUMMARY_MODEL, apiKey: env.SUMMARY_API_KEY, timeoutMs: config.summary.timeoutMs, log });
}

/** Adaptive polling as configured, and each feed's interval and why as the store last chose it. */
function describePolling(config: Config, paces: Map<string, FeedState> | string): { summary: string; feed: (url: string) => string[] } {
  const { polling } = config;
  const tickMs = scheduleTickMs(config.schedule, config.timezone);
  const summary = polling.adaptive
    ? `  polling:    adaptive (run): ${formatInterval(polling.minMs)} to ${formatInterval(polling.maxMs)} by each feed's entries over ${formatInterval(polling.windowMs)}, ` +
      `never sooner than its ttl / Cache-Control / Expires / Retry-After; the schedule's tick (${formatInterval(tickMs)}) is the shortest` +
      (typeof paces === 'string' ? `\n              (intervals not shown: ${paces})` : '')
    : `  polling:    every feed on every tick (polling.adaptive: false)`;
  const feed = (url: string): string[] => {
    if (!polling.adaptive || typeof paces === 'string') return [];
    const state = paces.get(url);
    const reason = decodeReason(state?.pollReason ?? null);
    if (!state || state.pollIntervalMs === null || !reason) return ['        interval: not chosen yet (chosen after its first answer)'];
    return [`        interval: ${describePace(state.pollIntervalMs, reason, tickMs)}`];
  };
  return { summary, feed };
}

/** The feeds' states, when the store already exists and answers; else why not (check-config never creates a store). */
async function storedFeedStates(databaseUrl: string): Promise<Map<string, FeedState> | string> {
  if (databaseUrl.startsWith('sqlite:')) {
    const path = databaseUrl.slice('sqlite:'.length).replace(/^\/\/(?=\/)/u, '');
    if (path === ':memory:' || !existsSync(path)) return 'no store yet';
  }
  try {
    const store = await openStore(databaseUrl);
    try {
      return new Map((await store.feedStates()).map((state) => [state.url, state]));
    } finally {
      await store.close();
    }
  } catch (error) {
    return `store not readable: ${storeProblem(error) ?? (error as Error).message}`;
  }
}

/** Where `run`'s HTTP server listens: the environment over the config. */
function httpAddress(config: Config, env: Env): { host: string; port: number } {
  return { host: env.HTTP_HOST ?? config.http.host, port: env.HTTP_PORT ?? config.http.port };
}

/** Whether and how the operator page is served, and to whom. */
function describePage(config: Config, env: Env): string {
  const { host, port } = httpAddress(config, env);
  if (!config.http.page || port === 0) return `  page:       off${config.http.page ? ' (the HTTP server is off)' : ''}`;
  const credentials = pageCredentials(config, host, env);
  const from = env.HTTP_AUTH_USER !== undefined ? 'HTTP_AUTH_USER and HTTP_AUTH_PASSWORD' : 'http.auth';
  return `  page:       http://${host.includes(':') ? `[${host}]` : host}:${port}/ (${credentials ? `basic auth for ${credentials.user}, from ${from}` : 'no password: this machine only'})`;
}

function describeConfig(config: Config, env: Env, paces: Map<string, FeedState> | string = 'not read'): string {
  const used = new Set(config.channels.flatMap((c) => c.watchlists));
  const polling = describePolling(config, paces);
  const lines = [
    `${config.file}: OK`,
    `  schedule:   ${config.schedule}${config.timezone ? ` (${config.timezone})` : ''}`,
    polling.summary,
    `  feeds:      ${config.feeds.length}`,
    ...config.feeds.flatMap((f) => [`    - ${f.name ?? '(feed title)'} <${f.url}>${f.language ? ` [${f.language}]` : ''}`, ...polling.feed(f.url)]),
    `  watchlists: ${[...config.watchlists.keys()].map((name) => (used.has(name) ? name : `${name} (unused)`)).join(', ')}`,
    `  channels:   ${config.channels.length}`,
    ...config.channels.map((c) => `    - ${c.chat}${c.threadId !== null ? ` topic ${c.threadId}` : ''} ← ${c.watchlists.join(', ')}${c.languages ? ` [only ${c.languages.join(', ')}]` : ''}`),
    `  http:       ${config.http.port === 0 ? 'off' : `${config.http.host}:${config.http.port}`} (run only; HTTP_PORT and HTTP_HOST override)`,
    describePage(config, env),
  ];
  return `${lines.join('\n')}\n`;
}

async function runOpml([action, file, ...extra]: string[], configFile: string): Promise<number> {
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0] ?? ''}"`);
  if (action === 'export' && file === undefined) {
    process.stdout.write(writeOpml(loadConfig(configFile)));
    return 0;
  }
  if (action === 'import' && file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new OpmlError(`${file}: cannot read: ${(error as Error).message}`);
    }
    const result = await importOpml(text, configFile);
    for (const feed of result.added) process.stdout.write(`+ ${feed.title ?? feed.url} <${feed.url}>\n`);
    for (const url of result.skipped) process.stdout.write(`skipped (not an http(s) URL): ${url}\n`);
    process.stdout.write(`${configFile}: ${result.added.length} feeds added, ${result.present} already there\n`);
    return 0;
  }
  throw new UsageError('use "opml import FILE" or "opml export"');
}

/** `explain` exits 2 on any error, like grep; presets and entities work without a config file. */
async function runExplain(rest: string[], values: { config?: string; watchlist?: string; text?: string; jsonl?: string }): Promise<number> {
  try {
    if ((rest.length === 1) === (values.watchlist !== undefined) || rest.length > 1) {
      throw new ExplainError('give either one "QUERY" or --watchlist NAME');
    }
    const configFile = values.config ?? readEnv().STEPPEWATCH_CONFIG;
    const config = values.config !== undefined || existsSync(configFile) ? loadConfig(configFile) : null;
    const entities = config?.entities ?? loadEntities();
    return await explain(
      {
        ...(rest[0] !== undefined ? { query: rest[0] } : {}),
        ...(values.watchlist !== undefined ? { watchlist: values.watchlist } : {}),
        ...(values.text !== undefined ? { textFile: values.text } : {}),
        ...(values.jsonl !== undefined ? { jsonlFile: values.jsonl } : {}),
      },
      {
        watchlists: config?.watchlists ?? loadPresets(entities),
        entities,
        out: process.stdout,
        readStdin: () => readFileSync(0, 'utf8'),
        stdin: process.stdin,
      },
    );
  } catch (error) {
    if (error instanceof QueryError) process.stderr.write(`steppewatch: ${formatQueryError(rest[0] ?? '', error)}\n`);
    else if (error instanceof ExplainError || isUserError(error)) process.stderr.write(`steppewatch: ${error.message}\n`);
    else throw error;
    return 2;
  }
}

/** `why URL`: the store's record of the item; exits 0 when found, 1 when unknown, 2 on error. */
async function runWhy(rest: string[], values: { config?: string; json?: boolean }): Promise<number> {
  const [link] = rest;
  if (rest.length !== 1 || link === undefined || !isLink(link)) {
    process.stderr.write('steppewatch: why needs one http(s) URL\n');
    return 2;
  }
  let store: Store | null = null;
  try {
    const env = readEnv();
    const config = loadConfig(values.config ?? env.STEPPEWATCH_CONFIG);
    store = await openStore(env.DATABASE_URL);
    const traces = await store.traceLinks(linkVariants(link));
    if (values.json === true) {
      for (const trace of traces) process.stdout.write(`${JSON.stringify(trace)}\n`);
    } else {
      const answer = await operatorWhyAnswer(traces, { store, config, tr: translator('en'), now: Date.now() });
      process.stdout.write(`${plainText(answer)}\n`);
    }
    return traces.length > 0 ? 0 : 1;
  } catch (error) {
    process.stderr.write(`steppewatch: ${isUserError(error) ? error.message : String(error)}\n`);
    return 2;
  } finally {
    await store?.close();
  }
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      json: { type: 'boolean' },
      watchlist: { type: 'string' },
      text: { type: 'string' },
      jsonl: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
  });
  if (values.version) {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    process.stdout.write(USAGE);
    return command || values.help ? 0 : 2;
  }
  if (command === 'inspect') {
    if (rest.length === 0) throw new UsageError('inspect needs at least one URL or FILE');
    const failed = await inspectSources(rest, { json: values.json === true, out: process.stdout, timeoutMs: 20_000, maxBytes: 10 * 1024 * 1024 });
    return failed === rest.length ? 1 : 0;
  }
  if (command === 'opml') return runOpml(rest, values.config ?? readEnv().STEPPEWATCH_CONFIG);
  if (command === 'explain') return runExplain(rest, values);
  if (command === 'why') return runWhy(rest, values);
  if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0] ?? ''}"`);

  const env = readEnv();
  const secrets = [env.TELEGRAM_BOT_TOKEN ?? '', env.SUMMARY_API_KEY ?? '', env.EMBEDDINGS_API_KEY ?? '', env.HTTP_AUTH_PASSWORD ?? ''];
  const log = createLogger({ level: env.LOG_LEVEL, secrets, pretty: process.stderr.isTTY });
  scrubLibraryDebug(secrets);
  const configFile = values.config ?? env.STEPPEWATCH_CONFIG;

  switch (command) {
    case 'check-config': {
      const config = loadConfig(configFile);
      process.stdout.write(describeConfig(config, env, await storedFeedStates(env.DATABASE_URL)));
      return 0;
    }
    case 'once': {
      const config = loadConfig(configFile);
      const store = await openStore(env.DATABASE_URL);
      try {
        // Commands sent to the bot since the last run count in this cycle (webhook mode: they
        // reach the running worker instead; getUpdates is refused while a webhook is set).
        // Telegram being down must not stop the cycle: the commands wait for the next run.
        // Only the bot role's holder may call getUpdates: beside a running worker, that worker.
        const bot = config.bot.webhook ? null : createBot(env, () => config, store, log);
        const handled = !bot || !(await store.tryRole(BOT_ROLE))
          ? 0
          : await bot
              .processPending()
              .catch((error: unknown) => {
                log.warn({ err: (error as Error).message }, 'bot commands not fetched; they wait for the next run');
                return 0;
              });
        if (handled) log.info({ updates: handled }, 'bot commands handled');
        const report = await runCycle({ config, store, sink: createSink(env, log), log, summarizer: createSummarizer(env, config, log), embedder: createEmbedder(process.env, log) });
        if (report.delivery.pending > 0) {
          log.warn({ pending: report.delivery.pending }, 'alerts still queued; they go out on the next run');
        }
      } finally {
        await store.close();
      }
      return 0;
    }
    case 'run': {
      const config = loadConfig(configFile);
      const { host, port } = httpAddress(config, env);
      // Refused before anything starts: a page that would be open to the network without a password.
      const credentials = port > 0 ? pageCredentials(config, host, env) : null;
      const pageSecrets = [...secrets, config.http.auth?.password ?? '', config.bot.webhook?.secret ?? ''];
      const store = await openStore(env.DATABASE_URL);
      let code: number;
      try {
        code = await runService({
          configFile,
          config,
          store,
          sink: createSink(env, log),
          summarizer: createSummarizer(env, config, log),
          embedder: createEmbedder(process.env, log),
          log,
          http: { host, port, page: config.http.page ? { credentials, secrets: pageSecrets } : null },
          createBot: (current) => createBot(env, current, store, log),
        });
      } finally {
        await store.close();
        log.info('stopped');
      }
      // A handle some library left open must not keep a stopped worker alive past its bound.
      setTimeout(() => process.exit(code), 1_000).unref();
      return code;
    }
    case 'migrate-store': {
      // The SQLite file must not be written meanwhile: what a worker writes after the copy began is lost.
      if (values.from === undefined || values.to === undefined) throw new UsageError('migrate-store needs --from sqlite:PATH and --to postgres://…');
      const result = await migrateStore({ from: values.from, to: values.to, log });
      process.stdout.write(`moved sqlite:${result.source} to ${result.target} (schema ${result.schema}) in ${(result.ms / 1000).toFixed(1)} s\n`);
      for (const [table, rows] of Object.entries(result.counts)) process.stdout.write(`  ${table.padEnd(16)} ${String(rows).padStart(9)} rows\n`);
      process.stdout.write(`moved ${result.queued} queued alerts; point DATABASE_URL at ${result.target} and start the workers\n`);
      return 0;
    }
    case 'demo':
      await runDemo({ log: createLogger({ level: process.env.LOG_LEVEL ? env.LOG_LEVEL : 'warn' }) });
      return 0;
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

class UsageError extends Error {}

// Output piped into `head` and closed early is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const problem = storeProblem(error);
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`steppewatch: ${(error as Error).message}\n\n${USAGE}`);
      process.exitCode = 2;
    } else if (isUserError(error)) {
      process.stderr.write(`${error.message}\n`);
      process.exitCode = 1;
    } else if (problem !== null) {
      // The database failed under a command (read-only, damaged, disk full): the fix, not a stack.
      process.stderr.write(`steppewatch: ${problem}\n`);
      process.exitCode = 1;
    } else {
      process.stderr.write(`steppewatch: unexpected error: ${(error as Error).stack ?? String(error)}\n`);
      process.exitCode = 1;
    }
  },
);
