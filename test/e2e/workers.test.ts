// Several workers on one PostgreSQL database, as an operator scales steppewatch out: three `run`
// processes (the real CLI) share the feeds and the roles, with a local feed server and the fake
// Bot API behind a tap that tells which process made each call. What a user notices: every story
// reaches every chat once, whichever worker saw it and whichever worker dies (SIGKILL) mid-way.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeTelegram, FAKE_TOKEN } from '../support/fake-telegram.js';
import { FeedServer } from '../support/feed-server.js';
import { testDatabaseUrl, useTestSchema, type TestSchema } from '../support/postgres.js';
import { advisoryKey } from '../../src/store/postgres.js';
import {
  alertsPerStory,
  Fleet,
  holderOf,
  linesOf,
  newsCorpus,
  oncePerStory,
  query,
  roleTaken,
  rolesOf,
  TelegramTap,
  until,
  within,
  workersConfig,
  type Story,
  type WorkerProcess,
} from '../support/workers.js';

const NAMES = ['w1', 'w2', 'w3'];
/** workers.role_check in these tests: how soon a free role is taken */
const ROLE_CHECK_MS = 200;
/** what a role's move may take beyond one role check: the database noticing the dead connection, a loaded machine */
const ROLE_MOVE_SLACK_MS = 1_800;
/** Two subscribers of the preset: one has its alerts edited as outlets join, one does not. */
const CHAT_A = '7001';
const CHAT_B = '7002';

let feeds: FeedServer;
let telegram: FakeTelegram;
let tap: TelegramTap;
let fleet: Fleet;
let dir: string;

beforeEach(async () => {
  feeds = await new FeedServer().start();
  telegram = await new FakeTelegram().start();
  tap = new TelegramTap(telegram);
  fleet = new Fleet(tap);
  dir = mkdtempSync(join(tmpdir(), 'steppewatch-workers-'));
});

