// The persistence boundary. Async, so SQLite (embedded) and PostgreSQL (several workers) fit
// behind the same interface. Times are epoch milliseconds.

export interface FeedState {
  url: string;
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
}

/** Why an item did or did not become an alert; kept so operators can answer "why not?". */
export type ItemDecision = 'backlog' | 'stale' | 'no-match' | 'unrouted' | 'alerted' | 'folded';

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
}

export interface NewStory {
  title: string;
  link: string | null;
  keys: string[];
}

export interface OutboxMessage {
  story: StoryRef;
  chat: string;
  threadId: number | null;
  /** Telegram HTML */
  html: string;
  /** the same alert as plain text, for the console and for a fallback send */
  text: string;
}

/** Everything one feed poll decided, written in one transaction: seen items and their alerts together. */
export interface FeedBatch {
  feedUrl: string;
  at: number;
  items: ItemRecord[];
  newStories: NewStory[];
  /** keys learnt from further reports of existing stories */
  storyKeys: Array<{ storyId: number; key: string }>;
  outbox: OutboxMessage[];
  fetch: { etag: string | null; lastModified: string | null };
}

export interface StoryMatch {
  id: number;
  /** destinations ("chat" or "chat#thread") that already have this story queued or sent */
  destinations: Set<string>;
}

export type OutboxStatus = 'pending' | 'sent' | 'failed';

export interface OutboxRow {
  id: number;
  storyId: number;
  chat: string;
  threadId: number | null;
  html: string;
  text: string;
  attempts: number;
  createdAt: number;
}

export interface Store {
  getFeedState(url: string): Promise<FeedState | null>;
  /** records a poll that failed (fetch or parse) and when to try again; successes are recorded by commitFeedBatch */
  recordFeedFailure(url: string, error: string, at: number, nextPollAt: number): Promise<void>;
  /** remembers (or forgets, with null) the URL a feed permanently moved to */
  setFeedFetchUrl(url: string, fetchUrl: string | null): Promise<void>;
  /** notes that the feed's current run of failures has been reported */
  markFeedFailureReported(url: string, at: number): Promise<void>;
  /** records a 304 or an unchanged poll */
  recordFeedUnchanged(url: string, at: number): Promise<void>;
  /** the keys among `keys` this feed has not recorded yet */
  unseenItemKeys(feedUrl: string, keys: string[]): Promise<Set<string>>;
  /** the most recent story created after `since` that carries one of `keys` */
  findStory(keys: string[], since: number): Promise<StoryMatch | null>;
  commitFeedBatch(batch: FeedBatch): Promise<void>;
  /** pending outbox rows due at `now`, oldest first */
  dueOutbox(now: number, limit: number): Promise<OutboxRow[]>;
  /** the earliest time a pending row becomes due, or null when none is pending */
  nextOutboxDue(): Promise<number | null>;
  markSent(id: number, messageId: number | null, at: number): Promise<void>;
  markRetry(id: number, error: string, nextAttemptAt: number): Promise<void>;
  markFailed(id: number, error: string, at: number): Promise<void>;
  outboxCounts(): Promise<Record<OutboxStatus, number>>;
  close(): Promise<void>;
}

/** The key under which a destination is remembered per story. */
export function destinationKey(chat: string, threadId: number | null): string {
  return threadId === null ? chat : `${chat}#${threadId}`;
}
