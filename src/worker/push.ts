// WebSub push for `run`: the feeds whose hub pushes to us. Subscribes a feed when a poll finds its
// hub, answers the hub's verification of intent, takes signed deliveries through the same
// pipeline as a poll (parse → prepare → decide → commit) at once, renews leases before they end,
// and unsubscribes feeds that left the config. Feeds pushed to are polled only every safety_poll.

import type { Config, FeedConfig } from '../config/load.js';
import type { Embedder } from '../dedup/embeddings.js';
import type { StoryIndex } from '../dedup/story-index.js';
import { AddressAllowList, isPrivateTargetCached } from '../feeds/address.js';
import { createFeedAgent } from '../feeds/fetch.js';
import { readFeed } from '../feeds/read.js';
import {
  discoverHub,
  HubRequestError,
  linksFromHeader,
  newCallbackId,
  newSecret,
  renewalDue,
  requestAtHub,
  verifySignature,
  type WebsubDiscovery,
} from '../feeds/websub.js';
import type { Logger } from '../log.js';
import type { FeedState, Store, WebsubSubscription } from '../store/store.js';
import type { Summarizer } from '../summary/llm.js';
import { createSerialQueue } from '../concurrency.js';
import { STORY_LOCK } from './cycle.js';
import { decideStories, prepareFeed } from './process-feed.js';
import { WEBSUB_ROLE } from './roles.js';
import { buildRouting } from './routing.js';

/** What the HTTP server asks of WebSub (src/worker/http.ts). */
export interface PushEndpoint {
  /** the hub's GET to the callback: status, and the body (the challenge) when confirmed */
  verify(id: string, query: URLSearchParams): Promise<{ status: number; body: string }>;
  /** a hub's POST to the callback: the status to answer at once; the content is processed after */
  deliver(id: string, delivery: PushDelivery): Promise<number>;
}

export interface PushDelivery {
  body: Uint8Array;
  contentType: string | null;
  signature: string | null;
  link: string | null;
}

export interface PushOptions {
  store: Store;
  log: Logger;
  /** the config in use (it changes on reload) */
  config: () => Config;
  stories: StoryIndex;
  summarizer?: Summarizer;
  embedder?: Embedder | null;
  /** alerts were queued: send them now */
  queued: () => void;
}

/** A pending request a hub never verified is asked again after this long. */
const PENDING_RETRY_MS = 60 * 60_000;
/** A hub request that failed is tried again after this long. */
const FAILED_RETRY_MS = 5 * 60_000;

export class PushSubscriptions implements PushEndpoint {
  /** feeds with a verified subscription (any worker's view of the store), for the safety interval */
  private active = new Set<string>();
  /** when this process last let a pushed feed be polled */
  private lastPolled = new Map<string, number>();
  /** each feed's subscription as last read (maintain): a poll that finds what is known reads nothing */
  private known = new Map<string, WebsubSubscription>();
  /** feeds a hub request is in flight for, so a second poll does not ask again meanwhile */
  private asking = new Set<string>();
  /** deliveries are processed one at a time, in arrival order */
  private readonly serial = createSerialQueue();
  private readonly allowList: AddressAllowList;
  private readonly agent;
  private timer: NodeJS.Timeout | null = null;
  private maintaining = false;
  private stopping = false;

  constructor(private readonly options: PushOptions) {
    const config = options.config();
    this.allowList = new AddressAllowList(config.fetch.allowPrivate);
    this.agent = createFeedAgent({ connectTimeoutMs: config.fetch.connectTimeoutMs, publicOnly: this.allowList });
  }

  private get config(): Config {
    return this.options.config();
  }

  /** Starts renewing and unsubscribing on a timer (every role_check, at least every second). */
  start(): void {
    const everyMs = Math.max(1_000, this.config.workers.roleCheckMs);
    this.timer = setInterval(() => void this.maintain(), everyMs);
    this.timer.unref();
    void this.maintain();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    // Deliveries already taken finish before the store closes.
    await this.serial(() => Promise.resolve());
    await this.agent.close();
  }

  private callbackOf(id: string): string {
    return `${this.config.http.publicUrl ?? ''}/websub/${id}`;
  }

