// The shape of config/steppewatch.yaml, validated at the boundary. Unknown keys are errors.

import { isIP } from 'node:net';
import { z } from 'zod';
import { parseDuration } from './duration.js';

const duration = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((text, ctx) => {
      const ms = parseDuration(text);
      if (ms === null) {
        ctx.addIssue({ code: 'custom', message: `"${text}" is not a duration (write e.g. 90s, 15m, 24h, 7d)` });
        return z.NEVER;
      }
      return ms;
    });

const httpUrl = z.string().refine(
  (text) => {
    try {
      const url = new URL(text);
      return url.protocol === 'http:' || url.protocol === 'https:';
    } catch {
      return false;
    }
  },
  { message: 'must be an http(s) URL' },
);

const WATCHLIST_NAME = /^[\p{L}\p{N}][\p{L}\p{N}_-]*$/u;

const chat = z.union([
  z.number().int(),
  z
    .string()
    .regex(/^(@[A-Za-z][A-Za-z0-9_]{3,}|-?\d+)$/u, { message: 'must be a @channel_username or a numeric chat id' }),
]);

/** A public Telegram channel's username (Telegram's rule), written with or without its "@". */
const telegramChannel = z
  .string()
  .transform((name) => name.trim().replace(/^@/u, ''))
  .refine((name) => /^[A-Za-z][A-Za-z0-9_]{4,31}$/u.test(name), {
    message: 'must be a public channel username: 5–32 letters, digits or "_", starting with a letter (as in t.me/NAME)',
  });

/** A feed by its URL, or a public Telegram channel (`telegram: NAME`) read from its web preview. */
export const FeedSchema = z
  .strictObject({
    url: httpUrl.optional(),
    telegram: telegramChannel.optional(),
    name: z.string().min(1).optional(),
    language: z
      .string()
      .regex(/^[a-z]{2,3}(-[A-Za-z0-9]+)?$/u, { message: 'must be a language code such as ar, ru, kk, en' })
      .optional(),
  })
  .superRefine((feed, ctx) => {
    if (feed.url !== undefined && feed.telegram !== undefined) ctx.addIssue({ code: 'custom', path: ['telegram'], message: 'a feed has a url or a telegram channel, not both' });
    if (feed.url === undefined && feed.telegram === undefined) ctx.addIssue({ code: 'custom', path: ['url'], message: 'is required (or telegram: CHANNEL for a public Telegram channel)' });
  });

/** Whether the runtime knows the IANA time zone. */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export const ChannelSchema = z.strictObject({
  chat,
  watchlists: z.array(z.string().min(1)).min(1, { message: 'name at least one watchlist' }),
  thread_id: z.number().int().positive().optional(),
  /** what further reports of an alerted story do: edit the alert, reply under it, or nothing */
  updates: z.enum(['edit', 'reply', 'silent']).default('edit'),
  /** full: title, summary, source, time, link, hashtags; compact: title and link */
  template: z.enum(['full', 'compact']).default('full'),
  /** whether Telegram shows a preview of the article's link */
  link_preview: z.boolean().default(false),
  /** only items in these languages alert here (ISO 639-1 codes); absent: every language */
  languages: z
    .array(z.string().regex(/^[a-z]{2,3}$/u, { message: 'a language code such as ar, ru, kk or en' }))
    .min(1, { message: 'name at least one language, or leave languages out' })
    .optional(),
});

