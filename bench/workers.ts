// Several workers on one database: one cycle over 2,000 feeds (100 loopback hosts, 50 ms to first
// byte, served by the ingestion benchmark's feed farm in its own process) by 1, 2 and 3 worker
// processes on one fresh PostgreSQL schema, and by 1 worker on a fresh SQLite file, in one run.
// Each worker is a child process running one `runCycle` (bench/workers-process.ts); they start
// together and the cycle is over when the last one has finished. The baseline is the one process
// on SQLite: what steppewatch did before it could share a database. The farm is warmed once,
// before the first configuration, so that none finds it warmer than another did.
// The story step (decide and commit, one feed at a time under the store's "stories" lock, across
// every process) is timed in the workers: ms held per feed committed and per new story and alert.
// Runs alone too: `npx tsx bench/workers.ts`. PostgreSQL: BENCH_DATABASE_URL, by default
// postgres://postgres@127.0.0.1:5432/test; without it, the PostgreSQL rows are skipped (said so).

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { takeQueryParam } from '../src/store/postgres.js';
import { startPeer, type Peer } from './ipc.js';
import type { WorkerResult } from './workers-process.js';

const HOSTS = 100;
const FEEDS = 2000;
// 20 items a feed: at a first poll the newest 10 (backlog.max_items) may alert, the rest are recorded.
const ITEMS = 20;
const LATENCY_MS = 50;
// Events the items report (see feed-farm.ts), each in some 65 items of as many feeds; one in UNREST_EVERY is unrest
// in Kazakhstan, which the preset matches (the ingestion benchmark's mix has a third: with it the
// serialized story step alone takes PostgreSQL configurations far past the two minutes of this one).
const EVENTS = 600;
const UNREST_EVERY = 10;
const DEFAULT_PG = 'postgres://postgres@127.0.0.1:5432/test';

const start = (file: string, args: string[], env?: NodeJS.ProcessEnv): Peer => startPeer(new URL(file, import.meta.url), args, env);

interface Database {
  url: string;
  drop(): Promise<void>;
}

