// Loads a config file: YAML → ${ENV} interpolation → zod validation → checks across keys
// (cron, queries, watchlist names). Every problem is reported as `FILE: path.to.key: what is wrong`.

import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import cron from 'node-cron';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { QueryError } from '../match/query.js';
import { buildEntityTable, type EntityTable } from '../match/entities.js';
import { compileWatchlist, Matcher, type Watchlist } from '../match/matcher.js';
import { channelOfPreviewUrl, DEFAULT_PREVIEW_ROOT, previewUrl } from '../feeds/telegram-channel.js';
import { BUNDLED_CONFIG_DIR } from './paths.js';
import type { QuietHours } from '../store/store.js';
import { ConfigSchema, type RawConfig } from './schema.js';

export interface FeedConfig {
  /** what the feed is polled at and known by in the store; a Telegram channel's is its preview page (<root>/s/NAME) */
  url: string;
  /** set for a public Telegram channel (`telegram: NAME`): its username; the page at `url` is its web preview */
  telegram?: string;
  name?: string;
  language?: string;
}

export interface ChannelConfig {
  /** chat id or @username, as Telegram takes it */
  chat: string;
  threadId: number | null;
  watchlists: string[];
  /** what further reports of an alerted story do */
  updates: 'edit' | 'reply' | 'silent';
  template: 'full' | 'compact';
  linkPreview: boolean;
  /** a subscriber's digest period; config channels get alerts one by one */
  digest?: 'off' | 'hourly' | 'daily';
  /** the languages its alerts may be in; null or absent: every language */
  languages?: readonly string[] | null;
  /** a subscriber's quiet hours */
  quiet?: QuietHours | null;
  /** the language a story's alert here is best in: a pending alert in another is redone from a report in it */
  preferredLanguage?: string | null;
}

export interface Config {
  file: string;
  schedule: string;
  timezone?: string;
  feeds: FeedConfig[];
  /** every watchlist the config may use: its own and the bundled presets */
  watchlists: Map<string, Watchlist>;
  /** bundled entities plus the config's own */
  entities: EntityTable;
  /** kinds of event (config/events.yaml plus the config's own): how stories meet across languages */
  events: EntityTable;
  /** all watchlists compiled together */
  matcher: Matcher;
  channels: ChannelConfig[];
  fetch: {
    timeoutMs: number;
    connectTimeoutMs: number;
    maxBytes: number;
    concurrency: number;
    perHost: number;
    /** per_host for the hosts the config names (lower-case host, with :port when given) */
    hosts: Map<string, { perHost: number }>;
    reportFailingAfterMs: number;
    /** private hosts and networks feeds may reach although their configured URL is public */
    allowPrivate: string[];
  };
  backlog: { windowMs: number; maxItems: number };
  dedup: {
    windowMs: number;
    /** least Jaccard similarity of two reports' terms to fold them */
    similarity: number;
    crossLanguage: boolean;
    /** a story with `reports` reports from `outlets` outlets within `withinMs` is breaking */
    burst: { reports: number; outlets: number; withinMs: number };
    /** items and stories older than this are pruned */
    retentionMs: number;
  };
  delivery: { maxWaitMs: number };
  /** how workers on one database share feeds (claims leased for leaseMs) and roles (tried every roleCheckMs) */
  workers: { leaseMs: number; roleCheckMs: number };
  /** adaptive polling (src/feeds/pace.ts): bounds of a feed's interval, the rate's window, how long "breaking" lasts */
  polling: { adaptive: boolean; minMs: number; maxMs: number; windowMs: number; breakingMs: number };
  /** the health and metrics server of `run`; port 0: off */
  http: {
    port: number;
    host: string;
    /** WebSub callbacks live under it; null: WebSub off */
    publicUrl: string | null;
    /** the operator page at / */
    page: boolean;
    /** the page's basic auth, as the config gives it (the environment may override it) */
    auth: { user: string; password: string } | null;
  };
  /** WebSub push: the lease asked of hubs, and how often a feed that pushes is polled still */
  websub: { leaseMs: number; safetyPollMs: number };
  shutdown: { graceMs: number };
  /** Telegram user ids of the bot's administrators */
  admins: string[];
  /** limits on what chats ask of the bot */
  bot: { maxWatchlists: number; maxQueryLength: number; commandsPerMinute: number; webhook: { url: string; port: number; secret: string } | null };
  /** how alerts read: the time zone of their times, the length of their summaries */
  summary: { timeZone: string; length: number; timeoutMs: number };
}

