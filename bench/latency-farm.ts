// The sources of the latency benchmark (issue 21): feeds that publish at known times, a stand-in
// for a Telegram channel's web preview, and a WebSub hub. It records when each item became visible
// (its publication) and how often each source was asked, so latency and politeness are measured
// against what the sources did, not what the worker says.

import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface PublishedItem {
  source: string;
  /** the word in its title that tells its alert apart */
  token: string;
  title: string;
  publishedAt: number;
}

export interface SourcePlan {
  /** path on the farm: /feed/NAME (RSS) or /s/NAME (channel preview) */
  name: string;
  kind: 'rss' | 'channel';
  /** seconds between its items, as published before the run and during it */
  everySeconds: number;
  /** Cache-Control max-age the feed answers with, if any (seconds) */
  maxAgeSeconds?: number;
  /** whether the feed names the farm's hub (Link header and atom:link) */
  hub?: boolean;
}

interface Subscription {
  callback: string;
  secret: string;
}

const WORDS = ['алматы', 'жанаозен', 'актобе', 'шымкент', 'тараз', 'атырау', 'семей', 'кызылорда', 'костанай', 'павлодар', 'уральск', 'петропавловск'];

/** Entries each source lists: enough to span adaptive polling's (scaled) rate window at its pace. */
const HISTORY = 100;

