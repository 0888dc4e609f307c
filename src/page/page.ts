// The operator page on `run`'s HTTP server (http.page: true): `/` (feeds, alerts per hour,
// delivery, latest stories), `/stories` (every story, page by page), `/why?link=` (an item's
// decision record, as /why answers it) and `/page.css`. Read-only; behind basic auth when
// credentials are set (required beyond loopback); every page with headers that forbid scripts,
// framing and sniffing, escaped throughout, and scrubbed of the process's secrets.

import type { IncomingMessage, ServerResponse } from 'node:http';
import Negotiator from 'negotiator';
import { z } from 'zod';
import { isLink, linkVariants, operatorWhyAnswer } from '../bot/why.js';
import type { Config } from '../config/load.js';
import { isLocale, LOCALES, translator, type Locale } from '../i18n/i18n.js';
import { scrub } from '../log.js';
import { storeProblem } from '../store/problem.js';
import type { Store, StoryCursor } from '../store/store.js';
import { plainText } from '../summary/render.js';
import { VERSION } from '../version.js';
import { authorized, type Credentials } from './access.js';
import type { SafeHtml } from './html.js';
import { alertVolume, Destinations, feedRows } from './overview.js';
import { authText, overviewPage, storiesPage, whyPage, type PageView, type WorkerSummary } from './render.js';
import { PAGE_CSS } from './style.js';

const DAY = 86_400_000;
/** Stories on the overview, and on each stories page. */
const OVERVIEW_STORIES = 10;
const STORIES_PER_PAGE = 30;

export type PageStore = Pick<Store, 'feedStates' | 'chatCounts' | 'chatMoves' | 'feedItemCounts' | 'sentAlerts' | 'deliveryCounts' | 'latestStories' | 'traceLinks' | 'getChat'>;

export interface OperatorPageOptions {
  store: PageStore;
  /** the config in use (it may be reloaded) */
  config: () => Config;
  /** the worker's state, as /readyz tells it */
  worker: () => Promise<WorkerSummary>;
  /** basic auth, when set (always when the server listens beyond loopback) */
  credentials: Credentials | null;
  /** never shown, whatever text carries them: the bot token, API keys, the page's password */
  secrets: readonly string[];
  /** the clock (tests) */
  now?: () => number;
}

/** The page's own security headers: no script at all, styles from this origin, never framed. */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'cache-control': 'no-store',
};

const PATHS = new Set(['/', '/stories', '/why', '/page.css']);

/** The query's parameters, checked: what does not fit is ignored (a wrong `lang`) or refused (a malformed `before`). */
const Query = z.object({
  lang: z.string().optional(),
  link: z.string().max(2048).optional(),
  before: z
    .string()
    .regex(/^\d{1,16}-\d{1,16}$/u)
    .transform((text): StoryCursor => {
      const [createdAt = 0, id = 0] = text.split('-').map(Number);
      return { createdAt, id };
    })
    .optional(),
});

export interface OperatorPage {
  /** Serves the request when its path is the page's; false when it is not (another route's). */
  serve(request: IncomingMessage, response: ServerResponse): Promise<boolean>;
}

/** The reader's language: `?lang=`, else the browser's (Accept-Language), else English. */
function localeFor(request: IncomingMessage, asked: string | undefined): Locale {
  if (asked !== undefined && isLocale(asked)) return asked;
  const best = new Negotiator({ headers: { 'accept-language': request.headers['accept-language'] ?? '' } }).language([...LOCALES]);
  return best !== undefined && isLocale(best) ? best : 'en';
}

