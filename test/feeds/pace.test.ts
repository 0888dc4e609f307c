import { describe, expect, it } from 'vitest';
import {
  decodeReason,
  describePace,
  describeReason,
  encodeReason,
  formatInterval,
  MAX_FLOOR_MS,
  nextPoll,
  type CacheHeaders,
  type PaceInput,
  type PaceReason,
} from '../../src/feeds/pace.js';
import { parseFeed } from '../../src/feeds/parse.js';
import { parseTolerant } from '../../src/feeds/tolerant.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const NOW = Date.UTC(2026, 11, 2, 12, 0, 0);
const BOUNDS = { minMs: MINUTE, maxMs: 2 * HOUR, windowMs: 7 * DAY };

/** `count` entries evenly over the `spanMs` before now, newest first, and one older than the window (history covers it). */
function entries(count: number, spanMs: number): number[] {
  return [...Array.from({ length: count }, (_, i) => NOW - Math.round(((i + 0.5) * spanMs) / count)), NOW - 30 * DAY];
}

const noHeaders: CacheHeaders = { cacheControl: null, expires: null, date: null, age: null, retryAfter: null };

function pace(overrides: Partial<PaceInput> = {}) {
  return nextPoll({ now: NOW, round: NOW, times: [], cache: noHeaders, ttlMinutes: null, breaking: false, bounds: BOUNDS, ...overrides });
}