export interface ConfigProblem {
  path: string;
  message: string;
}

export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: ConfigProblem[],
  ) {
    super(problems.map((p) => `${file}: ${p.path}: ${p.message}`).join('\n'));
    this.name = 'ConfigError';
  }
}

type PathPart = string | number;

function formatPath(path: readonly PathPart[]): string {
  return path.length === 0 ? '(top level)' : path.join('.');
}

/**
 * Replaces `${VAR}` and `${VAR:-default}` in string values. Done on parsed values, not raw text,
 * so an environment value can never inject YAML structure.
 */
function interpolate(value: unknown, path: PathPart[], env: NodeJS.ProcessEnv, problems: ConfigProblem[]): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/gu, (_whole, name: string, fallback?: string) => {
      const found = env[name];
      if (found !== undefined && found !== '') return found;
      if (fallback !== undefined) return fallback;
      problems.push({ path: formatPath(path), message: `environment variable ${name} is not set` });
      return '';
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, [...path, i], env, problems));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, interpolate(v, [...path, k], env, problems)]),
    );
  }
  return value;
}

function zodProblems(error: z.ZodError): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const issue of error.issues) {
    const path = issue.path.filter((p): p is PathPart => typeof p !== 'symbol');
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) problems.push({ path: formatPath([...path, key]), message: 'unknown key' });
    } else if (issue.code === 'invalid_type' && issue.input === undefined) {
      problems.push({ path: formatPath(path), message: 'is required' });
    } else {
      problems.push({ path: formatPath(path), message: issue.message });
    }
  }
  return problems;
}

const PresetSchema = z.strictObject({ description: z.string(), query: z.string().min(1) });
const EntitiesSchema = z.record(z.string().regex(/^[\p{L}\p{N}_-]+$/u), z.array(z.string().min(1)).min(1));

interface BundledFiles {
  presets: Array<{ file: string; name: string; query: string }>;
  entities: Record<string, string[]>;
  events: Record<string, string[]>;
}
let bundled: BundledFiles | null = null;

/** The presets, entities and event kinds that ship in config/, read once per process. */
function readBundled(): BundledFiles {
  if (bundled) return bundled;
  const presetDir = join(BUNDLED_CONFIG_DIR, 'watchlists');
  const presets = readdirSync(presetDir)
    .filter((entry) => entry.endsWith('.yaml'))
    .sort()
    .map((entry) => {
      const file = join(presetDir, entry);
      const parsed = PresetSchema.safeParse(parseDocument(readFileSync(file, 'utf8')).toJS());
      if (!parsed.success) throw new ConfigError(file, zodProblems(parsed.error));
      return { file, name: entry.slice(0, -'.yaml'.length), query: parsed.data.query };
    });
  const table = (name: string) => {
    const file = join(BUNDLED_CONFIG_DIR, name);
    const parsed = EntitiesSchema.safeParse(parseDocument(readFileSync(file, 'utf8')).toJS());
    if (!parsed.success) throw new ConfigError(file, zodProblems(parsed.error));
    return parsed.data;
  };
  bundled = { presets, entities: table('entities.yaml'), events: table('events.yaml') };
  return bundled;
}

/** Bundled spellings plus `extra` (a config's own) as one table: a name in both gets both lists. */
function mergedTable(bundledTable: Record<string, string[]>, extra: Record<string, string[]>): EntityTable {
  const merged: Record<string, string[]> = { ...bundledTable };
  for (const [name, spellings] of Object.entries(extra)) merged[name] = [...(merged[name] ?? []), ...spellings];
  return buildEntityTable(merged);
}

/** The bundled entities, plus `extra` (a config's own), as one table. */
export function loadEntities(extra: Record<string, string[]> = {}): EntityTable {
  return mergedTable(readBundled().entities, extra);
}

/** The bundled kinds of event (config/events.yaml), plus `extra` (a config's own), as one table. */
export function loadEvents(extra: Record<string, string[]> = {}): EntityTable {
  return mergedTable(readBundled().events, extra);
}