export const ConfigSchema = z.strictObject({
  schedule: z.string().default('*/5 * * * *'),
  timezone: z.string().optional(),
  feeds: z.array(FeedSchema).min(1, { message: 'list at least one feed' }),
  watchlists: z
    .record(
      z.string().regex(WATCHLIST_NAME, { message: 'watchlist names use letters, digits, "-" and "_"' }),
      z.string().min(1),
    )
    .default({}),
  channels: z.array(ChannelSchema).default([]),
  entities: z
    .record(
      z.string().regex(WATCHLIST_NAME, { message: 'entity names use letters, digits, "-" and "_"' }),
      z.array(z.string().min(1)).min(1, { message: 'list at least one spelling' }),
    )
    .default({}),
  /** kinds of event and their words in each language (see config/events.yaml): added to the bundled ones */
  events: z
    .record(
      z.string().regex(WATCHLIST_NAME, { message: 'event names use letters, digits, "-" and "_"' }),
      z.array(z.string().min(1)).min(1, { message: 'list at least one word' }),
    )
    .default({}),
  fetch: z
    .strictObject({
      timeout: duration('20s'),
      connect_timeout: duration('10s'),
      max_bytes: z.number().int().positive().default(10 * 1024 * 1024),
      /** requests in flight at once (I/O: parsing and matching run at the pace of the cores) */
      concurrency: z.number().int().min(1).max(1024).default(256),
      /** requests in flight to one host at once, as a browser keeps six connections per host */
      per_host: z.number().int().min(1).max(64).default(6),
      /** per-host overrides for an operator who knows the site: {"example.org": {per_host: 8}} */
      hosts: z
        .record(z.string(), z.strictObject({ per_host: z.number().int().min(1).max(64) }))
        .superRefine((hosts, ctx) => {
          for (const host of Object.keys(hosts)) {
            if (!/^[a-z0-9.-]+(:\d+)?$/iu.test(host)) ctx.addIssue({ code: 'custom', path: [host], message: 'a host name such as example.org (optionally with :port)' });
          }
        })
        .default({}),
      report_failing_after: duration('6h'),
      /** private hosts or networks (CIDR) feeds may reach although not configured there (redirects, moved feeds) */
      allow_private: z
        .array(
          z.string().refine((entry) => /^[a-z0-9.-]+$/iu.test(entry) || isIP(entry.split('/')[0] ?? '') !== 0, { message: 'a host name, an IP address or a network such as 10.1.0.0/16' }),
        )
        .default([]),
    })
    .prefault({}),
  backlog: z
    .strictObject({
      window: duration('24h'),
      max_items: z.number().int().min(0).default(10),
    })
    .prefault({}),
  dedup: z
    .strictObject({
      window: duration('72h'),
      similarity: z.number().min(0.05).max(1).default(0.35),
      cross_language: z.boolean().default(true),
      burst: z
        .strictObject({
          reports: z.number().int().min(2).default(4),
          outlets: z.number().int().min(1).default(3),
          within: duration('60m'),
        })
        .prefault({}),
      retention: duration('30d'),
    })
    .prefault({}),
  /** Telegram user ids allowed the admin commands (/stats, /feeds, /failing) and sent failing-feed notices */
  admins: z.array(z.number().int().positive()).default([]),
  bot: z
    .strictObject({
      /** watchlists (presets and queries) one chat may have */
      max_watchlists: z.number().int().min(1).max(100).default(10),
      /** characters of a /watch query */
      max_query_length: z.number().int().min(20).max(2000).default(300),
      /** commands one user may send a minute; more are ignored for the rest of it */
      commands_per_minute: z.number().int().min(1).max(120).default(10),
      /** take updates by webhook instead of long polling: Telegram calls `url`, we listen on `port` */
      webhook: z
        .strictObject({
          url: z.url({ protocol: /^https$/u, message: 'must be an https URL' }),
          port: z.number().int().min(1).max(65535).default(8443),
          secret: z.string().regex(/^[A-Za-z0-9_-]{16,256}$/u, { message: 'must be 16–256 letters, digits, _ or - (Telegram’s rule)' }),
        })
        .optional(),
    })
    .prefault({}),
  summary: z
    .strictObject({
      /** IANA time zone of the times shown in alerts */
      time_zone: z.string().default('UTC').refine(isTimeZone, { message: 'must be an IANA time zone such as Asia/Almaty' }),
      /** characters of summary sentences under the title */
      length: z.number().int().min(50).max(3000).default(400),
      /** how long a summary endpoint (SUMMARY_API_URL) may take before the extractive summary is used */
      timeout: duration('8s'),
    })
    .prefault({}),
  delivery: z
    .strictObject({
      max_wait: duration('2m'),
    })
    .prefault({}),
  /** several workers on one database (PostgreSQL): how they share the feeds and the roles */
  workers: z
    .strictObject({
      /** a claimed feed is the claiming worker's for this long; a dead worker's feeds go to the others after it */
      lease: duration('2m'),
      /** how often a worker tries to take a role nobody holds (sender, bot, …), and the sender looks for due messages */
      role_check: duration('2s'),
    })
    .prefault({}),
  /**
   * adaptive polling (`run`): each feed's next poll follows its publication rate within [min, max],
   * never sooner than the feed's ttl / cache headers allow; the schedule is the tick that looks for due feeds
   */
  polling: z
    .strictObject({
      /** false: every feed on every tick (as `once` always does) */
      adaptive: z.boolean().default(true),
      min: duration('1m'),
      max: duration('2h'),
      /** how far back a feed's entries count towards its rate */
      window: duration('7d'),
      /** how long after a story in a feed's watchlists turned breaking the feed is polled at `min` */
      breaking: duration('1h'),
    })
    .superRefine((polling, ctx) => {
      if (polling.min > polling.max) ctx.addIssue({ code: 'custom', path: ['min'], message: 'must not be longer than polling.max' });
      if (polling.min < 1000) ctx.addIssue({ code: 'custom', path: ['min'], message: 'must be at least 1s' });
    })
    .prefault({}),
  /** the health and metrics server of `run` (/healthz, /readyz, /metrics); HTTP_PORT and HTTP_HOST override */
  http: z
    .strictObject({
      /** 0 turns the server off */
      port: z.number().int().min(0).max(65535).default(8080),
      host: z.string().min(1).default('127.0.0.1'),
      /** where the world reaches this server (behind a proxy): WebSub hubs push to <public_url>/websub/…; unset, WebSub is off */
      public_url: httpUrl.optional(),
      /** the operator page at / (src/page/): off unless true */
      page: z.boolean().default(false),
      /** basic auth for the page; needed when the server listens beyond loopback (HTTP_AUTH_USER and HTTP_AUTH_PASSWORD override) */
      auth: z
        .strictObject({
          user: z.string().min(1).regex(/^[^:]*$/u, { message: 'must not contain ":"' }),
          password: z.string().min(12, { message: 'must be at least 12 characters' }),
        })
        .optional(),
    })
    .prefault({}),
  /** WebSub push (needs http.public_url): the lease asked of hubs, and how often a pushed feed is still polled */
  websub: z
    .strictObject({
      lease: duration('7d'),
      safety_poll: duration('1h'),
    })
    .prefault({}),
  shutdown: z
    .strictObject({
      /** how long SIGTERM waits for the running cycle and the last sends before exiting */
      grace: duration('8s'),
    })
    .prefault({}),
});

export type RawConfig = z.output<typeof ConfigSchema>;
