// A WebSub hub on 127.0.0.1 for tests, as the spec has one behave: takes (un)subscription
// requests (202), verifies the subscriber's intent at its callback with a challenge, grants a
// lease, and publishes content to verified callbacks signed with their secret (or not, or badly).

import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { closeServer, listenLocal } from './local-server.js';

export interface HubRequest {
  mode: string;
  topic: string;
  callback: string;
  secret: string | null;
  leaseSeconds: number | null;
}

export interface Verification {
  request: HubRequest;
  /** what the callback answered */
  status: number;
  /** whether it echoed the challenge */
  confirmed: boolean;
}

type Waiter<T> = { matches: (value: T) => boolean; resolve: (value: T) => void };

export class WebsubHub {
  readonly requests: HubRequest[] = [];
  readonly verifications: Verification[] = [];
  /** the lease the hub grants, in seconds */
  grantSeconds = 3600;
  /** while true, subscription requests are denied (hub.mode=denied at the callback) instead of verified */
  denying = false;
  /** verified subscriptions by topic and callback */
  private readonly subscribers = new Map<string, HubRequest>();
  private readonly requestWaiters = new Set<Waiter<HubRequest>>();
  private readonly verifyWaiters = new Set<Waiter<Verification>>();
  private server: Server | null = null;
  private base = '';

  get url(): string {
    return `${this.base}/hub`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        if (req.method !== 'POST' || req.url !== '/hub' || !String(req.headers['content-type']).startsWith('application/x-www-form-urlencoded')) {
          res.writeHead(400).end('bad request');
          return;
        }
        const form = new URLSearchParams(body);
        const lease = form.get('hub.lease_seconds');
        const request: HubRequest = {
          mode: form.get('hub.mode') ?? '',
          topic: form.get('hub.topic') ?? '',
          callback: form.get('hub.callback') ?? '',
          secret: form.get('hub.secret'),
          leaseSeconds: lease === null ? null : Number(lease),
        };
        res.writeHead(202).end();
        this.requests.push(request);
        for (const waiter of this.requestWaiters) {
          if (!waiter.matches(request)) continue;
          this.requestWaiters.delete(waiter);
          waiter.resolve(request);
        }
        // Intent is verified after the 202, as hubs do.
        void this.verify(request);
      });
    });
    this.base = await listenLocal(this.server);
    return this;
  }

  stop(): Promise<void> {
    return closeServer(this.server);
  }

  /** GETs the callback as a hub verifying intent; resolves with what it answered. */
  async verifyIntent(request: HubRequest, mode = request.mode): Promise<Verification> {
    const challenge = randomBytes(12).toString('hex');
    const url = new URL(request.callback);
    url.searchParams.set('hub.mode', mode);
    url.searchParams.set('hub.topic', request.topic);
    url.searchParams.set('hub.challenge', challenge);
    if (mode === 'subscribe') url.searchParams.set('hub.lease_seconds', String(this.grantSeconds));
    if (mode === 'denied') {
      url.searchParams.delete('hub.challenge');
      url.searchParams.set('hub.reason', 'not on our list');
    }
    const response = await fetch(url);
    const text = await response.text();
    const confirmed = response.status >= 200 && response.status < 300 && (mode === 'denied' || text === challenge);
    return { request, status: response.status, confirmed };
  }

  private async verify(request: HubRequest): Promise<void> {
    const verification = await this.verifyIntent(request, this.denying && request.mode === 'subscribe' ? 'denied' : request.mode);
    const key = `${request.topic} ${request.callback}`;
    if (verification.confirmed && request.mode === 'subscribe') this.subscribers.set(key, request);
    if (verification.confirmed && request.mode === 'unsubscribe') this.subscribers.delete(key);
    this.verifications.push(verification);
    for (const waiter of this.verifyWaiters) {
      if (!waiter.matches(verification)) continue;
      this.verifyWaiters.delete(waiter);
      waiter.resolve(verification);
    }
  }

  /** Resolves with the first (un)subscription request that `matches`, when it comes. */
  nextRequest(matches: (request: HubRequest) => boolean): Promise<HubRequest> {
    const found = this.requests.find(matches);
    if (found) return Promise.resolve(found);
    return new Promise((resolve) => this.requestWaiters.add({ matches, resolve }));
  }

  /** Resolves with the first verification that `matches`, when the callback has answered it. */
  nextVerification(matches: (verification: Verification) => boolean): Promise<Verification> {
    const found = this.verifications.find(matches);
    if (found) return Promise.resolve(found);
    return new Promise((resolve) => this.verifyWaiters.add({ matches, resolve }));
  }

  /**
   * Pushes `body` to every verified subscriber of `topic`; resolves with their answers' statuses.
   * `signing`: with the subscriber's secret, not at all, or with a wrong one.
   */
  async publish(topic: string, body: string, options: { contentType?: string; signing?: 'secret' | 'none' | 'wrong'; algorithm?: string } = {}): Promise<number[]> {
    const { contentType = 'application/rss+xml; charset=utf-8', signing = 'secret', algorithm = 'sha256' } = options;
    const statuses: number[] = [];
    for (const subscriber of this.subscribers.values()) {
      if (subscriber.topic !== topic) continue;
      const headers: Record<string, string> = { 'content-type': contentType, link: `<${this.url}>; rel="hub", <${topic}>; rel="self"` };
      if (signing !== 'none') {
        const secret = signing === 'secret' ? (subscriber.secret ?? '') : 'a secret that is not theirs';
        headers['x-hub-signature'] = `${algorithm}=${createHmac(algorithm, secret).update(body).digest('hex')}`;
      }
      const response = await fetch(subscriber.callback, { method: 'POST', headers, body });
      await response.arrayBuffer();
      statuses.push(response.status);
    }
    return statuses;
  }
}
