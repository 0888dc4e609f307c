// `npm run screenshot`: the README's picture of the operator page, made anew. A week of seeded
// monitoring (test/support/page-seed.ts) in a temporary SQLite store, the page served on
// 127.0.0.1 as `run` serves it, and Debian's Chromium taking the picture.

import { rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOperatorPage } from '../../src/page/page.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { browserMissing, launchBrowser } from './browser.js';
import { listenLocal, closeServer } from './local-server.js';
import { seedConfig, seedStore } from './page-seed.js';

const OUTPUT = new URL('../../.github/operator-page.png', import.meta.url);

const missing = browserMissing();
if (missing !== null) {
  process.stderr.write(`screenshot: ${missing}\n`);
  process.exit(1);
}
const file = join(tmpdir(), `steppewatch-screenshot-${process.pid}.db`);
const store = new SqliteStore(file);
const config = seedConfig();
const now = Date.now();
await seedStore(store, { now, rounds: 3 });
const page = createOperatorPage({
  store,
  config: () => config,
  worker: () => Promise.resolve({ ready: true, reasons: [], lastCycleFinishedAt: now - 42_000, roles: ['sender', 'bot', 'digests', 'prune'] }),
  credentials: null,
  secrets: [],
  now: () => now,
});
const server = createServer((request, response) => {
  void page.serve(request, response).then((served) => {
    if (!served) response.writeHead(404).end();
  });
});
const base = await listenLocal(server);
const browser = await launchBrowser();
try {
  const context = await browser.newContext({ viewport: { width: 1360, height: 1600 }, locale: 'en-GB', colorScheme: 'light' });
  const tab = await context.newPage();
  await tab.goto(`${base}/`);
  await tab.screenshot({ path: OUTPUT.pathname });
  process.stdout.write(`wrote ${OUTPUT.pathname}\n`);
} finally {
  await browser.close();
  await closeServer(server);
  await store.close();
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
}