/** The watchlist presets that ship in config/watchlists/, by name, compiled with `entities`. */
export function loadPresets(entities: EntityTable = loadEntities()): Map<string, Watchlist> {
  const presets = new Map<string, Watchlist>();
  for (const { file, name, query } of readBundled().presets) {
    try {
      presets.set(name, compileWatchlist(name, query, entities));
    } catch (error) {
      if (error instanceof QueryError) throw new ConfigError(file, [{ path: 'query', message: error.message }]);
      throw error;
    }
  }
  return presets;
}

/** Where public Telegram channels' preview pages are read: TELEGRAM_PREVIEW_ROOT (tests, a mirror), else t.me. */
function telegramPreviewRoot(env: NodeJS.ProcessEnv, problems: ConfigProblem[]): string {
  const root = env.TELEGRAM_PREVIEW_ROOT?.trim();
  if (!root) return DEFAULT_PREVIEW_ROOT;
  try {
    const url = new URL(root);
    if (url.protocol === 'http:' || url.protocol === 'https:') return root;
  } catch {
    // reported below
  }
  problems.push({ path: 'feeds', message: 'environment variable TELEGRAM_PREVIEW_ROOT must be an http(s) URL' });
  return DEFAULT_PREVIEW_ROOT;
}

/** The URL a configured feed is polled at: its own, or its channel's preview page (usernames are case-insensitive). */
function feedUrlOf(feed: RawConfig['feeds'][number], previewRoot: string): string {
  return feed.telegram !== undefined ? previewUrl(previewRoot, feed.telegram.toLowerCase()) : (feed.url ?? '');
}

/** The channel a feed reads: its `telegram`, or the channel of a `url` that is a t.me/s/NAME preview (read as one, not as a feed). */
function telegramOf(feed: RawConfig['feeds'][number]): { telegram?: string } {
  const channel = feed.telegram ?? channelOfPreviewUrl(feed.url ?? '');
  return channel !== null ? { telegram: channel } : {};
}

function checkAcrossKeys(raw: RawConfig, entities: EntityTable, problems: ConfigProblem[], previewRoot: string): Map<string, Watchlist> {
  const validation = cron.validateDetailed(raw.schedule);
  if (!validation.valid) {
    const detail = validation.errors.map((e) => `${e.field}: ${e.message}`).join('; ');
    problems.push({ path: 'schedule', message: `"${raw.schedule}" is not a cron expression (${detail})` });
  }
  if (raw.timezone !== undefined) {
    try {
      new Intl.DateTimeFormat('en', { timeZone: raw.timezone });
    } catch {
      problems.push({ path: 'timezone', message: `unknown time zone "${raw.timezone}"` });
    }
  }

  const watchlists = loadPresets(entities);
  for (const [name, query] of Object.entries(raw.watchlists)) {
    try {
      watchlists.set(name, compileWatchlist(name, query, entities));
    } catch (error) {
      if (!(error instanceof QueryError)) throw error;
      problems.push({ path: formatPath(['watchlists', name]), message: error.message });
    }
  }

  const seenUrls = new Map<string, number>();
  raw.feeds.forEach((feed, i) => {
    const url = feedUrlOf(feed, previewRoot);
    const earlier = seenUrls.get(url);
    if (earlier === undefined) seenUrls.set(url, i);
    else if (feed.telegram !== undefined) problems.push({ path: `feeds.${i}.telegram`, message: `same channel as feeds.${earlier}` });
    else problems.push({ path: `feeds.${i}.url`, message: `same URL as feeds.${earlier}` });
  });

  raw.channels.forEach((channel, i) => {
    channel.watchlists.forEach((name, j) => {
      if (!watchlists.has(name) && !(name in raw.watchlists)) {
        const known = [...watchlists.keys()].join(', ');
        problems.push({ path: `channels.${i}.watchlists.${j}`, message: `unknown watchlist "${name}" (known: ${known})` });
      }
    });
  });
  return watchlists;
}

