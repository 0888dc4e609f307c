// The persistence boundary. Async, so SQLite (embedded) and PostgreSQL (several workers) fit
// behind the same interface. Times are epoch milliseconds.

export interface FeedState {
  url: string;
  /** the feed's own title, as its last successful poll read it */
  title: string | null;
  etag: string | null;
  lastModified: string | null;
  /** null until the first successful poll: that poll only records the feed's backlog */
  firstPolledAt: number | null;
  lastSuccessAt: number | null;
  lastError: string | null;
  consecutiveFailures: number;
  /** when failing (or asked to wait by the server), not polled before this time */
  nextPollAt: number | null;
  /** where a permanent redirect pointed: polled instead of the configured URL */
  fetchUrl: string | null;
  /** start of the current run of failures */
  failingSince: number | null;
  /** when that run of failures was reported, so it is reported once */
  failureReportedAt: number | null;
  /** adaptive polling: the interval chosen after the last answer, and why (pace.ts encodeReason); null before one */
  pollIntervalMs: number | null;
  pollReason: string | null;
  /** the feed's RSS <ttl> (minutes) as last read: a 304 has no body to read it from */
  ttlMinutes: number | null;
  /** the soonest a story breaking in its watchlists may bring its next poll forward to (its own floor, else the minimum interval) */
  pollEarliestAt: number | null;
}

/** What adaptive polling decided after an answer (200 or 304): see src/feeds/pace.ts. */
export interface FeedPace {
  intervalMs: number;
  /** the reason, encoded (pace.ts encodeReason) */
  reason: string;
  /** not polled before this time (the cycle's deferral, as after a failure) */
  nextPollAt: number;
  /** …unless a story breaks in its watchlists: then not before this time (its cache floor, or the minimum interval) */
  earliestAt: number;
  /** the feed's RSS <ttl> in minutes, kept for the next 304 */
  ttlMinutes: number | null;
}

/** What a feed's recent entries tell adaptive polling. */
export interface FeedActivity {
  /** its latest entries' times, newest first: published, or first seen when undated or dated later */
  times: number[];
  /** the watchlists its entries first seen since the given time matched */
  watchlists: string[];
}

/** Why an item did or did not become an alert; kept so operators can answer "why not?". */
export type ItemDecision = 'backlog' | 'stale' | 'no-match' | 'unrouted' | 'alerted' | 'folded' | 'updated';

/** A story in this batch: an existing one by id, or one the batch creates (by its index in `newStories`). */
export type StoryRef = { id: number } | { newIndex: number };

export interface ItemRecord {
  key: string;
  title: string;
  link: string | null;
  publishedAt: number | null;
  decision: ItemDecision;
  watchlists: string[];
  story: StoryRef | null;
  /** hash of title and text, so a changed item is known as an update in place */
  contentHash: string;
  /** the item's language, as guessed or declared (why an alert did not reach a chat that takes other languages) */
  language?: string | null;
  /** for an item that matched nothing: the word forms of it some query asks about, so /why can say which terms were missing */
  forms?: string[];
}

/** A report of a story, kept to fold later reports into it and to list who reported it. */
export interface StoryReport {
  story: StoryRef;
  at: number;
  source: string;
  link: string | null;
  title: string;
  language: string | null;
  signature: Uint32Array;
  /** which LSH bands carry more than one term */
  bands: number;
  termHashes: Uint32Array;
  entities: string[];
  numbers: string[];
  /** language-free features ("@almaty", "n:164"), stored as given */
  features: string[];
}

/** A report's fingerprint as the store gives it back, by id (see reportsAfter). */
export type StoredReportRow = Omit<StoryReport, 'story' | 'source' | 'link' | 'title'> & { id: number; storyId: number };

/** How long a lock's lease lasts unrenewed, and how long to wait for it. */
export interface LockOptions {
  /** a holder that stops renewing (crashed) loses the lease this long after (default 30 s) */
  ttlMs?: number;
  /** how long to wait for another holder before giving up with StoreBusyError (default 60 s) */
  waitMs?: number;
}

/** A named lock stayed held by another holder for as long as the caller would wait. */
export class StoreBusyError extends Error {
  constructor(
    readonly lock: string,
    /** who held it when the wait ended, if anyone still did */
    readonly holder: string | null,
  ) {
    super(`lock "${lock}" is held by ${holder ?? 'another holder'}`);
    this.name = 'StoreBusyError';
  }
}

/** What claimFeeds asks for. */
export interface FeedClaim {
  /** the configured feeds (by configured URL); others in the store are never claimed */
  urls: string[];
  now: number;
  /** a feed finished at or after this time was polled this round already */
  polledBefore: number;
  leaseMs: number;
  limit: number;
}