  /**
   * Whether the cycle polls this feed now: always unless a hub pushes it, then once per
   * safety_poll (a missed push is caught by the next safety poll). A yes counts as the poll.
   */
  pollDue(feedUrl: string, now = Date.now()): boolean {
    if (!this.active.has(feedUrl)) return true;
    const last = this.lastPolled.get(feedUrl);
    if (last !== undefined && now - last < this.config.websub.safetyPollMs) return false;
    this.lastPolled.set(feedUrl, now);
    return true;
  }

  /** A poll (or a delivery) of `feed` named its hub, or none: subscribe if not yet, or anew if it moved. */
  async discovered(feed: FeedConfig, discovery: WebsubDiscovery | null): Promise<void> {
    if (!discovery || this.config.http.publicUrl === null || this.asking.has(feed.url)) return;
    const cached = this.known.get(feed.url);
    if (cached && cached.hub === discovery.hub && cached.topic === discovery.topic && cached.state === 'active') return;
    const { store, log } = this.options;
    const existing = (await store.websubSubscriptions()).filter((s) => s.feedUrl === feed.url && s.state !== 'unsubscribing');
    const same = existing.find((s) => s.hub === discovery.hub && s.topic === discovery.topic);
    // Verified: nothing to do (maintain renews it). Pending or denied: asked again after a while.
    if (same && (same.state === 'active' || Date.now() - same.requestedAt < PENDING_RETRY_MS)) return;
    // Whichever worker polled the feed subscribes it (feeds are shared out among workers); the
    // websub role's holder renews and ends subscriptions (maintain).
    // The hub or topic moved: the old subscription ends, the new one begins.
    for (const old of existing) if (old !== same) await this.unsubscribe(old);
    const subscription: WebsubSubscription = same ?? {
      id: newCallbackId(),
      feedUrl: feed.url,
      topic: discovery.topic,
      hub: discovery.hub,
      secret: newSecret(),
      state: 'pending',
      leaseSeconds: null,
      expiresAt: null,
      requestedAt: Date.now(),
    };
    log.info({ feed: feed.url, hub: discovery.hub, topic: discovery.topic }, 'WebSub hub found; subscribing');
    await this.subscribe(subscription);
  }

  /** Asks the hub to (re)subscribe; the subscription is saved first, so the hub's verification finds it. */
  private async subscribe(subscription: WebsubSubscription): Promise<void> {
    const { store, log } = this.options;
    const requested: WebsubSubscription = { ...subscription, state: subscription.state === 'active' ? 'active' : 'pending', requestedAt: Date.now() };
    await store.saveWebsubSubscription(requested);
    this.asking.add(subscription.feedUrl);
    try {
      await requestAtHub(
        {
          mode: 'subscribe',
          hub: subscription.hub,
          topic: subscription.topic,
          callback: this.callbackOf(subscription.id),
          secret: subscription.secret,
          leaseSeconds: Math.max(1, Math.round(this.config.websub.leaseMs / 1000)),
        },
        await this.accessFor(subscription.feedUrl),
      );
      log.debug({ feed: subscription.feedUrl, hub: subscription.hub }, 'WebSub subscription requested');
    } catch (error) {
      if (!(error instanceof HubRequestError)) throw error;
      log.warn({ feed: subscription.feedUrl, hub: subscription.hub, error: error.message }, 'WebSub hub refused or missed the subscription request; polling goes on');
      // Asked again after FAILED_RETRY_MS: maintain counts a pending retry, and a renewal's, from requestedAt.
      const current = await store.websubSubscription(subscription.id);
      const retryGapMs = current?.state === 'active' && current.leaseSeconds !== null ? current.leaseSeconds * 100 : PENDING_RETRY_MS;
      if (current) await store.saveWebsubSubscription({ ...current, requestedAt: Date.now() - retryGapMs + FAILED_RETRY_MS });
    } finally {
      this.asking.delete(subscription.feedUrl);
    }
  }

