// Adaptive polling: when to poll a feed that answered (200 or 304) again. The interval follows the
// feed's observed publication rate within configured bounds, is cut to the minimum while a story
// is breaking in its watchlists, and is never shorter than what the feed itself allows (its RSS
// <ttl>, Cache-Control max-age / Expires, a Retry-After). Pure: the caller brings the facts.

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const DAY = 24 * 60 * MINUTE;
/**
 * What a server may ask at most: a feed that says max-age of a year (a CDN's static-file default)
 * is still polled daily, as a Retry-After is honoured up to a day (health.ts).
 */
export const MAX_FLOOR_MS = DAY;
/** Polls per expected entry: a feed is polled about four times between two of its entries. */
const POLLS_PER_ENTRY = 4;
/**
 * A feed first seen with a few recent entries is judged over at least this share of the window
 * (6 hours of the default 7 days), not over the minutes its entries cover.
 */
const MIN_SPAN_SHARE = 1 / 28;

/** The caching headers of a feed's last answer, as the server sent them (null when absent). */
export interface CacheHeaders {
  cacheControl: string | null;
  expires: string | null;
  date: string | null;
  age: string | null;
  retryAfter: string | null;
}

export interface PaceBounds {
  minMs: number;
  maxMs: number;
  /** how far back publication times count towards the rate */
  windowMs: number;
}

export interface PaceInput {
  /** when the answer arrived: what the feed's own floor counts from */
  now: number;
  /** the schedule's tick the poll ran for: the rate-based interval counts from it, so it lands on a tick */
  round: number;
  /**
   * the feed's latest entries' times (published, or first seen when undated or dated later), any
   * order; entries older than the window among them tell that the feed's history covers it
   */
  times: readonly number[];
  cache: CacheHeaders | null;
  /** the feed's RSS <ttl>, in minutes */
  ttlMinutes: number | null;
  /** whether a story is breaking in one of the watchlists the feed's entries match */
  breaking: boolean;
  bounds: PaceBounds;
}

/** Why a feed has the interval it has; kept in the store (encodeReason) and told in words. */
export type PaceReason =
  | { code: 'rate'; perDay: number; bound: 'min' | 'max' | null }
  | { code: 'quiet' }
  | { code: 'breaking' }
  | { code: 'max-age'; seconds: number }
  | { code: 'expires'; seconds: number }
  | { code: 'ttl'; minutes: number }
  | { code: 'retry-after'; seconds: number };

export interface Pace {
  intervalMs: number;
  /** not polled before this time */
  nextPollAt: number;
  /** the soonest a story breaking meanwhile may bring the poll forward to: the feed's own floor, else the minimum */
  earliestAt: number;
  reason: PaceReason;
}

/** Cache-Control directives by name (lower case) → value (null for a bare directive). */
function directives(header: string): Map<string, string | null> {
  const found = new Map<string, string | null>();
  for (const part of header.split(',')) {
    const [name = '', ...rest] = part.split('=');
    const key = name.trim().toLowerCase();
    if (key) found.set(key, rest.length > 0 ? rest.join('=').trim().replace(/^"(.*)"$/u, '$1') : null);
  }
  return found;
}

const seconds = (text: string | null | undefined): number | null => (text != null && /^\d+$/u.test(text.trim()) ? Number(text.trim()) : null);

/**
 * How long the answer stays fresh from `now` (RFC 9111 §4.2): max-age, else Expires − Date, less
 * its Age; null when it is not fresh at all (no-cache, no-store, max-age=0, an Expires past or unreadable).
 */