export function createOperatorPage(options: OperatorPageOptions): OperatorPage {
  const { store, credentials } = options;
  const now = options.now ?? Date.now;
  const secrets = options.secrets.filter((s) => s.length > 0);

  function send(request: IncomingMessage, response: ServerResponse, status: number, type: string, body: string, extra: Record<string, string> = {}): void {
    const bytes = Buffer.from(body, 'utf8');
    response.writeHead(status, { ...PAGE_HEADERS, 'content-type': type, 'content-length': String(bytes.byteLength), ...extra });
    response.end(request.method === 'HEAD' ? undefined : bytes);
  }

  function sendPage(request: IncomingMessage, response: ServerResponse, status: number, page: SafeHtml): void {
    send(request, response, status, 'text/html; charset=utf-8', scrub(page.markup, secrets));
  }

  async function overview(view: PageView): Promise<SafeHtml> {
    const config = options.config();
    const at = view.now;
    const [worker, states, itemCounts, alerts, day, week, stories, chats, moves] = await Promise.all([
      options.worker(),
      store.feedStates(),
      store.feedItemCounts(at - 7 * DAY),
      store.sentAlerts(at - 7 * DAY),
      store.deliveryCounts(at - DAY),
      store.deliveryCounts(at - 7 * DAY),
      store.latestStories(OVERVIEW_STORIES),
      store.chatCounts(),
      store.chatMoves(),
    ]);
    const destinations = new Destinations(config.channels, moves);
    return overviewPage(view, {
      worker,
      chats,
      feeds: feedRows(config.feeds, states, itemCounts, at),
      volume: alertVolume(alerts, config.channels, destinations, at),
      delivery: { day, week },
      stories,
      destinations,
    });
  }

  async function stories(view: PageView, before: StoryCursor | undefined): Promise<SafeHtml> {
    const [listed, moves] = await Promise.all([store.latestStories(STORIES_PER_PAGE + 1, before), store.chatMoves()]);
    const shown = listed.slice(0, STORIES_PER_PAGE);
    const last = shown.at(-1);
    const older = listed.length > STORIES_PER_PAGE && last ? `${last.createdAt}-${last.id}` : null;
    return storiesPage(view, shown, new Destinations(options.config().channels, moves), older);
  }

  async function why(view: PageView, link: string): Promise<SafeHtml> {
    if (!isLink(link)) return whyPage(view, link, null);
    const config = options.config();
    const destinations = new Destinations(config.channels, await store.chatMoves());
    // Subscribers' chats are numbered in the order the answer meets them, never named.
    const numbered = new Map<string, number>();
    const tr = translator(view.locale);
    const chatLabel = (chat: string): string => {
      const name = destinations.nameOf(chat);
      if (name !== null) return name;
      if (!numbered.has(chat)) numbered.set(chat, numbered.size + 1);
      // A label in words, escaped once where the answer is built.
      return plainText(tr('page.why.subscriber', { n: numbered.get(chat) ?? 0 }));
    };
    const traces = await store.traceLinks(linkVariants(link));
    const answer = await operatorWhyAnswer(traces, { store, config, tr, now: view.now, chatLabel });
    // The answer is Telegram HTML (bold names, escaped values): plain lines for the page, which escapes them again.
    const lines = plainText(answer).split('\n');
    return whyPage(view, link, lines);
  }

  return {
    async serve(request, response) {
      const url = new URL(request.url ?? '/', 'http://page');
      if (!PATHS.has(url.pathname)) return false;
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        send(request, response, 405, 'text/plain; charset=utf-8', 'method not allowed\n', { allow: 'GET, HEAD' });
        return true;
      }
      const query = Query.safeParse(Object.fromEntries(url.searchParams));
      const locale = localeFor(request, url.searchParams.get('lang') ?? undefined);
      if (credentials !== null && !authorized(request.headers.authorization, credentials)) {
        send(request, response, 401, 'text/plain; charset=utf-8', authText(locale), { 'www-authenticate': 'Basic realm="steppewatch operator page", charset="UTF-8"' });
        return true;
      }
      if (url.pathname === '/page.css') {
        send(request, response, 200, 'text/css; charset=utf-8', PAGE_CSS);
        return true;
      }
      if (!query.success) {
        send(request, response, 400, 'text/plain; charset=utf-8', 'bad query\n');
        return true;
      }
      const view: PageView = { locale, timeZone: options.config().summary.timeZone, now: now(), version: VERSION, path: url.pathname, query: url.searchParams };
      try {
        const page = url.pathname === '/stories' ? await stories(view, query.data.before) : url.pathname === '/why' ? await why(view, query.data.link ?? '') : await overview(view);
        sendPage(request, response, 200, page);
      } catch (error) {
        // A database that fails is named with its fix, as /readyz names it; anything else is the server's fault.
        const problem = storeProblem(error);
        if (problem === null) throw error;
        send(request, response, 503, 'text/plain; charset=utf-8', scrub(`the store cannot be read: ${problem}\n`, secrets));
      }
      return true;
    },
  };
}