  private async unsubscribe(subscription: WebsubSubscription): Promise<void> {
    const { store, log } = this.options;
    if (subscription.state === 'denied' || this.config.http.publicUrl === null) {
      await store.deleteWebsubSubscription(subscription.id);
      return;
    }
    await store.saveWebsubSubscription({ ...subscription, state: 'unsubscribing', requestedAt: Date.now() });
    this.active.delete(subscription.feedUrl);
    try {
      await requestAtHub(
        { mode: 'unsubscribe', hub: subscription.hub, topic: subscription.topic, callback: this.callbackOf(subscription.id) },
        await this.accessFor(subscription.feedUrl),
      );
      log.info({ feed: subscription.feedUrl, hub: subscription.hub }, 'WebSub unsubscribe requested');
    } catch (error) {
      if (!(error instanceof HubRequestError)) throw error;
      // Its lease runs out by itself; deliveries until then are ignored.
      log.warn({ feed: subscription.feedUrl, hub: subscription.hub, error: error.message }, 'WebSub unsubscribe not accepted; the lease will lapse');
      await store.deleteWebsubSubscription(subscription.id);
    }
  }

  private async accessFor(feedUrl: string) {
    // The hub is the feed's to name: it may be private only where the feed itself is (a local feed).
    const allowPrivate = await isPrivateTargetCached(feedUrl);
    return { allowPrivate, allowList: this.allowList, timeoutMs: this.config.fetch.timeoutMs, ...(allowPrivate ? {} : { agent: this.agent }) };
  }

  /**
   * Renews leases at 80%, asks again what a hub never verified, unsubscribes feeds no longer in
   * the config. Only the holder of the websub role asks hubs; every worker refreshes its view.
   */
  async maintain(now = Date.now()): Promise<void> {
    if (this.maintaining) return;
    this.maintaining = true;
    const { store, log } = this.options;
    try {
      const subscriptions = await store.websubSubscriptions();
      this.active = new Set(subscriptions.filter((s) => s.state === 'active' && (s.expiresAt ?? 0) > now).map((s) => s.feedUrl));
      this.known = new Map(subscriptions.filter((s) => s.state !== 'unsubscribing').map((s) => [s.feedUrl, s]));
      if (subscriptions.length === 0 || !(await store.tryRole(WEBSUB_ROLE))) return;
      const configured = new Set(this.config.feeds.map((feed) => feed.url));
      for (const subscription of subscriptions) {
        if (!configured.has(subscription.feedUrl) || this.config.http.publicUrl === null) {
          if (subscription.state !== 'unsubscribing') await this.unsubscribe(subscription);
          else if (now - subscription.requestedAt > PENDING_RETRY_MS) await store.deleteWebsubSubscription(subscription.id);
          continue;
        }
        if (this.asking.has(subscription.feedUrl)) continue;
        const renewAt =
          subscription.state === 'active' && subscription.expiresAt !== null && subscription.leaseSeconds !== null
            ? // A renewal the hub has not verified yet is asked again after a tenth of the lease, not at every tick.
              Math.max(renewalDue(subscription.expiresAt - subscription.leaseSeconds * 1000, subscription.leaseSeconds), subscription.requestedAt + subscription.leaseSeconds * 100)
            : null;
        if (renewAt !== null && now >= renewAt) {
          log.info({ feed: subscription.feedUrl, hub: subscription.hub }, 'WebSub lease renewed before it ends');
          await this.subscribe(subscription);
        } else if (subscription.state === 'pending' && now - subscription.requestedAt >= PENDING_RETRY_MS) {
          await this.subscribe(subscription);
        }
      }
    } catch (error) {
      log.error({ err: error }, 'WebSub: could not renew or end subscriptions; trying again');
    } finally {
      this.maintaining = false;
    }
  }

