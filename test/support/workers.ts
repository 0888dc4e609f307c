// Several `steppewatch run` (or `once`) processes on one database, as an operator scales them out:
// starting and killing them, a recording tap per process in front of the fake Bot API (so a test
// knows which process made which call, and when), a shared news corpus, and counts of what each
// chat received.

import { request as httpRequest, createServer, type Server } from 'node:http';
import pg from 'pg';
import { followCli, freePort, type FollowedCli } from './cli.js';
import type { FakeTelegram } from './fake-telegram.js';
import type { FeedServer, TestItem } from './feed-server.js';
import { rss } from './feed-server.js';
import { closeServer, listenLocal } from './local-server.js';

/** Resolves once `condition` holds, checked every `everyMs`; fails with `what` after `timeoutMs`. For state no event announces. */
export async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000, everyMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** `promise`, or an error naming `what` if it has not settled within `ms`: for events that may never come. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

// --- The Bot API, as each process sees it ---------------------------------------------------

export interface TappedCall {
  /** which process made the call */
  worker: string;
  method: string;
  body: Record<string, unknown>;
  startedAt: number;
  /** when the answer reached the process (or the process went); null while the call is open */
  endedAt: number | null;
  status: number | null;
  /** the process closed the connection before the answer (killed, or it aborted a long poll) */
  dropped: boolean;
}

/**
 * One small proxy per process in front of the fake Bot API: each process gets its own
 * TELEGRAM_API_ROOT, so every call is known by who made it and how long it was open.
 */
export class TelegramTap {
  readonly calls: TappedCall[] = [];
  private readonly servers: Server[] = [];

  constructor(private readonly telegram: FakeTelegram) {}

  /** A TELEGRAM_API_ROOT for the process called `worker`. */
  async open(worker: string): Promise<string> {
    const upstream = new URL(this.telegram.apiRoot);
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        let body: Record<string, unknown> = {};
        try {
          body = raw.length > 0 ? (JSON.parse(raw.toString('utf8')) as Record<string, unknown>) : {};
        } catch {
          // not JSON: recorded without a body, forwarded as it is
        }
        const call: TappedCall = { worker, method: /\/([A-Za-z]+)$/u.exec(req.url ?? '')?.[1] ?? '', body, startedAt: Date.now(), endedAt: null, status: null, dropped: false };
        this.calls.push(call);
        const forward = httpRequest(
          { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } },
          (answer) => {
            const parts: Buffer[] = [];
            answer.on('data', (part: Buffer) => parts.push(part));
            answer.on('end', () => {
              if (call.endedAt !== null) return;
              call.status = answer.statusCode ?? 0;
              call.endedAt = Date.now();
              res.writeHead(call.status, answer.headers).end(Buffer.concat(parts));
            });
          },
        );
        forward.on('error', () => {
          if (call.endedAt === null) call.endedAt = Date.now();
          res.destroy();
        });
        forward.end(raw);
        // The process went (SIGKILL) or gave up the call: so does the call upstream.
        res.on('close', () => {
          if (call.endedAt !== null) return;
          call.endedAt = Date.now();
          call.dropped = true;
          forward.destroy();
        });
      });
    });
    this.servers.push(server);
    return listenLocal(server);
  }

  async close(): Promise<void> {
    await Promise.all(this.servers.map((server) => closeServer(server)));
  }

  /** getUpdates calls of different processes that were open at the same time (Telegram answers the second with 409). */
  overlappingPolls(): Array<[TappedCall, TappedCall]> {
    const polls = this.calls.filter((c) => c.method === 'getUpdates');
    const overlaps: Array<[TappedCall, TappedCall]> = [];
    for (const [i, a] of polls.entries()) {
      for (const b of polls.slice(i + 1)) {
        if (a.worker === b.worker) continue;
        const aEnd = a.endedAt ?? Infinity;
        const bEnd = b.endedAt ?? Infinity;
        if (a.startedAt < bEnd && b.startedAt < aEnd) overlaps.push([a, b]);
      }
    }
    return overlaps;
  }
}

// --- The processes ------------------------------------------------------------------------------

export interface WorkerProcess extends FollowedCli {
  name: string;
  /** its health server (HTTP_PORT) */
  port: number;
}

/** The processes a test started, each with its own tap and health port; `killAll` leaves none behind. */
export class Fleet {
  readonly processes: WorkerProcess[] = [];

  constructor(private readonly tap: TelegramTap | null) {}

  async start(name: string, args: string[], env: Record<string, string>): Promise<WorkerProcess> {
    const port = await freePort();
    const apiRoot = this.tap ? await this.tap.open(name) : env.TELEGRAM_API_ROOT;
    const followed = followCli(args, { ...env, HTTP_PORT: String(port), ...(apiRoot ? { TELEGRAM_API_ROOT: apiRoot } : {}) });
    const worker: WorkerProcess = Object.assign(followed, { name, port });
    this.processes.push(worker);
    return worker;
  }