/** Validates config text; throws ConfigError listing every problem found. */
export function parseConfig(text: string, file: string, env: NodeJS.ProcessEnv = process.env): Config {
  const lines = new LineCounter();
  const document = parseDocument(text, { prettyErrors: false, uniqueKeys: true, lineCounter: lines });
  if (document.errors.length > 0) {
    throw new ConfigError(
      file,
      document.errors.map((e) => {
        const at = lines.linePos(e.pos[0]);
        return { path: `line ${at.line}, column ${at.col}`, message: e.message.split('\n')[0] ?? e.code };
      }),
    );
  }
  const problems: ConfigProblem[] = [];
  const data: unknown = interpolate(document.toJS() ?? {}, [], env, problems);
  if (problems.length > 0) throw new ConfigError(file, problems);

  const parsed = ConfigSchema.safeParse(data);
  if (!parsed.success) throw new ConfigError(file, zodProblems(parsed.error));
  const raw = parsed.data;
  const table = (key: 'entities' | 'events', load: (extra: Record<string, string[]>) => EntityTable): EntityTable => {
    try {
      return load(raw[key]);
    } catch (error) {
      if (!(error instanceof QueryError)) throw error;
      throw new ConfigError(file, [{ path: key, message: error.message }]);
    }
  };
  const entities = table('entities', loadEntities);
  const events = table('events', loadEvents);
  const previewRoot = telegramPreviewRoot(env, problems);
  const watchlists = checkAcrossKeys(raw, entities, problems, previewRoot);
  if (problems.length > 0) throw new ConfigError(file, problems);

  return {
    file,
    schedule: raw.schedule,
    ...(raw.timezone !== undefined ? { timezone: raw.timezone } : {}),
    feeds: raw.feeds.map((f) => ({
      url: feedUrlOf(f, previewRoot),
      ...telegramOf(f),
      ...(f.name !== undefined ? { name: f.name } : {}),
      ...(f.language !== undefined ? { language: f.language } : {}),
    })),
    watchlists,
    entities,
    events,
    matcher: new Matcher(watchlists.values()),
    channels: raw.channels.map((c) => ({
      chat: String(c.chat),
      threadId: c.thread_id ?? null,
      watchlists: c.watchlists,
      updates: c.updates,
      template: c.template,
      linkPreview: c.link_preview,
      languages: c.languages ?? null,
      preferredLanguage: c.languages?.[0] ?? null,
    })),
    admins: raw.admins.map(String),
    bot: {
      maxWatchlists: raw.bot.max_watchlists,
      maxQueryLength: raw.bot.max_query_length,
      commandsPerMinute: raw.bot.commands_per_minute,
      webhook: raw.bot.webhook ?? null,
    },
    summary: { timeZone: raw.summary.time_zone, length: raw.summary.length, timeoutMs: raw.summary.timeout },
    fetch: {
      timeoutMs: raw.fetch.timeout,
      connectTimeoutMs: raw.fetch.connect_timeout,
      maxBytes: raw.fetch.max_bytes,
      concurrency: raw.fetch.concurrency,
      perHost: raw.fetch.per_host,
      hosts: new Map(Object.entries(raw.fetch.hosts).map(([host, { per_host }]) => [host.toLowerCase(), { perHost: per_host }])),
      reportFailingAfterMs: raw.fetch.report_failing_after,
      allowPrivate: raw.fetch.allow_private,
    },
    backlog: { windowMs: raw.backlog.window, maxItems: raw.backlog.max_items },
    dedup: {
      windowMs: raw.dedup.window,
      similarity: raw.dedup.similarity,
      crossLanguage: raw.dedup.cross_language,
      burst: { reports: raw.dedup.burst.reports, outlets: raw.dedup.burst.outlets, withinMs: raw.dedup.burst.within },
      retentionMs: Math.max(raw.dedup.retention, raw.dedup.window),
    },
    delivery: { maxWaitMs: raw.delivery.max_wait },
    workers: { leaseMs: raw.workers.lease, roleCheckMs: raw.workers.role_check },
    polling: { adaptive: raw.polling.adaptive, minMs: raw.polling.min, maxMs: raw.polling.max, windowMs: raw.polling.window, breakingMs: raw.polling.breaking },
    http: { port: raw.http.port, host: raw.http.host, publicUrl: raw.http.public_url?.replace(/\/+$/u, '') ?? null, page: raw.http.page, auth: raw.http.auth ?? null },
    websub: { leaseMs: raw.websub.lease, safetyPollMs: raw.websub.safety_poll },
    shutdown: { graceMs: raw.shutdown.grace },
  };
}

/** Reads and validates a config file; throws ConfigError naming the file. */
export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new ConfigError(file, [{ path: '(file)', message: `cannot read: ${reason}` }]);
  }
  return parseConfig(text, file, env);
}