async function withClient<T>(connectionString: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

function sqliteDatabase(): Database {
  const dir = mkdtempSync(join(tmpdir(), 'steppewatch-bench-workers-'));
  return { url: `sqlite:${join(dir, 'bench.db')}`, drop: () => Promise.resolve(rmSync(dir, { recursive: true, force: true })) };
}

async function postgresDatabase(connectionString: string): Promise<Database> {
  const schema = `sw_bench_${randomBytes(6).toString('hex')}`;
  await withClient(connectionString, (client) => client.query(`CREATE SCHEMA "${schema}"`));
  const separator = connectionString.includes('?') ? '&' : '?';
  return {
    url: `${connectionString}${separator}schema=${schema}`,
    drop: async () => void (await withClient(connectionString, (client) => client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`))),
  };
}

interface Run {
  name: string;
  wallMs: number;
  workers: WorkerResult[];
}

/** Starts `count` workers on `database`, lets them go at once, and waits for every one to finish its cycle. */
async function runWorkers(name: string, count: number, database: Database, urls: string[]): Promise<Run> {
  const peers = Array.from({ length: count }, () => start('./workers-process.ts', [database.url]));
  try {
    for (const peer of peers) peer.process.send({ type: 'urls', urls });
    // Opened, migrated and configured before the clock starts: the cycle alone is timed.
    await Promise.all(peers.map((peer) => peer.mail.next('ready')));
    const started = performance.now();
    // One round for all: as the schedule's tick is for workers started by cron.
    const round = Date.now();
    for (const peer of peers) peer.process.send({ type: 'go', round });
    const workers = await Promise.all(peers.map((peer) => peer.mail.next<WorkerResult>('result')));
    const wallMs = performance.now() - started;
    await Promise.all(peers.map((peer) => new Promise<void>((done) => (peer.process.exitCode === null ? peer.process.once('exit', () => done()) : done()))));
    return { name, wallMs, workers };
  } finally {
    for (const peer of peers) if (peer.process.exitCode === null) peer.process.kill();
  }
}

/** Every feed once, many at a time, so the farm's own code is warm before the first configuration (none is favoured). */
async function warmFarm(urls: string[]): Promise<void> {
  const queue = [...urls];
  await Promise.all(
    Array.from({ length: HOSTS }, async () => {
      for (let url = queue.pop(); url !== undefined; url = queue.pop()) await (await fetch(url)).arrayBuffer();
    }),
  );
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

const cell = (text: string, width: number) => text.padStart(width);

function print(runs: Run[], skipped: string | null): void {
  const cores = availableParallelism();
  const first = runs[0]?.workers[0];
  const name = (run: Run) => `  ${run.name.padEnd(28)}`;
  process.stdout.write(
    `\nworkers: one cycle over ${FEEDS} feeds × ${ITEMS} items on ${HOSTS} loopback hosts (a separate process), ${LATENCY_MS} ms to first byte, ` +
      `reporting ${EVENTS} events (1 in ${UNREST_EVERY} unrest, matched by the kazakhstan-unrest preset); ` +
      `fetch concurrency ${first?.concurrency ?? '?'}, ${first?.perHost ?? '?'} per host, per worker (the defaults); a fresh database for each configuration\n`,
  );
  process.stdout.write(
    `  ${'the cycle'.padEnd(28)} ${cell('wall', 8)} ${cell('× base', 6)}  ${'feeds polled per worker'.padEnd(24)} ${cell('items', 6)} ${cell('matched', 7)} ${cell('stories', 7)} ${cell('alerts', 6)}  ${'CPU s per worker'.padEnd(18)} loop delay ms (mean, p99)\n`,
  );
  const base = runs[0]?.wallMs ?? 1;
  for (const run of runs) {
    const w = run.workers;
    const failed = sum(w.map((r) => r.failed));
    process.stdout.write(
      `${name(run)} ${cell(`${(run.wallMs / 1000).toFixed(2)} s`, 8)} ${cell(`${(base / run.wallMs).toFixed(2)}×`, 6)}  ${w.map((r) => r.polled).join(' + ').padEnd(24)} ` +
        `${cell(String(sum(w.map((r) => r.items))), 6)} ${cell(String(sum(w.map((r) => r.matched))), 7)} ${cell(String(sum(w.map((r) => r.stories))), 7)} ${cell(String(sum(w.map((r) => r.alerts))), 6)}  ` +
        `${w.map((r) => (r.cpuMs / 1000).toFixed(1)).join(' / ').padEnd(18)} ${w.map((r) => `${r.loopDelayMs.mean.toFixed(0)}, ${r.loopDelayMs.p99.toFixed(0)}`).join(' / ')}${failed > 0 ? `  (${failed} feeds failed)` : ''}\n`,
    );
  }
  process.stdout.write(
    `  ${'the story step ("stories")'.padEnd(28)} ${cell('held', 8)} ${cell('of wall', 7)}  ${cell('ms/feed', 7)} ${cell('ms/matched', 10)} ${cell('ms/story', 9)} ${cell('ms/alert', 9)}  lock wait s per worker\n`,
  );
  for (const run of runs) {
    const w = run.workers;
    const held = sum(w.map((r) => r.lockHeldMs));
    const per = (n: number) => (n > 0 ? (held / n).toFixed(n >= 100 ? 2 : 0) : '–');
    process.stdout.write(
      `${name(run)} ${cell(`${(held / 1000).toFixed(2)} s`, 8)} ${cell(`${Math.round((held / run.wallMs) * 100)}%`, 7)}  ${cell(per(sum(w.map((r) => r.lockSections))), 7)} ` +
        `${cell(per(sum(w.map((r) => r.matched))), 10)} ${cell(per(sum(w.map((r) => r.stories))), 9)} ` +
        `${cell(per(sum(w.map((r) => r.alerts))), 9)}  ${w.map((r) => (r.lockWaitMs / 1000).toFixed(1)).join(' / ')}\n`,
    );
  }
  process.stdout.write(`  ${'under the lock, ms per feed'.padEnd(28)} by store call (calls per feed), the rest is this process's own work (matching, fingerprints, rendering) and unlocking\n`);
  for (const run of runs) {
    const w = run.workers;
    const feeds = Math.max(1, sum(w.map((r) => r.lockSections)));
    const byMethod = new Map<string, { count: number; ms: number }>();
    for (const r of w) {
      for (const [method, { count, ms }] of Object.entries(r.calls)) {
        const entry = byMethod.get(method) ?? { count: 0, ms: 0 };
        byMethod.set(method, { count: entry.count + count, ms: entry.ms + ms });
      }
    }
    const inStore = sum([...byMethod.values()].map((e) => e.ms));
    const parts = [...byMethod].sort((a, b) => b[1].ms - a[1].ms).map(([method, e]) => `${method} ${(e.ms / feeds).toFixed(2)} (${(e.count / feeds).toFixed(1)})`);
    process.stdout.write(`${name(run)} ${parts.join(' · ')} · rest ${((sum(w.map((r) => r.lockHeldMs)) - inStore) / feeds).toFixed(2)}\n`);
  }
  if (skipped) process.stdout.write(`  PostgreSQL rows skipped: ${skipped}\n`);
  process.stdout.write(
    `  baseline (× base): the one SQLite worker, one process as before workers could share a database; checked: the workers polled ${FEEDS} feeds between them in every configuration\n` +
      '  held: how long the "stories" lock was held (decide, commit, unlock), summed over workers; of wall: its share of the cycle (near 100%: the serialized step is the bottleneck);\n' +
      '  ms/feed: held per feed decided and committed; per item matched, new story and alert queued likewise; lock wait: from asking for the lock until holding it (one worker alone: what taking it costs)\n',
  );
  const busiest = runs.at(-1);
  const cpu = busiest ? sum(busiest.workers.map((r) => r.cpuMs)) : 0;
  process.stdout.write(
    `  os.availableParallelism() = ${cores}: the workers, the feed farm and PostgreSQL share ${cores === 1 ? 'one core' : `${cores} cores`}` +
      (busiest ? `; ${busiest.name} used ${(cpu / 1000).toFixed(1)} CPU-s in its workers of the ${((busiest.wallMs * cores) / 1000).toFixed(1)} core-s its wall time offered` : '') +
      `; workers beyond the free cores can hide fetch latency, not add compute, and none can shorten the serialized story step\n`,
  );
}

export async function benchWorkers(): Promise<void> {
  const pgUrl = takeQueryParam(process.env.BENCH_DATABASE_URL ?? DEFAULT_PG, 'schema').url;
  let skipped: string | null = null;
  try {
    await withClient(pgUrl, (client) => client.query('SELECT 1'));
  } catch (error) {
    skipped = `PostgreSQL at ${pgUrl.replace(/:[^:@/]*@/u, ':***@')} is not reachable (${(error as Error).message || String(error)}); set BENCH_DATABASE_URL`;
  }
  const farm = start('./feed-farm.ts', [], {
    ...process.env,
    FARM_HOSTS: String(HOSTS),
    FARM_FEEDS_PER_HOST: String(FEEDS / HOSTS),
    FARM_ITEMS: String(ITEMS),
    FARM_LATENCY_MS: String(LATENCY_MS),
    FARM_EVENTS: String(EVENTS),
    FARM_UNREST_EVERY: String(UNREST_EVERY),
  });
  try {
    const { urls } = await farm.mail.next<{ urls: string[] }>('ready');
    if (urls.length !== FEEDS) throw new Error(`the farm serves ${urls.length} feeds, not ${FEEDS}`);
    await warmFarm(urls);
    const configurations: Array<{ name: string; workers: number; open: () => Promise<Database> | Database }> = [
      { name: 'SQLite, 1 worker (baseline)', workers: 1, open: sqliteDatabase },
      ...(skipped ? [] : [1, 2, 3].map((n) => ({ name: `PostgreSQL, ${n} worker${n > 1 ? 's' : ''}`, workers: n, open: () => postgresDatabase(pgUrl) }))),
    ];
    const runs: Run[] = [];
    for (const configuration of configurations) {
      const database = await configuration.open();
      try {
        const run = await runWorkers(configuration.name, configuration.workers, database, urls);
        const polled = sum(run.workers.map((r) => r.polled));
        if (polled !== FEEDS) throw new Error(`${configuration.name}: the workers polled ${polled} feeds between them, not ${FEEDS}`);
        runs.push(run);
      } finally {
        await database.drop();
      }
    }
    print(runs, skipped);
  } finally {
    farm.process.send({ type: 'stop' });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await benchWorkers();
