// A week of a newsroom's monitoring written into a store through its own API, for the operator
// page's screenshot (test/support/screenshot.ts) and its benchmark: feeds (one failing), stories
// told by outlets in four languages, alerts sent hour by hour to two channels and to subscribers.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type Config } from '../../src/config/load.js';
import { encodeReason } from '../../src/feeds/pace.js';
import type { FeedBatch, ItemRecord, OutboxMessage, Store, StoryRef, StoryReport } from '../../src/store/store.js';

const HOUR = 3_600_000;

export const SEED_FEEDS = [
  { url: 'https://www.reuters.example/world/asia/rss', name: 'Reuters', language: 'en' },
  { url: 'https://tass.example/rss/v2.xml', name: 'ТАСС', language: 'ru' },
  { url: 'https://www.azattyq.example/api/rss', name: 'Азаттық', language: 'kk' },
  { url: 'https://www.aljazeera.example/rss', name: 'الجزيرة', language: 'ar' },
  { url: 'https://tengrinews.example/news.rss', name: 'Tengrinews', language: 'ru' },
  { url: 'https://orda.example/feed/', name: 'Orda.kz', language: 'ru' },
] as const;

/** One story as each outlet told it: [feed index, title, link]. */
const STORIES: Array<Array<[number, string, string]>> = [
  [
    [1, 'Митинг в Алматы: полиция задержала десятки человек', 'https://tass.example/proisshestviya/20001'],
    [3, 'احتجاجات في ألماتي واعتقال العشرات', 'https://www.aljazeera.example/news/almaty-protest'],
    [0, 'Police detain dozens at Almaty protest', 'https://www.reuters.example/world/asia/almaty-protest'],
    [2, 'Алматыдағы митингіде ондаған адам ұсталды', 'https://www.azattyq.example/a/33000001.html'],
  ],
  [
    [0, 'Kazakhstan declares state of emergency in Mangystau', 'https://www.reuters.example/world/asia/mangystau-emergency'],
    [1, 'В Мангистауской области введено чрезвычайное положение', 'https://tass.example/politika/20002'],
  ],
  [[4, 'Взрыв на газопроводе под Шымкентом', 'https://tengrinews.example/kazakhstan_news/shymkent-blast']],
  [
    [3, 'إضراب عمال النفط في جاناوزين', 'https://www.aljazeera.example/news/zhanaozen-strike'],
    [1, 'Нефтяники Жанаозена объявили забастовку', 'https://tass.example/ekonomika/20003'],
    [2, 'Жаңаөзен мұнайшылары ереуілге шықты', 'https://www.azattyq.example/a/33000002.html'],
  ],
  [[0, 'Internet cut in Almaty as protests spread', 'https://www.reuters.example/world/asia/almaty-internet']],
  [
    [1, 'В Астане разогнали пикет у акимата', 'https://tass.example/proisshestviya/20004'],
    [4, 'Пикет у акимата Астаны разогнан полицией', 'https://tengrinews.example/kazakhstan_news/astana-picket'],
  ],
  [[2, 'Атырауда наразылық акциясы өтті', 'https://www.azattyq.example/a/33000003.html']],
  [
    [3, 'إطلاق نار في ألما آتا خلال الاحتجاجات', 'https://www.aljazeera.example/news/alma-ata-shots'],
    [0, 'Shots fired in Almaty as protesters gather', 'https://www.reuters.example/world/asia/almaty-shots'],
  ],
];

function report(story: StoryRef, at: number, source: string, link: string, title: string, language: string): StoryReport {
  return { story, at, source, link, title, language, signature: new Uint32Array(4), bands: 0, termHashes: new Uint32Array([1]), entities: ['almaty'], numbers: [], features: [] };
}

function item(key: string, title: string, link: string | null, at: number, decision: ItemRecord['decision'], story: StoryRef | null, watchlists: string[]): ItemRecord {
  return { key, title, link, publishedAt: at, decision, watchlists, story, contentHash: key };
}

function alert(story: StoryRef, chat: string, title: string): OutboxMessage {
  return { story, kind: 'alert', targetId: null, chat, threadId: null, linkPreview: false, html: `<b>${title}</b>`, text: title };
}

function batch(feedUrl: string, at: number, fill: Partial<FeedBatch>): FeedBatch {
  return { feedUrl, at, items: [], newStories: [], storyKeys: [], reports: [], outbox: [], outboxRewrites: [], breaking: [], digestItems: [], fetch: { etag: null, lastModified: null }, ...fill };
}

/** The URL of the seed's `n`th extra feed: a news site's many section feeds on 40 hosts. */
export const extraFeedUrl = (n: number): string => `https://feeds${n % 40}.example/section-${n}.xml`;

/** A config naming the seed's feeds (and `extraFeeds` more) and channels, written to a temporary folder. */
export function seedConfig(extraFeeds = 0): Config {
  const dir = mkdtempSync(join(tmpdir(), 'steppewatch-seed-'));
  const file = join(dir, 'steppewatch.yaml');
  const feeds = [...SEED_FEEDS.map((f) => `  - { url: "${f.url}", name: "${f.name}", language: ${f.language} }`), ...Array.from({ length: extraFeeds }, (_, n) => `  - url: "${extraFeedUrl(n)}"`)].join('\n');
  writeFileSync(
    file,
    `feeds:\n${feeds}\nwatchlists:\n  almaty-ar: 'ألماتي OR "ألما آتا"'\nchannels:\n  - chat: "@kz_alerts"\n    watchlists: [kazakhstan-unrest]\n  - chat: "@almaty_ar"\n    watchlists: [almaty-ar]\nsummary:\n  time_zone: Asia/Almaty\n`,
  );
  return loadConfig(file);
}