describe('adaptive polling', () => {
  it('polls a busy feed more often than a quiet one, following its publication rate', () => {
    const busy = pace({ times: entries(7 * 96, 7 * DAY) }); // 96 a day: one every 15 min
    const steady = pace({ times: entries(7 * 12, 7 * DAY) }); // 12 a day
    const quiet = pace({ times: entries(3, 7 * DAY) });
    expect(busy.intervalMs).toBeLessThan(steady.intervalMs);
    expect(steady.intervalMs).toBeLessThan(quiet.intervalMs);
    expect(steady).toMatchObject({ intervalMs: 30 * MINUTE, nextPollAt: NOW + 30 * MINUTE, reason: { code: 'rate', perDay: 12, bound: null } });
    expect(describePace(steady.intervalMs, steady.reason)).toBe('30 min — 12 entries/day');
    expect(busy.intervalMs).toBeCloseTo(225 * SECOND, -3);
  });

  it('keeps within the configured bounds, and says when a bound decided', () => {
    const torrent = pace({ times: entries(7 * 5000, 7 * DAY) });
    expect(torrent).toMatchObject({ intervalMs: MINUTE, reason: { code: 'rate', bound: 'min' } });
    const trickle = pace({ times: entries(2, 7 * DAY) });
    expect(trickle).toMatchObject({ intervalMs: 2 * HOUR, reason: { code: 'rate', bound: 'max' } });
    expect(describeReason(trickle.reason)).toBe('0.29 entries/day (the maximum)');
    // Nothing in the window: the maximum.
    expect(pace({ times: [NOW - 30 * DAY] })).toMatchObject({ intervalMs: 2 * HOUR, reason: { code: 'quiet' } });
    expect(pace({ times: [] })).toMatchObject({ intervalMs: 2 * HOUR, reason: { code: 'quiet' } });
  });

  it('judges a new feed that lists only its latest entries by the hours they cover, not the whole window', () => {
    // 20 entries over the last 5 hours and nothing older known: about 4 an hour, not 20 a week.
    const fresh = Array.from({ length: 20 }, (_, i) => NOW - i * 15 * MINUTE);
    const result = pace({ times: fresh });
    expect(result.reason).toMatchObject({ code: 'rate' });
    expect(result.intervalMs).toBeLessThan(30 * MINUTE);
    // A lone entry of a minute ago is not a torrent: at least six hours are assumed.
    expect(pace({ times: [NOW - MINUTE] }).intervalMs).toBe(90 * MINUTE);
  });

  it('counts from the round, so the next poll lands on a tick, but never before the answer', () => {
    const round = NOW - 20 * SECOND;
    expect(pace({ round, times: entries(7 * 12, 7 * DAY) }).nextPollAt).toBe(round + 30 * MINUTE);
    expect(pace({ round: NOW - HOUR, times: entries(7 * 12, 7 * DAY) }).nextPollAt).toBe(NOW);
  });

  it('tells how soon a story breaking meanwhile may bring the poll forward: the minimum, or the feed’s floor', () => {
    expect(pace({ times: entries(2, 7 * DAY) })).toMatchObject({ nextPollAt: NOW + 2 * HOUR, earliestAt: NOW + MINUTE });
    expect(pace({ times: entries(2, 7 * DAY), cache: { ...noHeaders, cacheControl: 'max-age=1800' } })).toMatchObject({ nextPollAt: NOW + 2 * HOUR, earliestAt: NOW + 1800 * SECOND });
    expect(pace({ times: entries(2, 7 * DAY), ttlMinutes: 10 }).earliestAt).toBe(NOW + 10 * MINUTE);
  });

  it('polls at the minimum while a story breaks in the feed’s watchlists', () => {
    expect(pace({ times: entries(3, 7 * DAY), breaking: true })).toMatchObject({ intervalMs: MINUTE, nextPollAt: NOW + MINUTE, reason: { code: 'breaking' } });
  });

  it('honours the RSS ttl, over the rate and over a breaking story', () => {
    const busy = entries(7 * 500, 7 * DAY);
    expect(pace({ times: busy, ttlMinutes: 60 })).toMatchObject({ intervalMs: HOUR, nextPollAt: NOW + HOUR, reason: { code: 'ttl', minutes: 60 } });
    expect(pace({ times: busy, ttlMinutes: 60, breaking: true })).toMatchObject({ nextPollAt: NOW + HOUR, reason: { code: 'ttl' } });
    // A ttl shorter than the pace changes nothing.
    expect(pace({ times: entries(2, 7 * DAY), ttlMinutes: 5 })).toMatchObject({ intervalMs: 2 * HOUR, reason: { code: 'rate' } });
  });

  it('honours Cache-Control max-age less the Age the answer already has, over a breaking story', () => {
    const cached = pace({ breaking: true, cache: { ...noHeaders, cacheControl: 'public, max-age=3600' } });
    expect(cached).toMatchObject({ intervalMs: HOUR, nextPollAt: NOW + HOUR, reason: { code: 'max-age', seconds: 3600 } });
    expect(describeReason(cached.reason)).toBe('Cache-Control max-age=3600');
    const aged = pace({ breaking: true, cache: { ...noHeaders, cacheControl: 'max-age=600', age: '120' } });
    expect(aged.nextPollAt).toBe(NOW + 480 * SECOND);
    // The floor counts from the answer, not from the round.
    expect(pace({ round: NOW - 30 * SECOND, breaking: true, cache: { ...noHeaders, cacheControl: 'max-age=300' } }).nextPollAt).toBe(NOW + 300 * SECOND);
  });

  it('honours Expires against the Date of the answer, and max-age before Expires', () => {
    const date = new Date(NOW - 5 * SECOND).toUTCString();
    const expires = new Date(NOW - 5 * SECOND + 1800 * SECOND).toUTCString();
    const result = pace({ breaking: true, cache: { ...noHeaders, date, expires } });
    expect(result).toMatchObject({ intervalMs: 1800 * SECOND, nextPollAt: NOW + 1800 * SECOND, reason: { code: 'expires', seconds: 1800 } });
    expect(pace({ breaking: true, cache: { ...noHeaders, date, expires, cacheControl: 'max-age=120' } }).reason).toEqual({ code: 'max-age', seconds: 120 });
    // "Expires: 0" and a past date mean already stale: no floor.
    expect(pace({ breaking: true, cache: { ...noHeaders, expires: '0' } }).reason).toEqual({ code: 'breaking' });
    expect(pace({ breaking: true, cache: { ...noHeaders, date, expires: new Date(NOW - HOUR).toUTCString() } }).reason).toEqual({ code: 'breaking' });
  });

  it('sets no floor for no-cache or no-store answers', () => {
    for (const cacheControl of ['no-cache, max-age=3600', 'no-store', 'max-age=0']) {
      expect(pace({ breaking: true, cache: { ...noHeaders, cacheControl } }).reason, cacheControl).toEqual({ code: 'breaking' });
    }
  });

  it('keeps a Retry-After the server sent with its answer', () => {
    expect(pace({ breaking: true, cache: { ...noHeaders, retryAfter: '900' } })).toMatchObject({ nextPollAt: NOW + 900 * SECOND, reason: { code: 'retry-after', seconds: 900 } });
    const at = new Date(NOW + 2 * HOUR + HOUR).toUTCString();
    expect(pace({ times: entries(2, 7 * DAY), cache: { ...noHeaders, retryAfter: at } })).toMatchObject({ nextPollAt: NOW + 3 * HOUR, reason: { code: 'retry-after' } });
  });

  it('takes the latest of several floors, and caps any at a day', () => {
    const result = pace({ ttlMinutes: 180, cache: { ...noHeaders, cacheControl: 'max-age=3600', retryAfter: '60' } });
    expect(result).toMatchObject({ nextPollAt: NOW + 3 * HOUR, reason: { code: 'ttl', minutes: 180 } });
    expect(pace({ cache: { ...noHeaders, cacheControl: 'max-age=31536000' } })).toMatchObject({ nextPollAt: NOW + MAX_FLOOR_MS, intervalMs: MAX_FLOOR_MS });
  });

  it('keeps its reasons in the store and reads them back', () => {
    const reasons: PaceReason[] = [
      { code: 'rate', perDay: 12.5, bound: null },
      { code: 'rate', perDay: 3000, bound: 'min' },
      { code: 'quiet' },
      { code: 'breaking' },
      { code: 'max-age', seconds: 3600 },
      { code: 'expires', seconds: 1800 },
      { code: 'ttl', minutes: 60 },
      { code: 'retry-after', seconds: 120 },
    ];
    for (const reason of reasons) expect(decodeReason(encodeReason(reason))).toEqual(reason);
    expect(decodeReason('something-newer:1')).toBeNull();
    expect(decodeReason(null)).toBeNull();
  });

  it('says intervals the way people read them, and when the schedule is the limit', () => {
    expect([45 * SECOND, 5 * MINUTE, 2 * HOUR, 90 * MINUTE, DAY].map(formatInterval)).toEqual(['45 s', '5 min', '2 h', '1 h 30 min', '1 d']);
    expect(describePace(MINUTE, { code: 'breaking' }, 5 * MINUTE)).toBe('1 min — breaking story (the minimum) (the schedule ticks every 5 min: polled then)');
  });

  it('reads the RSS <ttl> in minutes, through either XML parser; junk and other formats have none', async () => {
    const feed = (ttl: string) => `<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><ttl>${ttl}</ttl><item><title>A</title><guid>a</guid></item></channel></rss>`;
    expect((await parseFeed(feed('60'), 'https://f.test/rss')).ttlMinutes).toBe(60);
    expect(parseTolerant(feed(' 90 '), 'https://f.test/rss', 'rss').ttlMinutes).toBe(90);
    for (const junk of ['0', 'soon', '-5', '']) expect((await parseFeed(feed(junk), 'https://f.test/rss')).ttlMinutes ?? null, junk).toBeNull();
    const atom = '<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>T</title><entry><id>a</id><title>A</title></entry></feed>';
    expect((await parseFeed(atom, 'https://f.test/atom')).ttlMinutes ?? null).toBeNull();
  });
});