  async verify(id: string, query: URLSearchParams): Promise<{ status: number; body: string }> {
    const { store, log } = this.options;
    const mode = query.get('hub.mode');
    const topic = query.get('hub.topic');
    const challenge = query.get('hub.challenge');
    const subscription = await store.websubSubscription(id);
    // Only what we asked for, at this callback, for this topic, is confirmed.
    if (!subscription || topic === null || subscription.topic !== topic) return { status: 404, body: 'unknown subscription\n' };
    if (mode === 'denied') {
      log.warn({ feed: subscription.feedUrl, hub: subscription.hub, reason: query.get('hub.reason') }, 'WebSub hub denied the subscription; polling goes on');
      if (subscription.state === 'unsubscribing') await store.deleteWebsubSubscription(id);
      else await store.saveWebsubSubscription({ ...subscription, state: 'denied' });
      this.active.delete(subscription.feedUrl);
      return { status: 200, body: '' };
    }
    if (challenge === null || challenge === '') return { status: 400, body: 'no hub.challenge\n' };
    if (mode === 'subscribe' && subscription.state !== 'unsubscribing' && subscription.state !== 'denied') {
      const lease = Number(query.get('hub.lease_seconds') ?? '');
      const leaseSeconds = Number.isFinite(lease) && lease > 0 ? Math.floor(lease) : Math.round(this.config.websub.leaseMs / 1000);
      const now = Date.now();
      await store.saveWebsubSubscription({ ...subscription, state: 'active', leaseSeconds, expiresAt: now + leaseSeconds * 1000 });
      this.active.add(subscription.feedUrl);
      log.info({ feed: subscription.feedUrl, hub: subscription.hub, leaseSeconds }, 'WebSub subscription verified; the hub pushes this feed');
      return { status: 200, body: challenge };
    }
    if (mode === 'unsubscribe' && subscription.state === 'unsubscribing') {
      await store.deleteWebsubSubscription(id);
      log.info({ feed: subscription.feedUrl, hub: subscription.hub }, 'WebSub unsubscribe verified');
      return { status: 200, body: challenge };
    }
    return { status: 404, body: 'not asked for\n' };
  }

  async deliver(id: string, delivery: PushDelivery): Promise<number> {
    // Stopping: the hub retries later, to this worker's successor or another.
    if (this.stopping) return 503;
    const { store, log } = this.options;
    const subscription = await store.websubSubscription(id);
    // 410 Gone tells the hub this callback is no more.
    if (!subscription || subscription.state === 'unsubscribing' || subscription.state === 'denied') return 410;
    const verdict = verifySignature(delivery.signature, delivery.body, subscription.secret);
    // The spec: a delivery that fails the check is still acknowledged (2xx), and ignored, so a
    // forger learns nothing and a hub does not retry it.
    if (verdict !== 'valid') {
      log.warn({ feed: subscription.feedUrl, signature: verdict }, 'WebSub delivery ignored: not signed with our secret');
      return 202;
    }
    const feed = this.config.feeds.find((candidate) => candidate.url === subscription.feedUrl);
    if (!feed) return 202;
    void this.serial(() => this.process(feed, subscription, delivery)).catch((error: unknown) => {
      log.error({ err: error, feed: feed.url }, 'WebSub delivery could not be processed; the next poll catches up');
    });
    return 202;
  }

  /** A delivery through the poll's pipeline: parse, prepare, decide under the story lock, commit, send. */
  private async process(feed: FeedConfig, subscription: WebsubSubscription, delivery: PushDelivery): Promise<void> {
    const { store, log, stories } = this.options;
    const config = this.config;
    const parsed = await readFeed(delivery.body, delivery.contentType, subscription.topic, feed.language);
    for (const item of parsed.items) item.feedUrl = feed.url;
    const state: FeedState | null = await store.getFeedState(feed.url);
    const now = Date.now();
    const prepared = await prepareFeed({
      feed,
      parsed,
      // The poll's validators are kept: a push is not a GET of the feed.
      poll: { firstPoll: state?.firstPolledAt == null, etag: state?.etag ?? null, lastModified: state?.lastModified ?? null },
      config,
      store,
      stories,
      now,
      routing: await buildRouting(config, store, now),
      log,
      ...(this.options.summarizer ? { summarizer: this.options.summarizer } : {}),
      ...(this.options.embedder ? { embedder: this.options.embedder } : {}),
    });
    const outcome = await store.withLock(STORY_LOCK, async () => {
      const decided = await decideStories(prepared);
      await store.commitFeedBatch(decided.batch);
      return decided;
    });
    log.info({ feed: feed.url, ...outcome.counts }, 'WebSub delivery processed');
    if (outcome.counts.alerts > 0) this.options.queued();
    // A delivery may name a new hub or self in its Link header.
    const moved = discoverHub({ header: linksFromHeader(delivery.link, subscription.topic), document: { hubs: parsed.hubs ?? [], self: parsed.self ?? null }, fetchedUrl: subscription.topic });
    if (moved && (moved.hub !== subscription.hub || moved.topic !== subscription.topic)) await this.discovered(feed, moved);
  }
}