/** A report as the store gives it back for a story. */
export interface KnownReport {
  at: number;
  source: string;
  link: string | null;
  language: string | null;
  entities: string[];
  numbers: string[];
}

/** A story's alert in one destination, as the outbox holds it. */
export interface StoryAlert {
  /** the outbox row of the alert itself */
  outboxId: number;
  chat: string;
  threadId: number | null;
  status: OutboxStatus;
  /** the alert as first rendered, before any "also reported by" */
  baseHtml: string;
  baseText: string;
  /** a pending edit of it not yet sent, which a newer edit replaces */
  pendingEditId: number | null;
  linkPreview: boolean;
  /** the outlet whose report the alert shows, and its language (null for alerts queued before they were kept) */
  source: string | null;
  language: string | null;
}

export interface NewStory {
  title: string;
  link: string | null;
  keys: string[];
}

export type OutboxKind = 'alert' | 'edit' | 'reply' | 'digest';

export interface OutboxMessage {
  story: StoryRef;
  /** an alert; an edit of the story's alert (to add reports); or a reply under it */
  kind: OutboxKind;
  /** for an edit or a reply: the outbox row of the alert it concerns */
  targetId: number | null;
  chat: string;
  threadId: number | null;
  /** whether Telegram shows a preview of the link */
  linkPreview: boolean;
  /** Telegram HTML */
  html: string;
  /** the same alert as plain text, for the console and for a fallback send */
  text: string;
  /** for an alert: the outlet whose report it shows, and the report's language */
  origin?: { source: string; language: string | null };
}

/** Everything one feed poll decided, written in one transaction: seen items and their alerts together. */
export interface FeedBatch {
  feedUrl: string;
  at: number;
  items: ItemRecord[];
  newStories: NewStory[];
  /** keys learnt from further reports of existing stories */
  storyKeys: Array<{ storyId: number; key: string }>;
  /** every matched report, new story or not */
  reports: StoryReport[];
  outbox: OutboxMessage[];
  /**
   * pending outbox rows (alerts not yet sent, edits) rewritten to carry the latest reports; an
   * alert re-rendered from another report (one in the destination's language) also gets its base and origin
   */
  outboxRewrites: Array<{ id: number; html: string; text: string; base?: { html: string; text: string }; origin?: { source: string; language: string | null } }>;
  /** stories that just became breaking */
  breaking: StoryRef[];
  /** alerts for chats that take digests: collected, sent later as one message */
  digestItems: Array<{ story: StoryRef; chat: string; html: string; text: string }>;
  fetch: { etag: string | null; lastModified: string | null };
  /** the feed's own title as this poll read it (kept when a poll reads none) */
  feedTitle?: string | null;
}

/** A batch that records one poll and nothing else yet: what the pipeline's stages fill in. */
export function emptyFeedBatch(feedUrl: string, at: number, fetch: FeedBatch['fetch'] = { etag: null, lastModified: null }): FeedBatch {
  return { feedUrl, at, items: [], newStories: [], storyKeys: [], reports: [], outbox: [], outboxRewrites: [], breaking: [], digestItems: [], fetch };
}

export interface StoryMatch {
  id: number;
  /** the title of the story's first report */
  title: string;
  /** destinations ("chat" or "chat#thread") that already have this story queued or sent */
  destinations: Set<string>;
  /** the story's alerts, one per destination */
  alerts: StoryAlert[];
  /** its first report and up to 30 of its newest, oldest first */
  reports: KnownReport[];
  breakingAt: number | null;
}

export type OutboxStatus = 'pending' | 'sent' | 'failed';

export interface OutboxRow {
  id: number;
  storyId: number;
  kind: OutboxKind;
  /** for an edit or reply: the state of the alert it concerns, and its Telegram message id */
  target: { status: OutboxStatus; messageId: number | null } | null;
  chat: string;
  threadId: number | null;
  linkPreview: boolean;
  html: string;
  text: string;
  attempts: number;
  createdAt: number;
}

/**
 * A WebSub subscription of one configured feed to its hub (src/feeds/websub.ts). The hub pushes
 * to <http.public_url>/websub/<id>; `secret` signs what it pushes and is never logged.
 */