const escapeXml = (text: string) => text.replace(/&/gu, '&amp;').replace(/</gu, '&lt;').replace(/>/gu, '&gt;').replace(/"/gu, '&quot;');

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The word only a source's items carry: its own watchlist and chat, so no chat's pace limits another's. */
export const keywordOf = (source: string): string => `zebra${source.replace(/[^a-z0-9]/gu, '')}`;

/** A title no other item's resembles: each item is its own story, so each is one alert. */
function uniqueTitle(source: string, token: string, serial: number): string {
  const words = Array.from({ length: 5 }, (_, i) => `${WORDS[(serial * 7 + i * 5) % WORDS.length]}${randomBytes(2).toString('hex')}`);
  return `${keywordOf(source)} ${token} ${words.join(' ')} ${serial * 37 + 11}`;
}

export class LatencyFarm {
  readonly published: PublishedItem[] = [];
  /** requests per source path, with their times */
  readonly requests = new Map<string, number[]>();
  readonly subscriptions = new Map<string, Subscription>();
  deliveries = 0;
  private readonly items = new Map<string, Array<{ guid: string; title: string; at: number }>>();
  private readonly timers: NodeJS.Timeout[] = [];
  private server: Server | null = null;
  private serial = 0;
  base = '';

  constructor(private readonly plans: SourcePlan[]) {
    // A history at each source's own pace, so a reader of its rate sees it from the first poll.
    const now = Date.now();
    for (const plan of plans) {
      const history = Array.from({ length: HISTORY }, (_, i) => ({ guid: `${plan.name}-h${i}`, title: `history ${plan.name} ${i}`, at: now - (HISTORY - i) * plan.everySeconds * 1000 }));
      this.items.set(plan.name, history);
    }
  }

  async start(): Promise<string> {
    this.server = createServer((request, response) => {
      this.answer(request, response).catch(() => response.writeHead(500).end());
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.base;
  }

  urlOf(plan: SourcePlan): string {
    return plan.kind === 'rss' ? `${this.base}/feed/${plan.name}` : `${this.base}/s/${plan.name}`;
  }

  /** Publishes on every source at its pace for `seconds`, starting after a random part of its period. */
  publishFor(seconds: number): Promise<void> {
    const until = Date.now() + seconds * 1000;
    for (const plan of this.plans) {
      const next = (delayMs: number) => {
        if (Date.now() + delayMs > until) return;
        this.timers.push(
          setTimeout(() => {
            this.publish(plan);
            next(plan.everySeconds * 1000);
          }, delayMs),
        );
      };
      next(Math.random() * plan.everySeconds * 1000);
    }
    return new Promise((resolve) => this.timers.push(setTimeout(resolve, seconds * 1000)));
  }

  stop(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private publish(plan: SourcePlan): void {
    const serial = ++this.serial;
    const token = `t${serial}x${randomBytes(3).toString('hex')}`;
    const title = uniqueTitle(plan.name, token, serial);
    const at = Date.now();
    this.items.get(plan.name)?.push({ guid: `${plan.name}-${token}`, title, at });
    this.published.push({ source: plan.name, token, title, publishedAt: at });
    if (plan.hub) void this.deliver(plan);
  }

  private document(plan: SourcePlan): string {
    const all = this.items.get(plan.name) ?? [];
    if (plan.kind === 'channel') {
      // A preview page shows the channel's last 20 posts; a post's id is its place in the channel.
      const first = Math.max(0, all.length - 20);
      const posts = all
        .slice(first)
        .map((item, i) => {
          const id = first + i + 1;
          return (
            `<div class="tgme_widget_message_wrap"><div class="tgme_widget_message" data-post="${plan.name}/${id}">` +
            `<div class="tgme_widget_message_text">${escapeXml(item.title)}</div>` +
            `<a class="tgme_widget_message_date" href="https://t.me/${plan.name}/${id}"><time datetime="${new Date(item.at).toISOString()}">${new Date(item.at).toISOString()}</time></a>` +
            '</div></div>'
          );
        })
        .join('\n');
      return `<!DOCTYPE html><html><head><title>${plan.name}</title></head><body><section class="tgme_channel_history">${posts}</section></body></html>`;
    }
    const hub = plan.hub ? `<atom:link rel="hub" href="${this.base}/hub"/><atom:link rel="self" href="${this.urlOf(plan)}"/>` : '';
    const entries = all
      .slice(-HISTORY)
      .map((item) => `<item><title>${escapeXml(item.title)}</title><link>${this.base}/a/${item.guid}</link><guid isPermaLink="false">${item.guid}</guid><pubDate>${new Date(item.at).toUTCString()}</pubDate></item>`)
      .join('\n');
    return `<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel><title>${plan.name}</title><link>${this.base}/</link>${hub}\n${entries}\n</channel></rss>\n`;
  }

  private async answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', this.base);
    if (url.pathname === '/hub' && request.method === 'POST') return this.hubRequest(await readBody(request), response);
    const plan = this.plans.find((p) => url.pathname === (p.kind === 'rss' ? `/feed/${p.name}` : `/s/${p.name}`));
    if (!plan) return void response.writeHead(404).end();
    const times = this.requests.get(plan.name) ?? [];
    times.push(Date.now());
    this.requests.set(plan.name, times);
    const items = this.items.get(plan.name) ?? [];
    const etag = `"${plan.name}-${items.length}"`;
    const headers: Record<string, string> = { etag };
    if (plan.maxAgeSeconds !== undefined) headers['cache-control'] = `max-age=${plan.maxAgeSeconds}`;
    if (plan.hub) headers.link = `<${this.base}/hub>; rel="hub", <${this.urlOf(plan)}>; rel="self"`;
    if (request.headers['if-none-match'] === etag) return void response.writeHead(304, headers).end();
    headers['content-type'] = plan.kind === 'rss' ? 'application/rss+xml; charset=utf-8' : 'text/html; charset=utf-8';
    response.writeHead(200, headers).end(this.document(plan));
  }

  /** The hub's side of WebSub: verify the subscriber's intent, then keep its callback and secret. */
  private async hubRequest(body: string, response: ServerResponse): Promise<void> {
    const form = new URLSearchParams(body);
    const topic = form.get('hub.topic') ?? '';
    const callback = form.get('hub.callback') ?? '';
    const mode = form.get('hub.mode');
    response.writeHead(202).end();
    const challenge = randomBytes(8).toString('hex');
    const verify = new URL(callback);
    verify.searchParams.set('hub.mode', mode ?? '');
    verify.searchParams.set('hub.topic', topic);
    verify.searchParams.set('hub.challenge', challenge);
    verify.searchParams.set('hub.lease_seconds', form.get('hub.lease_seconds') ?? '3600');
    const answer = await fetch(verify);
    if (answer.ok && (await answer.text()) === challenge) {
      if (mode === 'subscribe') this.subscriptions.set(topic, { callback, secret: form.get('hub.secret') ?? '' });
      else this.subscriptions.delete(topic);
    }
  }

  /** Pushes the feed's new content to its subscriber, signed, as a hub does on publication. */
  private async deliver(plan: SourcePlan): Promise<void> {
    const topic = this.urlOf(plan);
    const subscription = this.subscriptions.get(topic);
    if (!subscription) return;
    const body = this.document(plan);
    const signature = createHmac('sha256', subscription.secret).update(body).digest('hex');
    this.deliveries++;
    await fetch(subscription.callback, {
      method: 'POST',
      headers: { 'content-type': 'application/rss+xml', 'x-hub-signature': `sha256=${signature}`, link: `<${this.base}/hub>; rel="hub", <${topic}>; rel="self"` },
      body,
    }).catch(() => undefined);
  }
}