  byPid(pid: number): WorkerProcess | undefined {
    return this.processes.find((p) => p.child.pid === pid);
  }

  /** SIGKILL, as an OOM killer or a lost machine would; resolves once it is gone. */
  async kill(worker: WorkerProcess): Promise<void> {
    if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
    await worker.exited;
  }

  async killAll(): Promise<void> {
    await Promise.all(this.processes.map((p) => this.kill(p)));
  }
}

/** The first `role taken` line of `role` in any of `workers`, with who wrote it (the bot role logs it; the sender role does not). */
export function roleTaken(workers: WorkerProcess[], role: string): Promise<{ worker: WorkerProcess; line: Record<string, unknown> }> {
  return Promise.race(workers.map((worker) => worker.waitForLog((l) => l.msg === 'role taken' && l.role === role).then((line) => ({ worker, line }))));
}

/** What /readyz says about the roles a process holds (none while its health server is not up). */
export async function rolesOf(worker: WorkerProcess): Promise<string[]> {
  try {
    const response = await fetch(`http://127.0.0.1:${worker.port}/readyz`);
    return ((await response.json()) as { roles: string[] }).roles;
  } catch {
    return [];
  }
}

/**
 * The first of `workers` whose /readyz lists `role`, and when it was seen (asked every 25 ms). For
 * the sender role, which no log line announces (the bot role's holder logs `role taken`).
 */
export async function holderOf(workers: WorkerProcess[], role: string, timeoutMs: number): Promise<{ worker: WorkerProcess; seenAt: number }> {
  let found: WorkerProcess | undefined;
  await until(
    async () => {
      const roles = await Promise.all(workers.map(rolesOf));
      found = workers.find((_, i) => roles[i]?.includes(role));
      return found !== undefined;
    },
    `a worker with the ${role} role`,
    timeoutMs,
    25,
  );
  return { worker: found!, seenAt: Date.now() };
}

/** The log lines of one process. */
export function linesOf(worker: FollowedCli): Array<Record<string, unknown>> {
  return worker
    .stderr()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

// --- The database -------------------------------------------------------------------------------

/** Runs one query in the test's schema. */
export async function query<R extends pg.QueryResultRow>(connectionString: string, schema: string, text: string, values: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString, options: `-c search_path="${schema}"` });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}

// --- The news -----------------------------------------------------------------------------------

export interface Story {
  /** a word in every report of the story and in no other: how a test tells its alerts apart */
  marker: string;
  title: string;
  link: string;
  description: string;
  /** the same story in other words, under another link, as another outlet writes it */
  rewrite: { title: string; description: string };
}

/** Five stories of unrest in Kazakhstan in five cities, each reported in two wordings. */
export const STORIES: Story[] = [
  {
    marker: 'Almaty',
    title: 'Protesters storm Almaty city hall as unrest spreads',
    link: 'https://wire.example.test/almaty-city-hall',
    description: 'Protesters stormed the city hall in Almaty on Wednesday and set it on fire, witnesses said.',
    rewrite: { title: 'Almaty city hall ablaze after protesters storm it', description: 'Crowds stormed the city hall in Almaty and set it on fire as police fired tear gas, witnesses said.' },
  },
  {
    marker: 'Zhanaozen',
    title: 'Police detain dozens of oil workers at Zhanaozen wage protest',
    link: 'https://wire.example.test/zhanaozen-oil-workers',
    description: 'Police in Zhanaozen detained dozens of oil workers who had gathered to protest against unpaid wages.',
    rewrite: { title: 'Dozens of Zhanaozen oil workers detained at wage protest', description: 'Dozens of striking oil workers were detained by police in Zhanaozen during a protest over unpaid wages.' },
  },
  {
    marker: 'Aktau',
    title: 'State of emergency declared in Aktau after gas price riots',
    link: 'https://wire.example.test/aktau-emergency',
    description: 'Authorities declared a state of emergency in Aktau after riots over the doubling of liquefied gas prices.',
    rewrite: { title: 'Aktau under state of emergency as gas price riots go on', description: 'A state of emergency is in force in Aktau, where riots over the doubling of liquefied gas prices go on.' },
  },
  {
    marker: 'Shymkent',
    title: 'Explosion at Shymkent ammunition depot injures seven soldiers',
    link: 'https://wire.example.test/shymkent-depot-blast',
    description: 'An explosion at an ammunition depot near Shymkent injured seven soldiers, the defence ministry said.',
    rewrite: { title: 'Seven soldiers injured in blast at Shymkent ammunition depot', description: 'Seven soldiers were injured when an ammunition depot near Shymkent exploded, the defence ministry said.' },
  },
  {
    marker: 'Karaganda',
    title: 'Curfew imposed in Karaganda after night of clashes with security forces',
    link: 'https://wire.example.test/karaganda-curfew',
    description: 'A curfew was imposed in Karaganda after overnight clashes between miners and security forces.',
    rewrite: { title: 'Karaganda under curfew following overnight clashes', description: 'Karaganda is under curfew after miners clashed with security forces overnight.' },
  },
];