export interface WebsubSubscription {
  /** the opaque callback id: random, unguessable */
  id: string;
  /** the configured feed the pushed content belongs to */
  feedUrl: string;
  /** the topic (the feed's rel="self" URL) and its hub */
  topic: string;
  hub: string;
  secret: string;
  /** pending: asked, not verified; active: verified; denied: the hub refused; unsubscribing: asked to end */
  state: 'pending' | 'active' | 'denied' | 'unsubscribing';
  /** what the hub granted, once verified */
  leaseSeconds: number | null;
  /** when the granted lease ends */
  expiresAt: number | null;
  /** when this state was last asked of the hub */
  requestedAt: number;
}

/** Alerts sent to each destination, for the page's plot of alerts per watchlist. */
export interface SentAlerts {
  /** oldest first */
  alerts: Array<{ at: number; chat: string; storyId: number }>;
  /** for each of their stories: the watchlists the report that started it matched (a chat's own: "chat:<id>:<n>") */
  watchlists: Map<number, string[]>;
}

/** What became of the messages queued in a window; `pending` is the whole outbox's depth now. */
export interface DeliveryCounts {
  sent: number;
  /** sent or given up on after more than one try, or still queued after at least one */
  retried: number;
  failed: number;
  /** met a 429 from Telegram at least once */
  rateLimited: number;
  pending: number;
}

/** A story as the operator page lists it: its reports, and where its messages went. */
export interface StoryOverview {
  id: number;
  title: string;
  link: string | null;
  createdAt: number;
  breakingAt: number | null;
  /** its reports, oldest first (at most STORY_OVERVIEW_REPORTS) */
  reports: Array<{ at: number; source: string; link: string | null; title: string; language: string | null }>;
  /** how many reports it has in all */
  reportCount: number;
  /** its messages (alerts, edits, replies, digests), every destination, oldest first */
  messages: Array<{ chat: string; threadId: number | null; kind: OutboxKind; status: OutboxStatus; sentAt: number | null }>;
  /** its lines in chats' digests (and alerts held for quiet hours) */
  digests: Array<{ chat: string; queuedAt: number | null }>;
}

/** Where a list of stories goes on from: the last one listed. */
export interface StoryCursor {
  createdAt: number;
  id: number;
}

/** The most reports of one story the page lists. */
export const STORY_OVERVIEW_REPORTS = 50;

/** Plain reads for the operator page (src/page/): the recent past, across every worker on the database. */
export interface OverviewStore {
  /** new entries first seen at or after `since` (not a new feed's backlog), per feed */
  feedItemCounts(since: number): Promise<Map<string, number>>;
  /** alerts (not edits, replies or digests) sent at or after `since`, with their stories' watchlists */
  sentAlerts(since: number): Promise<SentAlerts>;
  /** what became of the messages queued at or after `since` */
  deliveryCounts(since: number): Promise<DeliveryCounts>;
  /** the newest `limit` stories, newest first; with `before`, those listed after that one (older, or as old with a lower id) */
  latestStories(limit: number, before?: StoryCursor): Promise<StoryOverview[]>;
}

