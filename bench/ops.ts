// Operations overhead: what scrubbing secrets costs per log line (against pino's redact paths and
// plain pino), and what a /metrics scrape costs with 1000 feeds in the store (against
// prom-client's own process metrics).

import { Writable } from 'node:stream';
import { pino } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { parseConfig } from '../src/config/load.js';
import { createLogger } from '../src/log.js';
import { SqliteStore } from '../src/store/sqlite.js';
import { Metrics } from '../src/worker/metrics.js';
import { measure, printTable } from './measure.js';

const TOKEN = '123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw';
const LINES = 10_000;

function benchLogs(): void {
  const sink = () => new Writable({ write: (_c, _e, cb) => cb() });
  const ours = createLogger({ secrets: [TOKEN, 'sk-summary-key-0123456789'], destination: sink() });
  const plain = pino({ base: undefined }, sink());
  // The usual way to hide secrets in pino: redact paths (what this logger did before).
  const redacting = pino(
    { base: undefined, redact: { paths: ['token', '*.token', 'apiKey', '*.apiKey', 'headers.authorization', '*.headers.authorization'], censor: '[redacted]' } },
    sink(),
  );
  const report = {
    feeds: { ok: 14, unchanged: 2, failed: 1, deferred: 0 },
    bytes: 1_843_221,
    items: { fetched: 612, new: 37, matched: 5, folded: 2, updated: 1 },
    stories: 3,
    alertsQueued: 3,
    delivery: { sent: 3, retried: 0, failed: 0, rateLimited: 0, pending: 0 },
    interrupted: false,
    durationMs: 4210,
  };
  const write = (log: pino.Logger) => () => {
    for (let i = 0; i < LINES; i++) log.info(report, 'cycle finished');
  };
  printTable(`logs: ${LINES.toLocaleString('en')} "cycle finished" lines (items/s = lines/s)`, [
    { name: 'steppewatch (secrets and auth scrubbed)', ...measure(write(ours), LINES, 5) },
    { name: 'pino with redact paths', ...measure(write(redacting), LINES, 5), note: 'fields only: misses a token inside a message or URL' },
    { name: 'plain pino (no scrubbing)', ...measure(write(plain), LINES, 5) },
  ]);
}

async function medianMs(run: () => Promise<unknown>, repeats: number): Promise<number> {
  for (let i = 0; i < 5; i++) await run();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    await run();
    times.push(performance.now() - start);
  }
  return times.sort((a, b) => a - b)[Math.floor(repeats / 2)] ?? 0;
}

async function benchScrape(): Promise<void> {
  const FEEDS = 1000;
  const store = new SqliteStore(':memory:');
  const urls = Array.from({ length: FEEDS }, (_, i) => `https://news${i % 100}.example.test/feed${i}.xml`);
  const config = parseConfig(`feeds:\n${urls.map((u) => `  - url: ${u}\n`).join('')}`, 'bench.yaml', {});
  for (const [i, url] of urls.entries()) {
    if (i % 10 === 0) await store.recordFeedFailure(url, 'HTTP 500', Date.now(), Date.now() + 60_000);
    else await store.recordFeedUnchanged(url, Date.now());
  }
  const metrics = new Metrics({ store, config: () => config });
  const bare = new Registry();
  collectDefaultMetrics({ register: bare });
  const ours = await medianMs(() => metrics.registry.metrics(), 101);
  const floor = await medianMs(() => bare.metrics(), 101);
  process.stdout.write(
    `\nmetrics: one /metrics scrape, ${FEEDS} feeds in the store (median of 101)\n` +
      `  steppewatch registry                     ${ours.toFixed(2).padStart(8)} ms\n` +
      `  prom-client process metrics alone        ${floor.toFixed(2).padStart(8)} ms   (our gauges and counters add ${(ours - floor).toFixed(2)} ms)\n`,
  );
  await store.close();
}

export async function benchOps(): Promise<void> {
  benchLogs();
  await benchScrape();
}
