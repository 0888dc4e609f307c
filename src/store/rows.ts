// What the two stores read and write alike: a feed's row, the fingerprints' bytes.

import type { FeedState } from './store.js';

/** How many of a story's newest reports are read to keep its alert current (plus its first). */
export const STORY_REPORTS_READ = 30;

/** A poll that worked ends any run of failures. */
export const FEED_HEALTHY = `consecutive_failures = 0, last_error = NULL, next_poll_at = NULL, failing_since = NULL, failure_reported_at = NULL`;

export interface FeedRow {
  url: string;
  etag: string | null;
  last_modified: string | null;
  first_polled_at: number | null;
  last_success_at: number | null;
  last_error: string | null;
  consecutive_failures: number;
  next_poll_at: number | null;
  fetch_url: string | null;
  failing_since: number | null;
  failure_reported_at: number | null;
}

export function feedState(row: FeedRow): FeedState {
  return {
    url: row.url,
    etag: row.etag,
    lastModified: row.last_modified,
    firstPolledAt: row.first_polled_at,
    lastSuccessAt: row.last_success_at,
    lastError: row.last_error,
    consecutiveFailures: row.consecutive_failures,
    nextPollAt: row.next_poll_at,
    fetchUrl: row.fetch_url,
    failingSince: row.failing_since,
    failureReportedAt: row.failure_reported_at,
  };
}

/** A typed array's bytes, to store as a BLOB or BYTEA (in this machine's byte order, in both stores). */
export function bytesOf(values: Uint32Array): Buffer {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength);
}

/** Stored bytes as 32-bit values (copied: the Buffer may not be aligned). */
export function uint32s(bytes: Buffer): Uint32Array {
  const values = new Uint32Array(bytes.byteLength / 4);
  new Uint8Array(values.buffer).set(bytes);
  return values;
}
