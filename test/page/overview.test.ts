import { describe, expect, it } from 'vitest';
import type { ChannelConfig, FeedConfig } from '../../src/config/load.js';
import { alertVolume, Destinations, feedRows, HOUR, shownUrl, storyDelivery, VOLUME_HOURS } from '../../src/page/overview.js';
import type { FeedState, StoryOverview } from '../../src/store/store.js';

const NOW = Date.UTC(2026, 11, 7, 12, 30);
const DAY = 24 * HOUR;

function channel(chat: string, watchlists: string[]): ChannelConfig {
  return { chat, threadId: null, watchlists, updates: 'edit', template: 'full', linkPreview: false };
}

function state(url: string, overrides: Partial<FeedState> = {}): FeedState {
  return {
    url,
    title: null,
    etag: null,
    lastModified: null,
    firstPolledAt: NOW - 10 * DAY,
    lastSuccessAt: NOW - HOUR,
    lastError: null,
    consecutiveFailures: 0,
    nextPollAt: null,
    fetchUrl: null,
    failingSince: null,
    failureReportedAt: null,
    pollIntervalMs: null,
    pollReason: null,
    ttlMinutes: null,
    pollEarliestAt: null,
    ...overrides,
  };
}

describe('feed health', () => {
  it('lists the configured feeds failing first, then those not polled yet, then the rest; entries a day over the week or since the first poll', () => {
    const feeds: FeedConfig[] = [{ url: 'https://a.test/rss', name: 'A' }, { url: 'https://b.test/rss' }, { url: 'https://c.test/rss' }, { url: 'https://t.me/s/almaty_news', telegram: 'almaty_news' }];
    const states = [
      state('https://a.test/rss'),
      state('https://b.test/rss', { title: 'Feed B', firstPolledAt: NOW - DAY / 2, consecutiveFailures: 2, failingSince: NOW - 3 * HOUR, lastError: 'HTTP 503', nextPollAt: NOW + HOUR }),
      state('https://gone.test/rss'),
    ];
    const rows = feedRows(feeds, states, new Map([['https://a.test/rss', 70], ['https://b.test/rss', 3]]), NOW);
    expect(rows.map((r) => [r.name, r.health, r.failures, r.lastError, r.perDay])).toEqual([
      // Polled for half a day: counted over one day, not seven.
      ['Feed B', 'failing', 2, 'HTTP 503', 3],
      ['c.test', 'new', 0, null, null],
      ['@almaty_news', 'new', 0, null, null],
      ['A', 'ok', 0, null, 10],
    ]);
    expect(rows[0]).toMatchObject({ failingSince: NOW - 3 * HOUR, nextPollAt: NOW + HOUR });
  });

  it('never shows the credentials a feed URL carries', () => {
    expect(shownUrl('https://user:s3cret@feeds.example/rss?x=1')).toBe('https://feeds.example/rss?x=1');
    expect(shownUrl('https://feeds.example/rss')).toBe('https://feeds.example/rss');
  });
});

describe('alerts per hour per watchlist', () => {
  const channels = [channel('@kz', ['unrest']), channel('-100200', ['almaty-ar', 'unrest'])];

  it('counts an alert under the watchlists its destination follows, subscribers\' alerts under one series', () => {
    const destinations = new Destinations(channels, new Map([['-100200', '-100999']]));
    const volume = alertVolume(
      {
        alerts: [
          { at: NOW - 2 * HOUR, chat: '@kz', storyId: 1 },
          // Telegram moved the config's group to a new id: still the config's, by its configured name.
          { at: NOW - 2 * HOUR + 60_000, chat: '-100999', storyId: 1 },
          { at: NOW - 30 * HOUR, chat: '555', storyId: 2 },
          { at: NOW - 30 * HOUR, chat: '777', storyId: 3 },
          // The channel follows none of them any more (the config changed): named by what matched.
          { at: NOW - 3 * DAY, chat: '@kz', storyId: 4 },
          // Outside the week.
          { at: NOW - 8 * DAY, chat: '@kz', storyId: 5 },
          // A story whose watchlists were not read.
          { at: NOW - 4 * DAY, chat: '@kz', storyId: 6 },
        ],
        watchlists: new Map([
          [1, ['unrest', 'almaty-ar', 'chat:555:1']],
          [2, ['chat:555:1']],
          [3, ['chat:777:3', 'unrest']],
          [4, ['old-list']],
          [5, ['unrest']],
        ]),
      },
      channels,
      destinations,
      NOW,
    );
    expect(volume.hours).toBe(VOLUME_HOURS);
    expect(volume.start).toBe(Date.UTC(2026, 11, 7, 13) - VOLUME_HOURS * HOUR);
    expect(volume.series.map((s) => [s.name, s.total, s.lastDay])).toEqual([
      ['almaty-ar', 1, 1],
      ['old-list', 1, 0],
      ['unrest', 2, 2],
      ['subscribers', 2, 0],
      ['other', 1, 0],
    ]);
    const unrest = volume.series.find((s) => s.name === 'unrest');
    expect(unrest?.counts[VOLUME_HOURS - 3]).toBe(2);
    expect(unrest?.counts.reduce((a, b) => a + b, 0)).toBe(2);
    // No subscriber's chat or own watchlist becomes a series name.
    expect(volume.series.map((s) => s.name).join(' ')).not.toMatch(/555|777|chat:/u);
  });

  it('has no series in a week without alerts', () => {
    expect(alertVolume({ alerts: [], watchlists: new Map() }, channels, new Destinations(channels, new Map()), NOW).series).toEqual([]);
  });
});

describe('where a story went', () => {
  it('names the config\'s destinations and counts the subscribers\' chats', () => {
    const story: StoryOverview = {
      id: 1,
      title: 'Story',
      link: null,
      createdAt: NOW,
      breakingAt: null,
      reports: [],
      reportCount: 0,
      messages: [
        { chat: '@kz', threadId: null, kind: 'alert', status: 'sent', sentAt: NOW + 1 },
        { chat: '@kz', threadId: null, kind: 'edit', status: 'sent', sentAt: NOW + 2 },
        { chat: '-100200', threadId: 7, kind: 'alert', status: 'pending', sentAt: null },
        { chat: '555', threadId: null, kind: 'alert', status: 'sent', sentAt: NOW + 3 },
        { chat: '556', threadId: null, kind: 'alert', status: 'failed', sentAt: null },
      ],
      digests: [
        { chat: '557', queuedAt: null },
        { chat: '557', queuedAt: NOW },
        { chat: '558', queuedAt: null },
      ],
    };
    const channels = [channel('@kz', ['unrest']), channel('-100200', ['unrest'])];
    expect(storyDelivery(story, new Destinations(channels, new Map()))).toEqual({
      named: [
        { label: '@kz', status: 'sent', sentAt: NOW + 1 },
        { label: '-100200#7', status: 'pending', sentAt: null },
      ],
      subscribers: { sent: 1, pending: 0, failed: 1 },
      digests: 2,
    });
  });
});
