// The operator page: how long `/` takes to answer for a large install (1,000 feeds, a week of
// 336 stories, 52 destinations each: ~17,000 alerts sent), against the naive way of reading the
// same figures (a query per feed, per alert and per story: N+1), rendered by the same code.

import { rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOperatorPage } from '../src/page/page.js';
import { alertVolume, Destinations, feedRows } from '../src/page/overview.js';
import { overviewPage } from '../src/page/render.js';
import { SqliteStore } from '../src/store/sqlite.js';
import type { SentAlerts, StoryOverview } from '../src/store/store.js';
import { closeServer, listenLocal } from '../test/support/local-server.js';
import { seedConfig, seedStore } from '../test/support/page-seed.js';

const DAY = 86_400_000;
const FEEDS = 1_000;

type Db = { prepare(sql: string): { all(...p: unknown[]): unknown[]; get(...p: unknown[]): unknown } };

async function timed(run: () => Promise<unknown>, repeats: number): Promise<number> {
  await run();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    await run();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] ?? 0;
}

export async function benchPage(): Promise<void> {
  const file = join(tmpdir(), `steppewatch-bench-page-${process.pid}.db`);
  const store = new SqliteStore(file);
  const config = seedConfig(FEEDS);
  const now = Date.now();
  await seedStore(store, { now, rounds: 42, subscribers: 50, extraFeeds: FEEDS });
  const worker = { ready: true, reasons: [], lastCycleFinishedAt: now, roles: ['sender'] };
  const page = createOperatorPage({ store, config: () => config, worker: () => Promise.resolve(worker), credentials: null, secrets: ['123456:secret-token'], now: () => now });
  const server = createServer((request, response) => void page.serve(request, response));
  const base = await listenLocal(server);
  let bytes = 0;
  const ours = await timed(async () => {
    bytes = (await (await fetch(`${base}/`)).arrayBuffer()).byteLength;
  }, 15);
  const storiesMs = await timed(() => fetch(`${base}/stories`).then((r) => r.arrayBuffer()), 15);
  const whyMs = await timed(() => fetch(`${base}/why?link=${encodeURIComponent('https://tass.example/rss/v2.xml')}`).then((r) => r.arrayBuffer()), 15);

  // The naive page: the same figures, a query at a time.
  const db = (store as unknown as { db: Db }).db;
  let alerts = 0;
  const naive = await timed(async () => {
    const since = now - 7 * DAY;
    const counts = new Map<string, number>();
    for (const feed of config.feeds) counts.set(feed.url, (db.prepare(`SELECT COUNT(*) AS n FROM items WHERE feed_url = ? AND first_seen_at >= ? AND decision <> 'backlog'`).get(feed.url, since) as { n: number }).n);
    const sent = db.prepare(`SELECT story_id, chat, sent_at FROM outbox WHERE kind = 'alert' AND status = 'sent' AND sent_at >= ?`).all(since) as Array<{ story_id: number; chat: string; sent_at: number }>;
    const withLists: SentAlerts = { alerts: [], watchlists: new Map() };
    for (const row of sent) {
      const found = db.prepare(`SELECT watchlists FROM items WHERE story_id = ? AND decision = 'alerted' LIMIT 1`).get(row.story_id) as { watchlists: string } | undefined;
      withLists.alerts.push({ at: row.sent_at, chat: row.chat, storyId: row.story_id });
      withLists.watchlists.set(row.story_id, JSON.parse(found?.watchlists ?? '[]') as string[]);
    }
    alerts = sent.length;
    const stories = (db.prepare('SELECT id, title, link, created_at, breaking_at FROM stories ORDER BY created_at DESC LIMIT 10').all() as Array<{ id: number; title: string; link: string | null; created_at: number; breaking_at: number | null }>).map(
      (s): StoryOverview => {
        const reports = db.prepare('SELECT at, source, link, title, language FROM story_reports WHERE story_id = ? ORDER BY at').all(s.id) as StoryOverview['reports'];
        const messages = (db.prepare('SELECT chat, thread_id, kind, status, sent_at FROM outbox WHERE story_id = ?').all(s.id) as Array<{ chat: string; thread_id: number; kind: 'alert'; status: 'sent'; sent_at: number | null }>).map((m) => ({ chat: m.chat, threadId: null, kind: m.kind, status: m.status, sentAt: m.sent_at }));
        const digests = db.prepare('SELECT chat, queued_at AS queuedAt FROM digest_items WHERE story_id = ?').all(s.id) as StoryOverview['digests'];
        return { id: s.id, title: s.title, link: s.link, createdAt: s.created_at, breakingAt: s.breaking_at, reports, reportCount: reports.length, messages, digests };
      },
    );
    const states = await store.feedStates();
    const destinations = new Destinations(config.channels, new Map());
    const view = { locale: 'en' as const, timeZone: 'UTC', now, version: 'bench', path: '/', query: new URLSearchParams() };
    overviewPage(view, {
      worker,
      chats: { active: 50, inactive: 0 },
      feeds: feedRows(config.feeds, states, counts, now),
      volume: alertVolume(withLists, config.channels, destinations, now),
      delivery: { day: { sent: 0, retried: 0, failed: 0, rateLimited: 0, pending: 0 }, week: { sent: 0, retried: 0, failed: 0, rateLimited: 0, pending: 0 } },
      stories,
      destinations,
    });
  }, 5);
  await closeServer(server);
  await store.close();
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
  process.stdout.write(
    `\npage: the operator page's / for ${config.feeds.length.toLocaleString('en')} feeds and a week of ${alerts.toLocaleString('en')} alerts sent (SQLite; median of 15)  target ≤ 250 ms\n` +
      `  steppewatch GET / over HTTP (reads + render)   ${ours.toFixed(1).padStart(8)} ms   ${Math.round(bytes / 1024)} KB\n` +
      `  naive: a query per feed, alert and story       ${naive.toFixed(1).padStart(8)} ms   (in process, no HTTP)   ${(naive / ours).toFixed(1)}× slower\n` +
      `  steppewatch GET /stories (30 stories)          ${storiesMs.toFixed(1).padStart(8)} ms\n` +
      `  steppewatch GET /why?link= (one lookup)        ${whyMs.toFixed(1).padStart(8)} ms\n`,
  );
}
