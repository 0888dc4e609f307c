// `steppewatch demo`: serves the bundled sample feeds on 127.0.0.1, runs one cycle on an
// in-memory store and prints the alerts, offline and without a token.

import { readFileSync, readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { loadConfig } from '../config/load.js';
import { BUNDLED_CONFIG_DIR } from '../config/paths.js';
import { parseDuration } from '../config/duration.js';
import { ConsoleSink } from '../delivery/console.js';
import type { Logger } from '../log.js';
import { SqliteStore } from '../store/sqlite.js';
import { runCycle } from '../worker/cycle.js';

const DEMO_DIR = join(BUNDLED_CONFIG_DIR, 'demo');
const CONTENT_TYPES: Record<string, string> = {
  '.xml': 'application/xml; charset=utf-8',
  '.json': 'application/feed+json; charset=utf-8',
};

/** Sample feeds carry `{{ago:90m}}` instead of dates, so their items are always recent. */
function fillDates(text: string, now: number, json: boolean): string {
  return text.replace(/\{\{ago:(\w+)\}\}/gu, (_m, span: string) => {
    const date = new Date(now - (parseDuration(span) ?? 0));
    return json ? date.toISOString() : date.toUTCString();
  });
}

function serveSamples(now: number): Promise<Server> {
  const feedsDir = join(DEMO_DIR, 'feeds');
  const files = new Map(
    readdirSync(feedsDir).map((name) => {
      const ext = name.slice(name.lastIndexOf('.'));
      return [`/${name}`, { body: fillDates(readFileSync(join(feedsDir, name), 'utf8'), now, ext === '.json'), type: CONTENT_TYPES[ext] ?? 'text/plain' }];
    }),
  );
  const server = createServer((req, res) => {
    const file = files.get(req.url ?? '');
    if (!file) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': file.type }).end(file.body);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

export async function runDemo({ log, out = process.stdout }: { log: Logger; out?: NodeJS.WritableStream }): Promise<void> {
  const server = await serveSamples(Date.now());
  const { port } = server.address() as AddressInfo;
  const base = `http://127.0.0.1:${port}`;
  const store = new SqliteStore(':memory:');
  try {
    const config = loadConfig(join(DEMO_DIR, 'steppewatch.yaml'), { ...process.env, DEMO_FEEDS: base });
    out.write(`steppewatch demo: ${config.feeds.length} sample feeds served on ${base}, watchlist kazakhstan-unrest\n\n`);
    const report = await runCycle({ config, store, sink: new ConsoleSink(out), log });
    out.write(
      `demo finished: ${report.items.fetched} items from ${report.feeds.ok} feeds, ` +
        `${report.items.matched} matched, ${report.delivery.sent} alerts, ` +
        `${report.items.folded} repeat reports folded into earlier alerts\n`,
    );
  } finally {
    await store.close();
    await new Promise((resolve) => server.close(resolve));
  }
}