export interface Store extends SubscriptionStore, OverviewStore {
  getFeedState(url: string): Promise<FeedState | null>;
  /** every feed the store knows, for the admin commands */
  feedStates(): Promise<FeedState[]>;
  /** records a poll that failed (fetch or parse) and when to try again; successes are recorded by commitFeedBatch */
  recordFeedFailure(url: string, error: string, at: number, nextPollAt: number): Promise<void>;
  /** remembers (or forgets, with null) the URL a feed permanently moved to */
  setFeedFetchUrl(url: string, fetchUrl: string | null): Promise<void>;
  /** notes that the feed's current run of failures has been reported */
  markFeedFailureReported(url: string, at: number): Promise<void>;
  /** records a 304 or an unchanged poll */
  recordFeedUnchanged(url: string, at: number): Promise<void>;
  /** records the interval adaptive polling chose after a success or a 304 (a later failure's backoff replaces its nextPollAt) */
  recordFeedPace(url: string, pace: FeedPace): Promise<void>;
  /** the feed's latest `limit` entry times, and the watchlists its entries first seen since `since` matched */
  feedActivity(url: string, since: number, limit: number): Promise<FeedActivity>;
  /** the watchlists matched by items of stories that turned breaking at or after `since` */
  breakingWatchlists(since: number): Promise<Set<string>>;
  /** the content hashes this feed recorded for those of `keys` it has seen */
  itemHashes(feedUrl: string, keys: string[]): Promise<Map<string, string | null>>;
  /** records that a seen item changed in place */
  recordItemUpdate(feedUrl: string, key: string, contentHash: string, at: number): Promise<void>;
  /** the most recent story created after `since` that carries one of `keys` */
  findStory(keys: string[], since: number): Promise<StoryMatch | null>;
  getStory(id: number): Promise<StoryMatch | null>;
  /** the reports with id > `afterId` recorded at or after `since`, ordered by id, at most `limit` */
  reportsAfter(afterId: number, since: number, limit: number): Promise<StoredReportRow[]>;
  /**
   * Runs `fn` holding the lock `name`, exclusive among every process on the database (a lease,
   * renewed while held). Re-entrant within one store; calls from one store queue one after the
   * other. Throws StoreBusyError when another holder keeps it past `waitMs`.
   */
  withLock<T>(name: string, fn: () => Promise<T>, options?: LockOptions): Promise<T>;
  /**
   * Claims up to `limit` of `urls` that are due: not claimed by anyone whose lease still runs, and
   * not polled (finished) since `polledBefore`. Feeds the store has not seen yet are added. Each
   * claimed feed is leased to this store until `now + leaseMs`, so that several processes on one
   * database poll each feed once per round and a dead holder's feeds go to the others after its
   * lease. Least recently polled first, then in the order of `urls` (the config's: which report
   * of a story comes first must not depend on the store). PostgreSQL claims with FOR UPDATE SKIP LOCKED.
   */
  claimFeeds(claim: FeedClaim): Promise<string[]>;
  /**
   * The poll of a claimed feed is over, whatever its outcome: it was polled at `polledAt` (due
   * again from the next round), or not at all (null: cut short by shutdown, due at once). The lease ends.
   */
  finishFeed(url: string, polledAt: number | null): Promise<void>;
  /**
   * Takes role `name` ("sender", "bot", …) unless another store holds it, and holds it until
   * releaseRole, close, or this store's death (PostgreSQL: a session advisory lock, released when
   * the connection goes; SQLite: a renewed lease). Resolves whether this store holds it now. A
   * role and a lock of the same name exclude each other; withLock on a role this store holds runs
   * at once.
   */
  tryRole(name: string): Promise<boolean>;
  releaseRole(name: string): Promise<void>;
  /** the roles this store holds now (a role is dropped as soon as its lease or connection is known lost) */
  heldRoles(): string[];
  /** forgets items, stories and reports older than `before` that nothing pending needs */
  prune(before: number): Promise<{ items: number; stories: number }>;
  commitFeedBatch(batch: FeedBatch): Promise<void>;
  /** pending outbox rows due at `now`, oldest first */
  dueOutbox(now: number, limit: number): Promise<OutboxRow[]>;
  /** the earliest time a pending row becomes due, or null when none is pending */
  nextOutboxDue(): Promise<number | null>;
  markSent(id: number, messageId: number | null, at: number): Promise<void>;
  /** the row stays pending, due again at `nextAttemptAt`; `rateLimited`: Telegram answered 429 (counted for the page) */
  markRetry(id: number, error: string, nextAttemptAt: number, rateLimited?: boolean): Promise<void>;
  markFailed(id: number, error: string, at: number): Promise<void>;
  outboxCounts(): Promise<Record<OutboxStatus, number>>;
  /** saves a WebSub subscription (insert, or replace the one with its id) */
  saveWebsubSubscription(subscription: WebsubSubscription): Promise<void>;
  /** the WebSub subscription whose callback carries `id`, if any */
  websubSubscription(id: string): Promise<WebsubSubscription | null>;
  /** every WebSub subscription, oldest request first */
  websubSubscriptions(): Promise<WebsubSubscription[]>;
  deleteWebsubSubscription(id: string): Promise<void>;
  /** throws unless the store answers a query (readiness) */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** The key under which a destination is remembered per story. */
export function destinationKey(chat: string, threadId: number | null): string {
  return threadId === null ? chat : `${chat}#${threadId}`;
}

/** A chat that talks to the bot: a person, a group or a channel. */
export type DigestPeriod = 'off' | 'hourly' | 'daily';

/** A chat's quiet hours: alerts wait from `from` to `to` (minutes after midnight in `zone`) and come as one digest. */
export interface QuietHours {
  from: number;
  to: number;
  /** an IANA time zone */
  zone: string;
  /** whether breaking stories come through all the same */
  breaking: boolean;
}

/** How a chat takes its alerts (/digest, /settings, /quiet, /languages, /lang, the topic it subscribed from). */
export interface ChatSettings {
  /** alerts one by one (off), or collected and sent as one message per period */
  digest: DigestPeriod;
  template: 'full' | 'compact';
  /** what further reports of an alerted story do */
  updates: 'edit' | 'reply' | 'silent';
  /** the forum topic its alerts, edits and digests go to (the one it subscribed from); null: the chat itself */
  threadId: number | null;
  /** the languages its alerts may be in; null: every language */
  languages: string[] | null;
  quiet: QuietHours | null;
  /** the bot's language chosen with /lang; null: follow the app (appLanguage) */
  language: string | null;
  /** the language_code the chat's last command came with */
  appLanguage: string | null;
}

/** The settings a chat can change, one or several at a time. */
export type ChatSettingsChange = Partial<Omit<ChatSettings, 'digest'>>;

/** What the store knows of an item, its story and where that story went: the answer to "why (not)?". */
export interface ItemTrace {
  feedUrl: string;
  title: string;
  link: string | null;
  publishedAt: number | null;
  firstSeenAt: number;
  /** when it last changed in place, if it did */
  updatedAt: number | null;
  decision: ItemDecision;
  watchlists: string[];
  forms: string[];
  language: string | null;
  story: { id: number; title: string; link: string | null; createdAt: number; breakingAt: number | null } | null;
  /** the story's messages, every destination */
  deliveries: Array<{
    chat: string;
    threadId: number | null;
    kind: OutboxKind;
    status: OutboxStatus;
    attempts: number;
    lastError: string | null;
    sentAt: number | null;
    nextAttemptAt: number;
    /** the outlet whose report an alert shows */
    source: string | null;
  }>;
  /** the story's lines in chats' digests (also the alerts held for quiet hours) */
  digests: Array<{ chat: string; createdAt: number; queuedAt: number | null }>;
}

export interface ChatRecord extends ChatSettings {
  chat: string;
  kind: 'private' | 'group' | 'supergroup' | 'channel';
  active: boolean;
  mutedUntil: number | null;
  /** why it went, when it is not active */
  deactivatedReason: string | null;
}

/** An alert waiting for its chat's next digest. */
export interface DigestItem {
  id: number;
  storyId: number;
  html: string;
  text: string;
}

/** One of a chat's watchlists: a preset by name, or its own query. */
export interface ChatWatchlist {
  id: number;
  chat: string;
  preset: string | null;
  query: string | null;
}

/** Subscriptions, kept by the store; the bot changes them, the worker reads them each cycle. */
export interface SubscriptionStore {
  /** records the chat (re-activating it if it had gone) */
  upsertChat(chat: string, kind: ChatRecord['kind'], at: number): Promise<ChatRecord>;
  getChat(chat: string): Promise<ChatRecord | null>;
  addChatWatchlist(chat: string, watchlist: { preset: string } | { query: string }, at: number): Promise<ChatWatchlist>;
  removeChatWatchlist(chat: string, id: number): Promise<boolean>;
  chatWatchlists(chat: string): Promise<ChatWatchlist[]>;
  /** the watchlists of every chat that is active and not muted at `now`, for the matcher */
  activeWatchlists(now: number): Promise<ChatWatchlist[]>;
  /** the settings of every active chat */
  chatSettings(): Promise<Map<string, ChatSettings>>;
  setChatSettings(chat: string, settings: ChatSettingsChange): Promise<void>;
  /**
   * Telegram moved the chat to a new id (a group upgraded to a supergroup): its subscriptions,
   * settings, digest lines and outbox rows (pending and sent, so a story it had is not sent
   * again) go to `to`; the old id is deactivated and the move remembered (config channels follow it).
   */
  moveChat(from: string, to: string, at: number): Promise<void>;
  /** every chat id Telegram moved, old → new */
  chatMoves(): Promise<Map<string, string>>;
  /** the items seen with one of these links (newest first, at most 5), with their stories' deliveries */
  traceLinks(links: string[]): Promise<ItemTrace[]>;
  /** a chat's digest period; its first digest is due a period after `now` */
  setDigest(chat: string, period: DigestPeriod, now: number): Promise<void>;
  /**
   * chats whose digest is due at `now` (a period since the last), and chats without digests that
   * have items waiting (held for quiet hours), with the items waiting for each
   */
  dueDigests(now: number): Promise<Array<{ chat: string; items: DigestItem[] }>>;
  /** queues a chat's digest messages and marks its items as sent in them, in one transaction */
  queueDigest(chat: string, messages: Array<{ storyId: number; html: string; text: string }>, itemIds: number[], now: number): Promise<void>;
  setMutedUntil(chat: string, until: number | null): Promise<void>;
  /** the chat blocked the bot, left, or is gone: nothing more is sent to it */
  deactivateChat(chat: string, reason: string, at: number): Promise<void>;
  /** how many chats are active and how many have gone */
  chatCounts(): Promise<{ active: number; inactive: number }>;
  /** the bot's position in its stream of updates */
  getBotOffset(): Promise<number>;
  setBotOffset(offset: number): Promise<void>;
}