/**
 * Writes `rounds` passes over the stories (each a day or so apart, the last ending near `now`),
 * with the background of items that matched nothing, the subscribers' alerts, one alert still
 * queued after a 429, one given up on, and a feed failing for the last three hours.
 */
export async function seedStore(store: Store, options: { now: number; rounds?: number; subscribers?: number; extraFeeds?: number }): Promise<void> {
  const { now } = options;
  const rounds = options.rounds ?? 1;
  const subscribers = Array.from({ length: options.subscribers ?? 3 }, (_, i) => String(5_550_000 + i));
  const total = STORIES.length * rounds;
  // Stories spread over the week, the newest an hour ago.
  const startOf = (n: number): number => now - HOUR - Math.round(((total - 1 - n) * (6.5 * 24 * HOUR)) / Math.max(1, total - 1));
  for (const [feed] of SEED_FEEDS.entries()) {
    const url = SEED_FEEDS[feed]?.url ?? '';
    // A first poll a week ago, and a day's background of entries that matched nothing.
    await store.commitFeedBatch(batch(url, now - 7 * 24 * HOUR, { feedTitle: SEED_FEEDS[feed]?.name ?? null }));
    const background = Array.from({ length: 40 * rounds }, (_, i) => item(`bg-${feed}-${i}`, 'Погода в Астане', null, now - ((i * 37 + feed * 11) % (7 * 24)) * HOUR, 'no-match', null, []));
    await store.commitFeedBatch(batch(url, now - 7 * 24 * HOUR + HOUR, { items: background }));
  }
  for (let extra = 0; extra < (options.extraFeeds ?? 0); extra++) {
    await store.commitFeedBatch(batch(extraFeedUrl(extra), now - 2 * HOUR, { feedTitle: `Section ${extra}`, items: [item(`x-${extra}`, 'Погода', null, now - 2 * HOUR, 'no-match', null, [])] }));
  }
  for (let n = 0; n < total; n++) {
    const tellings = STORIES[n % STORIES.length] ?? [];
    const start = startOf(n);
    const arabic = tellings.some(([, title]) => /ألما/u.test(title));
    for (const [i, [feed, title, link]] of tellings.entries()) {
      const outlet = SEED_FEEDS[feed] ?? SEED_FEEDS[0];
      const at = start + i * 17 * 60_000;
      const keyed = rounds > 1 ? `${link}#${Math.floor(n / STORIES.length)}` : link;
      const watchlists = ['kazakhstan-unrest', ...(arabic ? ['almaty-ar'] : []), ...subscribers.map((chat) => `chat:${chat}:1`)];
      if (i === 0) {
        const story: StoryRef = { newIndex: 0 };
        const outbox = [alert(story, '@kz_alerts', title), ...(arabic ? [alert(story, '@almaty_ar', title)] : []), ...subscribers.map((chat) => alert(story, chat, title))];
        await store.commitFeedBatch(
          batch(outlet.url, at, {
            items: [item(keyed, title, keyed, at, 'alerted', story, watchlists)],
            newStories: [{ title, link: keyed, keys: [`u:${keyed}`] }],
            reports: [report(story, at, outlet.name, keyed, title, outlet.language)],
            outbox,
            breaking: tellings.length >= 4 ? [story] : [],
          }),
        );
      } else {
        const found = await store.findStory([`u:${(tellings[0]?.[2] ?? '') + (rounds > 1 ? `#${Math.floor(n / STORIES.length)}` : '')}`], 0);
        if (!found) continue;
        const story: StoryRef = { id: found.id };
        await store.commitFeedBatch(
          batch(outlet.url, at, { items: [item(keyed, title, keyed, at, 'folded', story, watchlists)], reports: [report(story, at, outlet.name, keyed, title, outlet.language)], storyKeys: [{ storyId: found.id, key: `u:${keyed}` }] }),
        );
      }
    }
    // Delivered a few seconds to a minute after the first report, as a sender pacing channels does.
    const due = await store.dueOutbox(Number.MAX_SAFE_INTEGER, 10_000);
    for (const [i, row] of due.entries()) {
      const last = n === total - 1;
      if (last && i === 1) {
        await store.markRetry(row.id, '429 Too Many Requests: retry after 40', now + 40_000, true);
        continue;
      }
      if (last && i === due.length - 1) {
        await store.markFailed(row.id, '403 Forbidden: bot was blocked by the user', start + 60_000);
        continue;
      }
      await store.markSent(row.id, 1_000 + row.id, start + 3_000 + i * 1_500);
    }
  }
  // Each feed polled a few minutes ago, its next poll as adaptive polling chose it.
  for (const [feed, { url }] of SEED_FEEDS.entries()) {
    const polled = now - (feed + 1) * 3 * 60_000;
    const interval = (feed + 2) * 4 * 60_000;
    await store.commitFeedBatch(batch(url, feed === 5 ? now - 4 * HOUR : polled, {}));
    await store.recordFeedPace(url, { intervalMs: interval, reason: encodeReason({ code: 'rate', perDay: 24 - feed * 3, bound: null }), nextPollAt: polled + interval, earliestAt: now, ttlMinutes: null });
  }
  const failing = SEED_FEEDS[5].url;
  for (let i = 3; i >= 1; i--) await store.recordFeedFailure(failing, 'HTTP 503 Service Unavailable', now - i * HOUR, now + 20 * 60_000);
  for (const chat of subscribers) await store.upsertChat(chat, 'private', now - 7 * 24 * HOUR);
}
