// A feed server on 127.0.0.1 for tests: serves what the test puts at each path, with ETags and
// 304s like a well-behaved news site, and records every request.

import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { closeServer, listenLocal } from './local-server.js';

export interface Route {
  body: string | Buffer;
  contentType?: string;
  status?: number;
  /** extra response headers */
  headers?: Record<string, string>;
  /** answer only after this many milliseconds (a slow server) */
  delayMs?: number;
}

export interface FeedRequest {
  path: string;
  status: number;
  headers: IncomingHttpHeaders;
}

export class FeedServer {
  readonly requests: FeedRequest[] = [];
  /** the most requests this server had open at once */
  maxInFlight = 0;
  private inFlight = 0;
  private readonly routes = new Map<string, Route>();
  private readonly waiters: Array<{ path: string; resolve: () => void }> = [];
  private server: Server | null = null;
  private base = '';

  /** Base URL, e.g. http://127.0.0.1:40123 */
  get url(): string {
    return this.base;
  }

  /** Serves `route` (or an RSS document given as text) at `path`; returns its full URL. */
  set(path: string, route: Route | string): string {
    this.routes.set(path, typeof route === 'string' ? { body: route } : route);
    return `${this.base}${path}`;
  }

  /** Resolves once `path` has been requested (at once if it already was). */
  requested(path: string): Promise<void> {
    if (this.requests.some((r) => r.path === path)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ path, resolve }));
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const path = req.url ?? '/';
      const route = this.routes.get(path);
      const log = (status: number) => {
        this.requests.push({ path, status, headers: req.headers });
        for (const waiter of this.waiters.filter((w) => w.path === path)) waiter.resolve();
      };
      if (!route) {
        log(404);
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
        return;
      }
      const status = route.status ?? 200;
      const body = typeof route.body === 'string' ? Buffer.from(route.body) : route.body;
      const etag = `"${createHash('sha1').update(body).digest('hex')}"`;
      if (status === 200 && req.headers['if-none-match'] === etag) {
        log(304);
        res.writeHead(304, { etag }).end();
        return;
      }
      log(status);
      const answer = () => {
        this.inFlight--;
        res
          .writeHead(status, { 'content-type': route.contentType ?? 'application/rss+xml; charset=utf-8', etag, ...route.headers })
          .end(body);
      };
      this.inFlight++;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      if (route.delayMs) setTimeout(answer, route.delayMs);
      else answer();
    });
    this.base = await listenLocal(this.server);
    return this;
  }

  stop(): Promise<void> {
    return closeServer(this.server);
  }
}

export interface TestItem {
  title: string;
  link?: string;
  guid?: string;
  description?: string;
  /** minutes before now; undefined leaves the item undated */
  minutesAgo?: number;
}

function xmlEscape(text: string): string {
  return text.replace(/&/gu, '&amp;').replace(/</gu, '&lt;').replace(/>/gu, '&gt;');
}

/** An RSS 2.0 document with the given items. */
export function rss(title: string, items: TestItem[], now = Date.now()): string {
  const entries = items
    .map((item) =>
      [
        '<item>',
        `<title>${xmlEscape(item.title)}</title>`,
        item.link ? `<link>${xmlEscape(item.link)}</link>` : '',
        item.guid ? `<guid isPermaLink="false">${xmlEscape(item.guid)}</guid>` : '',
        item.minutesAgo !== undefined ? `<pubDate>${new Date(now - item.minutesAgo * 60_000).toUTCString()}</pubDate>` : '',
        item.description ? `<description>${xmlEscape(item.description)}</description>` : '',
        '</item>',
      ].join(''),
    )
    .join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel><title>${xmlEscape(title)}</title><link>https://example.test/</link>\n${entries}\n</channel></rss>\n`;
}