/** A story only some feeds carry (the slow ones, in the test of a worker killed while polling them). */
export const SLOW_STORY: Story = {
  marker: 'Taraz',
  title: 'Security forces detain opposition leaders in Taraz before rally',
  link: 'https://wire.example.test/taraz-detentions',
  description: 'Security forces in Taraz detained three opposition leaders hours before a planned rally, their lawyers said.',
  rewrite: { title: 'Taraz opposition leaders detained ahead of rally', description: 'Three opposition leaders were detained by security forces in Taraz hours before a rally they had called.' },
};

/** Items no watchlist alerts on: football, a festival, the weather, news from elsewhere. */
const IRRELEVANT: TestItem[] = [
  { title: 'Kairat Almaty win the football derby', description: 'Kairat Almaty beat their rivals 2-0 in the football derby.' },
  { title: 'Astana hosts an international ballet festival', description: 'Dancers from twelve countries perform at the festival in Astana.' },
  { title: 'Wheat harvest in Europe beats forecasts', description: 'Farmers in France and Germany report a record wheat harvest.' },
];

/** Item `i` of a feed: the story's own report (same link in every feed) or a rewrite (its own link). */
function report(story: Story, feed: number, rewrite: boolean, minutesAgo: number): TestItem {
  return rewrite
    ? { title: story.rewrite.title, description: story.rewrite.description, link: `https://outlet${feed}.example.test/${story.marker.toLowerCase()}-${feed}`, guid: `f${feed}-${story.marker}-rw`, minutesAgo }
    : { title: story.title, description: story.description, link: story.link, guid: `f${feed}-${story.marker}`, minutesAgo };
}

export interface Corpus {
  /** feed paths on the feed server, in config order */
  paths: string[];
  /** the stories some feed carries */
  stories: Story[];
}

/**
 * `count` feeds on `server` whose items repeat across feeds: each story is in many feeds, as the
 * same item (same link) in some and rewritten in others, some feeds carry two stories, and every
 * seventh also has items nobody watches. `slow` feeds (indexes) carry SLOW_STORY only and answer
 * after `slowMs`.
 */
export function newsCorpus(server: FeedServer, count: number, options: { stories?: Story[]; slow?: number[]; slowMs?: number } = {}): Corpus {
  const stories = options.stories ?? STORIES;
  const slow = new Set(options.slow ?? []);
  const paths: string[] = [];
  for (let i = 0; i < count; i++) {
    const path = `/feed-${i}.xml`;
    paths.push(path);
    if (slow.has(i)) {
      server.set(path, { body: rss(`Outlet ${i}`, [report(SLOW_STORY, i, i % 2 === 1, 30)]), delayMs: options.slowMs ?? 0 });
      continue;
    }
    const first = stories[i % stories.length]!;
    const items: TestItem[] = [report(first, i, Math.floor(i / stories.length) % 2 === 1, 40 - (i % 30))];
    if (i % 3 === 0) items.push(report(stories[(i + 2) % stories.length]!, i, i % 2 === 0, 35 - (i % 25)));
    if (i % 7 === 0) items.push(...IRRELEVANT.map((item, k) => ({ ...item, guid: `f${i}-irrelevant-${k}`, link: `https://outlet${i}.example.test/other-${k}`, minutesAgo: 20 })));
    server.set(path, rss(`Outlet ${i}`, items));
  }
  return { paths, stories: slow.size > 0 ? [...stories, SLOW_STORY] : stories };
}

/** A config of `paths` on `server` for `chats`, each following the Kazakhstan preset. */
export function workersConfig(server: FeedServer, paths: string[], chats: Array<{ chat: string; updates?: 'edit' | 'silent' }>, extra = ''): string {
  return [
    'feeds:',
    ...paths.map((path, i) => `  - { url: "${server.url}${path}", name: "Outlet ${i}" }`),
    'channels:',
    ...chats.map(({ chat, updates = 'edit' }) => `  - { chat: "${chat}", watchlists: [kazakhstan-unrest], updates: ${updates} }`),
    extra,
  ].join('\n');
}

// --- What the chats got -------------------------------------------------------------------------

/** The successful sendMessage calls to `chat` per story marker; a message naming no story (or two) counts under "?". */
export function alertsPerStory(telegram: FakeTelegram, chat: string, stories: Story[]): Record<string, number> {
  const counts: Record<string, number> = Object.fromEntries(stories.map((s) => [s.marker, 0]));
  for (const call of telegram.calls) {
    if (call.method !== 'sendMessage' || call.status !== 200 || String(call.body.chat_id) !== chat) continue;
    const text = typeof call.body.text === 'string' ? call.body.text : '';
    const named = stories.filter((s) => text.includes(s.marker));
    const key = named.length === 1 ? named[0]!.marker : '?';
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/** Every story once to every chat: what a test expects alertsPerStory to give. */
export function oncePerStory(stories: Story[]): Record<string, number> {
  return Object.fromEntries(stories.map((s) => [s.marker, 1]));
}