afterEach(async () => {
  // No process outlives its test (the schema is dropped after this, by useTestSchema).
  await fleet.killAll();
  await tap.close();
  await feeds.stop();
  await telegram.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A cycle every two seconds, roles tried every 200 ms, feeds claimed 50 at a time. */
function settings(workers = ''): string {
  return `schedule: "*/2 * * * * *"\nworkers:\n  role_check: ${ROLE_CHECK_MS}ms\n${workers}fetch:\n  concurrency: 8\n  per_host: 8\n`;
}

function writeConfig(text: string): string {
  const file = join(dir, 'steppewatch.yaml');
  writeFileSync(file, text);
  return file;
}

function env(schema: TestSchema): Record<string, string> {
  return { DATABASE_URL: schema.url, TELEGRAM_BOT_TOKEN: FAKE_TOKEN, TELEGRAM_API_ROOT: telegram.apiRoot, LOG_LEVEL: 'debug' };
}

function startRuns(config: string, schema: TestSchema): Promise<WorkerProcess[]> {
  return Promise.all(NAMES.map((name) => fleet.start(name, ['run', '--config', config], env(schema))));
}

/**
 * Three workers fanning 5 stories out to 12 chats (60 alerts) through a slow Bot API, so that the
 * sender has several sends open at any moment; resolves once one of them is the sender.
 */
async function startFanOut() {
  const schema = await useTestSchema();
  const corpus = newsCorpus(feeds, 30);
  const chats = Array.from({ length: 12 }, (_, i) => String(8001 + i));
  const config = writeConfig(workersConfig(feeds, corpus.paths, chats.map((chat) => ({ chat, updates: 'silent' as const })), settings()));
  telegram.latencyMs = 100;
  const workers = await startRuns(config, schema);
  const { worker: sender } = await holderOf(workers, 'sender', 15_000);
  return { schema, corpus, chats, workers, sender, total: chats.length * corpus.stories.length };
}

/** How many rows of a table match; -1 while the schema is not there yet. */
async function count(schema: TestSchema, sql: string): Promise<number> {
  try {
    const [row] = await query<{ n: string }>(schema.connectionString, schema.schema, sql);
    return Number(row?.n ?? 0);
  } catch {
    return -1;
  }
}

/** Every feed has been polled and committed, and nothing waits in the outbox: all that will be sent, was. */
async function allDelivered(schema: TestSchema, feedCount: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  await until(async () => (await count(schema, 'SELECT count(*) AS n FROM feeds WHERE last_success_at IS NOT NULL')) === feedCount, `all ${feedCount} feeds polled`, timeoutMs, 100);
  await until(async () => (await count(schema, "SELECT count(*) AS n FROM outbox WHERE status = 'pending'")) === 0, 'the outbox to empty', Math.max(0, deadline - Date.now()), 100);
}

/** Which workers' logs say they processed (downloaded, decided, committed) each feed. */
function processedBy(workers: WorkerProcess[]): Map<string, Array<{ worker: string; time: number }>> {
  const byFeed = new Map<string, Array<{ worker: string; time: number }>>();
  for (const worker of workers) {
    for (const line of linesOf(worker)) {
      if (line.msg !== 'feed processed') continue;
      const feed = String(line.feed);
      byFeed.set(feed, [...(byFeed.get(feed) ?? []), { worker: worker.name, time: Number(line.time) }]);
    }
  }
  return byFeed;
}

/**
 * Who sent the chat's messages that name the story, in order (from the tap): the sends Telegram
 * answered, and those whose sender died before the answer reached it.
 */
function sendersOf(chat: string, story: Story): string[] {
  return tap.calls
    .filter((c) => c.method === 'sendMessage' && (c.status === 200 || c.dropped) && String(c.body.chat_id) === chat && String(c.body.text).includes(story.marker))
    .map((c) => c.worker);
}

describe.skipIf(!testDatabaseUrl())('three workers on one PostgreSQL database', () => {
  it('share 200 feeds: every story reaches each chat once, each feed is downloaded by one of them, one is the sender', async () => {
    const schema = await useTestSchema();
    const corpus = newsCorpus(feeds, 200);
    const config = writeConfig(workersConfig(feeds, corpus.paths, [{ chat: CHAT_A }, { chat: CHAT_B, updates: 'silent' }], settings()));
    const workers = await startRuns(config, schema);
    await allDelivered(schema, 200, 45_000);

    // Five stories, each in dozens of feeds (the same item, rewrites): one alert each per chat.
    for (const chat of [CHAT_A, CHAT_B]) expect(alertsPerStory(telegram, chat, corpus.stories), `alerts to ${chat}`).toEqual(oncePerStory(corpus.stories));

    // The feeds were shared: each processed by exactly one worker, and not all by the same one.
    const byFeed = processedBy(workers);
    expect(byFeed.size).toBe(200);
    expect([...byFeed].filter(([, by]) => by.length > 1)).toEqual([]);
    const pollers = new Set([...byFeed.values()].flatMap((by) => by.map((b) => b.worker)));
    expect(pollers.size, `feeds per worker: ${NAMES.map((n) => [...byFeed.values()].filter((by) => by[0]?.worker === n).length).join('/')}`).toBeGreaterThan(1);

    // One sender: /readyz and /metrics of each say so, one `role taken`, and every send is its.
    const roles = await Promise.all(workers.map(rolesOf));
    const senders = workers.filter((_, i) => roles[i]?.includes('sender'));
    expect(senders).toHaveLength(1);
    const metrics = await Promise.all(workers.map(async (w) => (await fetch(`http://127.0.0.1:${w.port}/metrics`)).text()));
    expect(metrics.map((text) => text.includes('steppewatch_role_held{role="sender"} 1'))).toEqual(workers.map((w) => w === senders[0]));
    // One bot too: the bot role's one `role taken` line.
    expect(workers.flatMap((w) => linesOf(w).filter((l) => l.msg === 'role taken' && l.role === 'bot'))).toHaveLength(1);
    const delivering = new Set(tap.calls.filter((c) => c.method === 'sendMessage' || c.method === 'editMessageText').map((c) => c.worker));
    expect([...delivering]).toEqual([senders[0]?.name]);
  }, 80_000);

  it('a worker killed with SIGKILL while it holds claimed feeds loses no alert: the others poll its feeds once its lease ends', async () => {
    const schema = await useTestSchema();
    // One slow feed at the head of each claim of 50: every worker is likely to hold one for a while.
    const slow = [1, 51, 101, 151];
    const corpus = newsCorpus(feeds, 200, { slow, slowMs: 2_500 });
    const config = writeConfig(workersConfig(feeds, corpus.paths, [{ chat: CHAT_A }, { chat: CHAT_B, updates: 'silent' }], settings('  lease: 3s\n')));
    const slowUrls = slow.map((i) => `${feeds.url}${corpus.paths[i] ?? ''}`);
    const requestedAt = new Map<string, number>();
    for (const i of slow) void feeds.requested(corpus.paths[i] ?? '').then(() => requestedAt.set(`${feeds.url}${corpus.paths[i] ?? ''}`, Date.now()));
    const workers = await startRuns(config, schema);
    const { worker: sender } = await holderOf(workers, 'sender', 15_000);

    // A worker other than the sender (so no send is cut short) in the middle of fetching a slow
    // feed, with a second of it left at least: it dies holding the claim, before the answer.
    let victim: WorkerProcess | undefined;
    let held: Array<{ url: string; leaseUntil: number }> = [];
    await until(
      async () => {
        const rows = await query<{ url: string; lease_holder: string; lease_until: string }>(
          schema.connectionString,
          schema.schema,
          'SELECT url, lease_holder, lease_until FROM feeds WHERE url = ANY($1) AND lease_until > $2',
          [slowUrls, Date.now()],
        ).catch(() => []);
        for (const row of rows) {
          const holder = fleet.byPid(Number(row.lease_holder.split('-')[0]));
          const fetchingFor = Date.now() - (requestedAt.get(row.url) ?? Infinity);
          if (!holder || holder === sender || !(fetchingFor >= 0 && fetchingFor < 1_500)) continue;
          victim = holder;
          held = rows.filter((r) => r.lease_holder === row.lease_holder).map((r) => ({ url: r.url, leaseUntil: Number(r.lease_until) }));
          return true;
        }
        return false;
      },
      'a worker other than the sender to be fetching a slow feed',
      20_000,
      25,
    );
    if (!victim) throw new Error('no victim');
    const requestsBeforeKill = feeds.requests.length;
    await fleet.kill(victim);
    await allDelivered(schema, 200, 45_000);

    // Nothing lost, nothing twice: the slow feeds' story too.
    for (const chat of [CHAT_A, CHAT_B]) expect(alertsPerStory(telegram, chat, corpus.stories), `alerts to ${chat}`).toEqual(oncePerStory(corpus.stories));
    // The victim's feeds were polled again by survivors, and not before its lease ended.
    const survivors = workers.filter((w) => w !== victim);
    const byFeed = processedBy(survivors);
    for (const { url, leaseUntil } of held) {
      expect(feeds.requests.slice(requestsBeforeKill).some((r) => `${feeds.url}${r.path}` === url), `${url} polled after the kill`).toBe(true);
      const processed = byFeed.get(url) ?? [];
      expect(processed.length, `${url} processed by a survivor`).toBeGreaterThan(0);
      for (const { time } of processed) expect(time, `${url} processed after its lease`).toBeGreaterThanOrEqual(leaseUntil);
    }
  }, 80_000);

  it('the sender killed with SIGKILL mid-fan-out: a survivor takes the role within the role check, no alert is lost, only sends in flight go twice', async () => {
    const { schema, corpus, chats, workers, sender, total } = await startFanOut();

    // Killed as a third of the alerts have landed.
    let killedAt = 0;
    let deliveredAtKill = 0;
    const killed = new Promise<void>((resolve) => {
      const killAtAThird = (): void => {
        if (killedAt !== 0 || telegram.messages.length < total / 3) return;
        sender.child.kill('SIGKILL');
        killedAt = Date.now();
        deliveredAtKill = telegram.messages.length;
        resolve();
      };
      telegram.onDelivered = killAtAThird;
      killAtAThird();
    });
    await within(killed, 20_000, 'a third of the alerts to be delivered');
    expect(deliveredAtKill).toBeLessThan(total);

    const survivors = workers.filter((w) => w !== sender);
    const { worker: next, seenAt } = await holderOf(survivors, 'sender', 10_000);
    expect(seenAt - killedAt).toBeLessThan(ROLE_CHECK_MS + ROLE_MOVE_SLACK_MS);
    await allDelivered(schema, 30, 45_000);

    // Every chat has every story; a story goes twice to a chat only if its send was in flight at the
    // kill: sent before it (by the dead sender), at most one per chat (one send per chat at a time)
    // and at most as many as the sender keeps in flight (8).
    const doubled: string[] = [];
    for (const chat of chats) {
      const counts = alertsPerStory(telegram, chat, corpus.stories);
      expect(Object.keys(counts).sort(), `alerts to ${chat}`).toEqual(corpus.stories.map((s) => s.marker).sort());
      expect(Object.values(counts).every((n) => n === 1 || n === 2), `alerts to ${chat}: ${JSON.stringify(counts)}`).toBe(true);
      const twice = corpus.stories.filter((s) => counts[s.marker] === 2);
      expect(twice.length, `stories twice to ${chat}`).toBeLessThanOrEqual(1);
      for (const story of twice) {
        const [first, second] = sendersOf(chat, story);
        expect(first, `${chat}/${story.marker}`).toBe(sender.name);
        expect(second, `${chat}/${story.marker}`).toBe(next.name);
        doubled.push(`${chat}/${story.marker}`);
      }
    }
    expect(doubled.length, `doubled: ${doubled.join(', ')}`).toBeLessThanOrEqual(8);
    // One sender after the move too: the rest went out through the survivor that took the role.
    expect(new Set(tap.calls.filter((c) => c.method === 'sendMessage' && c.worker !== sender.name).map((c) => c.worker))).toEqual(new Set([next.name]));
    expect(telegram.messages.length).toBe(total + doubled.length);
  }, 60_000);

  it('a sender whose role connection is cut (the process lives on) stops sending at once; the new sender sends the rest', async () => {
    const { schema, corpus, chats, workers, sender, total } = await startFanOut();
    await until(() => telegram.messages.length >= total / 3, 'a third of the alerts', 20_000, 10);
    // What a network blip or a database restart does to the sender's connection for roles.
    const key = BigInt.asUintN(64, BigInt(advisoryKey(schema.schema, 'sender')));
    const cut = await query<{ ok: boolean }>(
      schema.connectionString,
      schema.schema,
      `SELECT pg_terminate_backend(pid) AS ok FROM pg_locks
       WHERE locktype = 'advisory' AND granted AND objsubid = 1 AND classid = $1::bigint::oid AND objid = $2::bigint::oid`,
      [String(key >> 32n), String(BigInt.asUintN(32, key))],
    );
    expect(cut.map((row) => row.ok)).toEqual([true]);
    const { worker: next, seenAt } = await holderOf(workers.filter((w) => w !== sender), 'sender', 10_000);
    await allDelivered(schema, 30, 45_000);
    for (const chat of chats) {
      const counts = alertsPerStory(telegram, chat, corpus.stories);
      expect(Object.keys(counts).sort(), `alerts to ${chat}`).toEqual(corpus.stories.map((s) => s.marker).sort());
      expect(Object.values(counts).every((n) => n === 1 || n === 2), `alerts to ${chat}: ${JSON.stringify(counts)}`).toBe(true);
    }
    // The old sender starts no send once the new one holds the role: only sends already open may go twice.
    const late = tap.calls.filter((c) => c.method === 'sendMessage' && c.worker === sender.name && c.startedAt > seenAt);
    expect(late).toHaveLength(0);
    expect(telegram.messages.length - total).toBeLessThanOrEqual(8);
    expect(next.name).not.toBe(sender.name);
    expect(linesOf(sender).some((line) => line.msg === 'role lost; another worker takes it over' && line.role === 'sender')).toBe(true);
  }, 60_000);

  it('one worker at a time long-polls getUpdates; after SIGKILL of it a survivor takes the bot role and answers the next command', async () => {
    const schema = await useTestSchema();
    const corpus = newsCorpus(feeds, 10);
    const config = writeConfig(workersConfig(feeds, corpus.paths, [{ chat: CHAT_A, updates: 'silent' }], settings()));
    const workers = await startRuns(config, schema);
    const { worker: holder } = await within(roleTaken(workers, 'bot'), 15_000, 'a worker to take the bot role');
    // All three up (each has finished a cycle): each has tried the role many times by now.
    await within(Promise.all(workers.map((w) => w.waitForLog((l) => l.msg === 'cycle finished'))), 20_000, 'a cycle of every worker');
    const polling = (worker: WorkerProcess, offset = 0) => () =>
      tap.calls.some((c) => c.worker === worker.name && c.method === 'getUpdates' && c.endedAt === null && Number(c.body.offset ?? 0) >= offset);
    await until(polling(holder), 'the bot role holder to long-poll');

    telegram.userSays({ id: 4201, type: 'private' }, 4201, '/help');
    await until(() => telegram.sentTo(4201).length > 0, 'an answer to /help', 10_000);
    // Answered, and the offset kept: it polls for what comes after the command.
    await until(polling(holder, 2), 'the holder to poll past /help', 10_000);
    expect(new Set(tap.calls.filter((c) => c.method === 'getUpdates').map((c) => c.worker))).toEqual(new Set([holder.name]));

    const killedAt = Date.now();
    await fleet.kill(holder);
    const survivors = workers.filter((w) => w !== holder);
    const { worker: next, line } = await within(roleTaken(survivors, 'bot'), 10_000, 'a survivor to take the bot role');
    expect(Number(line.time) - killedAt).toBeLessThan(ROLE_CHECK_MS + ROLE_MOVE_SLACK_MS);
    expect(await rolesOf(next)).toContain('bot');

    telegram.userSays({ id: 4202, type: 'private' }, 4202, '/start');
    await until(() => telegram.sentTo(4202).length > 0, 'an answer to /start', 10_000);
    const answers = tap.calls.filter((c) => c.method === 'sendMessage' && ['4201', '4202'].includes(String(c.body.chat_id)));
    expect(answers.map((c) => [String(c.body.chat_id), c.worker])).toEqual([
      ['4201', holder.name],
      ['4202', next.name],
    ]);
    expect(telegram.sentTo(4202)[0]).toContain('/presets');

    // Never two pollers at once (Telegram's 409); after the kill, only the new holder polled.
    expect(tap.overlappingPolls()).toEqual([]);
    expect(new Set(tap.calls.filter((c) => c.method === 'getUpdates' && c.startedAt > killedAt).map((c) => c.worker))).toEqual(new Set([next.name]));
  }, 60_000);

  it('three `once` started at the same moment on a fresh schema alert each story once', async () => {
    const schema = await useTestSchema();
    const corpus = newsCorpus(feeds, 60);
    const config = writeConfig(workersConfig(feeds, corpus.paths, [{ chat: CHAT_A }, { chat: CHAT_B, updates: 'silent' }], settings()));
    const runs = await Promise.all(NAMES.map((name) => fleet.start(name, ['once', '--config', config], { ...env(schema), LOG_LEVEL: 'info' })));
    const codes = await within(Promise.all(runs.map((r) => r.exited)), 50_000, 'the three runs to finish');
    expect(codes, runs.map((r) => r.stderr()).join('\n')).toEqual([0, 0, 0]);
    for (const chat of [CHAT_A, CHAT_B]) expect(alertsPerStory(telegram, chat, corpus.stories), `alerts to ${chat}`).toEqual(oncePerStory(corpus.stories));
  }, 60_000);
});
