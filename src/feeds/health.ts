// Feed health: when to poll a failing feed again, and when its failures are worth reporting.

import { FetchError } from './fetch.js';

const MINUTE = 60_000;
const MAX_BACKOFF_MS = 6 * 60 * MINUTE;
const MAX_RETRY_AFTER_MS = 24 * 60 * MINUTE;

/**
 * The next time to poll after the `failures`-th failure in a row: 1, 2, 4 … minutes up to 6 hours,
 * ±20% jitter so feeds that failed together do not come back together. A server's Retry-After
 * (429/503) is honoured, up to a day.
 */
export function nextPollAfterFailure(failures: number, error: Error, now: number, random = Math.random): number {
  const backoff = Math.min(MAX_BACKOFF_MS, MINUTE * 2 ** Math.max(0, failures - 1)) * (0.8 + 0.4 * random());
  const asked = error instanceof FetchError && error.kind === 'throttled' ? (error.retryAfterMs ?? 0) : 0;
  return now + Math.round(Math.max(backoff, Math.min(asked, MAX_RETRY_AFTER_MS)));
}

/** True once a run of failures has lasted `reportAfterMs` and has not been reported yet. */
export function failureNeedsReport(
  state: { failingSince: number | null; failureReportedAt: number | null },
  now: number,
  reportAfterMs: number,
): boolean {
  return state.failingSince !== null && state.failureReportedAt === null && now - state.failingSince >= reportAfterMs;
}