export function freshness(cache: CacheHeaders | null, now: number): { ms: number; reason: PaceReason } | null {
  if (!cache) return null;
  const control = directives(cache.cacheControl ?? '');
  if (control.has('no-cache') || control.has('no-store')) return null;
  const age = (seconds(cache.age) ?? 0) * SECOND;
  const maxAge = seconds(control.get('max-age'));
  if (maxAge !== null) {
    const ms = maxAge * SECOND - age;
    return ms > 0 ? { ms, reason: { code: 'max-age', seconds: maxAge } } : null;
  }
  if (cache.expires) {
    // An unreadable Expires ("0", "-1") means already expired.
    const expires = Date.parse(cache.expires);
    if (Number.isNaN(expires)) return null;
    const date = cache.date ? Date.parse(cache.date) : Number.NaN;
    const ms = expires - (Number.isNaN(date) ? now : date) - age;
    return ms > 0 ? { ms, reason: { code: 'expires', seconds: Math.round(ms / SECOND) } } : null;
  }
  return null;
}

/** Retry-After on an answer that was not an error (delta-seconds or an HTTP date), in ms. */
function retryAfterMs(cache: CacheHeaders | null, now: number): number | null {
  const value = cache?.retryAfter?.trim();
  if (!value) return null;
  const delta = seconds(value);
  if (delta !== null) return delta * SECOND;
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

/** Entries per day over the window, or null when none fell in it. */
export function publicationRate(times: readonly number[], now: number, windowMs: number): number | null {
  const since = now - windowMs;
  const recent = times.filter((t) => t >= since && t <= now);
  if (recent.length === 0) return null;
  // The window is covered when older entries exist; otherwise what is known starts at the oldest
  // entry (a new feed that lists only its last 20; the store's list cut at its limit), counted
  // as at least MIN_SPAN_SHARE of the window so that a few fresh entries do not make a torrent.
  const coversWindow = recent.length < times.length;
  const oldest = recent.reduce((a, b) => Math.min(a, b));
  const span = coversWindow ? windowMs : Math.min(windowMs, Math.max(windowMs * MIN_SPAN_SHARE, now - oldest));
  return (recent.length / span) * DAY;
}

/** The feed's next poll after an answer (see the module comment for the rule). */
export function nextPoll(input: PaceInput): Pace {
  const { now, round, bounds } = input;
  const minMs = Math.max(1, Math.min(bounds.minMs, bounds.maxMs));
  const maxMs = Math.max(bounds.minMs, bounds.maxMs);
  let intervalMs: number;
  let reason: PaceReason;
  if (input.breaking) {
    intervalMs = minMs;
    reason = { code: 'breaking' };
  } else {
    const perDay = publicationRate(input.times, now, bounds.windowMs);
    if (perDay === null) {
      intervalMs = maxMs;
      reason = { code: 'quiet' };
    } else {
      const wanted = DAY / perDay / POLLS_PER_ENTRY;
      intervalMs = Math.min(maxMs, Math.max(minMs, Math.round(wanted)));
      reason = { code: 'rate', perDay, bound: wanted < minMs ? 'min' : wanted > maxMs ? 'max' : null };
    }
  }
  // Rate intervals count from the round (they land on a tick); the feed's floor counts from the
  // answer, and always wins, over "breaking" too.
  let nextPollAt = Math.max(now, round + intervalMs);
  let earliestAt = Math.max(now, round + minMs);
  const floors: Array<{ ms: number; reason: PaceReason }> = [];
  const fresh = freshness(input.cache, now);
  if (fresh) floors.push(fresh);
  if (input.ttlMinutes !== null && input.ttlMinutes > 0) floors.push({ ms: input.ttlMinutes * MINUTE, reason: { code: 'ttl', minutes: input.ttlMinutes } });
  const retry = retryAfterMs(input.cache, now);
  if (retry !== null && retry > 0) floors.push({ ms: retry, reason: { code: 'retry-after', seconds: Math.round(retry / SECOND) } });
  for (const floor of floors) {
    const until = now + Math.min(floor.ms, MAX_FLOOR_MS);
    earliestAt = Math.max(earliestAt, until);
    if (until > nextPollAt) {
      nextPollAt = until;
      intervalMs = Math.min(floor.ms, MAX_FLOOR_MS);
      reason = floor.reason;
    }
  }
  return { intervalMs, nextPollAt, earliestAt, reason };
}

/** The reason as the store keeps it: `code` or `code:value[:bound]`. */
export function encodeReason(reason: PaceReason): string {
  switch (reason.code) {
    case 'rate':
      return `rate:${Number(reason.perDay.toFixed(2))}${reason.bound ? `:${reason.bound}` : ''}`;
    case 'quiet':
    case 'breaking':
      return reason.code;
    case 'max-age':
    case 'expires':
    case 'retry-after':
      return `${reason.code}:${reason.seconds}`;
    case 'ttl':
      return `ttl:${reason.minutes}`;
  }
}

/** The stored reason read back; null for one this version does not know. */
export function decodeReason(text: string | null): PaceReason | null {
  if (!text) return null;
  const [code, value, bound] = text.split(':');
  const number = Number(value);
  switch (code) {
    case 'quiet':
    case 'breaking':
      return { code };
    case 'rate':
      return Number.isFinite(number) ? { code, perDay: number, bound: bound === 'min' || bound === 'max' ? bound : null } : null;
    case 'max-age':
    case 'expires':
    case 'retry-after':
      return Number.isFinite(number) ? { code, seconds: number } : null;
    case 'ttl':
      return Number.isFinite(number) ? { code, minutes: number } : null;
    default:
      return null;
  }
}

/** A duration in the units people read it in: seconds, minutes, hours (and minutes), days. */
export type IntervalParts = { unit: 's' | 'min' | 'h' | 'd'; n: number } | { unit: 'hmin'; h: number; min: number };

export function intervalParts(ms: number): IntervalParts {
  if (ms < MINUTE) return { unit: 's', n: Math.max(1, Math.round(ms / SECOND)) };
  const minutes = Math.round(ms / MINUTE);
  if (minutes < 60) return { unit: 'min', n: minutes };
  if (minutes % (24 * 60) === 0) return { unit: 'd', n: minutes / (24 * 60) };
  const hours = Math.floor(minutes / 60);
  return minutes % 60 === 0 ? { unit: 'h', n: hours } : { unit: 'hmin', h: hours, min: minutes % 60 };
}

/** A duration the way the reasons say it: "45 s", "30 min", "2 h", "1 h 30 min", "1 d". */
export function formatInterval(ms: number): string {
  const parts = intervalParts(ms);
  return parts.unit === 'hmin' ? `${parts.h} h ${parts.min} min` : `${parts.n} ${parts.unit}`;
}

/** Entries per day as the reasons say it: "12", "0.5", "0.03". */
export function formatRate(perDay: number): string {
  return perDay >= 10 ? String(Math.round(perDay)) : String(Number(perDay.toPrecision(2)));
}

/** The reason in English words (logs, check-config): "12 entries/day", "Cache-Control max-age=3600". */
export function describeReason(reason: PaceReason): string {
  switch (reason.code) {
    case 'rate':
      return `${formatRate(reason.perDay)} entries/day${reason.bound ? ` (the ${reason.bound === 'min' ? 'minimum' : 'maximum'})` : ''}`;
    case 'quiet':
      return 'no recent entries (the maximum)';
    case 'breaking':
      return 'breaking story (the minimum)';
    case 'max-age':
      return `Cache-Control max-age=${reason.seconds}`;
    case 'expires':
      return `Expires in ${formatInterval(reason.seconds * SECOND)}`;
    case 'ttl':
      return `ttl ${reason.minutes} min`;
    case 'retry-after':
      return `Retry-After ${reason.seconds} s`;
  }
}

/** "30 min — 12 entries/day", with the tick's limit when the schedule polls less often than the pace asks. */
export function describePace(intervalMs: number, reason: PaceReason, tickMs: number | null = null): string {
  const limited = tickMs !== null && tickMs > intervalMs ? ` (the schedule ticks every ${formatInterval(tickMs)}: polled then)` : '';
  return `${formatInterval(intervalMs)} — ${describeReason(reason)}${limited}`;
}
