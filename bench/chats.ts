// What the chat features cost: /why's lookup of a link among 100,000 stored items (against the
// full scan a store without the link index makes), the matcher noting the query words of items
// that match nothing (against the matcher that does not), and moving a chat with its outbox.

import { readFileSync } from 'node:fs';
import { loadEntities, loadPresets } from '../src/config/load.js';
import { Matcher, type Watchlist } from '../src/match/matcher.js';
import { SqliteStore } from '../src/store/sqlite.js';
import { emptyFeedBatch, type ItemRecord } from '../src/store/store.js';
import { corpus } from './corpus.js';
import { measure, printTable } from './measure.js';

const ITEMS = 100_000;

async function benchWhy(): Promise<void> {
  const store = new SqliteStore(':memory:');
  const at = Date.now();
  for (let start = 0; start < ITEMS; start += 5_000) {
    const batch = emptyFeedBatch(`https://feed${start % 50}.example.test/rss`, at);
    for (let i = start; i < start + 5_000; i++) {
      const record: ItemRecord = { key: `g:${i}`, title: `Item ${i}`, link: `https://news.example.test/${i}`, publishedAt: at, decision: 'no-match', watchlists: [], story: null, contentHash: String(i), language: 'en', forms: ['almaty'] };
      batch.items.push(record);
    }
    await store.commitFeedBatch(batch);
  }
  // better-sqlite3 is synchronous under the async surface: one call is timed as it runs.
  const links = Array.from({ length: 1000 }, (_, i) => [`https://news.example.test/${(i * 97) % ITEMS}`]);
  let found = 0;
  const lookups = async () => {
    for (const link of links) found += (await store.traceLinks(link)).length;
  };
  const time = async (run: () => Promise<void>, repeats: number) => {
    await run();
    const start = performance.now();
    for (let i = 0; i < repeats; i++) await run();
    return (performance.now() - start) / repeats;
  };
  const indexedMs = await time(lookups, 3);
  // The same lookup without the index: what "why not?" costs when a store has to scan its items.
  const db = (store as unknown as { db: { prepare(sql: string): { all(...p: unknown[]): unknown[] } } }).db;
  const scan = db.prepare('SELECT * FROM items WHERE link || \'\' = ?');
  const scanMs = await time(() => {
    for (const [link] of links.slice(0, 20)) scan.all(link);
    return Promise.resolve();
  }, 1);
  const perLookup = indexedMs / links.length;
  const perScan = scanMs / 20;
  process.stdout.write(
    `\nwhy: look up a link among ${ITEMS.toLocaleString('en')} stored items (SQLite; 1,000 lookups, 3 runs)\n` +
      `  steppewatch traceLinks (link index)       ${(perLookup * 1000).toFixed(0).padStart(8)} µs per /why   (${found > 0 ? 'found' : 'not found'})\n` +
      `  full scan of items (no index)             ${(perScan * 1000).toFixed(0).padStart(8)} µs per /why   ${(perScan / perLookup).toFixed(0)}× slower\n` +
      '  target: /why answers in under 5 ms on a store of 100,000 items\n',
  );
  await store.close();
}

function benchNotedForms(): void {
  const items = corpus(readFileSync(new URL('../test/fixtures/seed-almaty-ar.txt', import.meta.url), 'utf8'), 2000);
  const preset = loadPresets(loadEntities()).get('kazakhstan-unrest') as Watchlist;
  const matcher = new Matcher([preset]);
  const noting = measure(() => {
    for (const item of items) matcher.match(item.title, item.text, []);
  }, items.length);
  const plain = measure(() => {
    for (const item of items) matcher.match(item.title, item.text);
  }, items.length);
  printTable(`why: the matcher noting the query words of items that match nothing, ${items.length} items, preset kazakhstan-unrest`, [
    { name: 'steppewatch (forms noted for /why)', ...noting, note: 'target: ≥ 0.9× the matcher alone' },
    { name: 'matcher alone (nothing noted)', ...plain },
  ]);
}

async function benchMove(): Promise<void> {
  const store = new SqliteStore(':memory:');
  const at = Date.now();
  const ROWS = 5_000;
  await store.upsertChat('-3001', 'group', at);
  await store.addChatWatchlist('-3001', { preset: 'kazakhstan-unrest' }, at);
  const batch = emptyFeedBatch('https://f.example.test/rss', at);
  for (let i = 0; i < ROWS; i++) {
    batch.newStories.push({ title: `s${i}`, link: null, keys: [`k${i}`] });
    batch.outbox.push({ story: { newIndex: i }, kind: 'alert', targetId: null, chat: '-3001', threadId: null, linkPreview: false, html: `<b>${i}</b>`, text: String(i) });
  }
  await store.commitFeedBatch(batch);
  const start = performance.now();
  await store.moveChat('-3001', '-1003001', at);
  const ms = performance.now() - start;
  const moved = (await store.dueOutbox(at + 1, ROWS)).filter((r) => r.chat === '-1003001').length;
  process.stdout.write(`\nmove: a group upgraded with ${ROWS.toLocaleString('en')} outbox rows moves in ${ms.toFixed(1)} ms (${moved} rows at the new id; one transaction)\n`);
  await store.close();
}

export async function benchChats(): Promise<void> {
  await benchWhy();
  benchNotedForms();
  await benchMove();
}
