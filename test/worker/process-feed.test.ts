import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import type { Item, ParsedFeed } from '../../src/feeds/item.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import type { Config, FeedConfig } from '../../src/config/load.js';
import { StoryIndex } from '../../src/dedup/story-index.js';
import type { Store } from '../../src/store/store.js';
import { processFeed, type FeedJob } from '../../src/worker/process-feed.js';

/** One poll through the pipeline, with the store's story index as the worker keeps it. */
const decide = (feed: FeedConfig, parsed: ParsedFeed, poll: FeedJob['poll'], config: Config, store: Store, now: number) =>
  processFeed({ feed, parsed, poll, config, store, now, stories: new StoryIndex(store, { windowMs: config.dedup.windowMs }) });

const NOW = Date.parse('2026-11-25T12:00:00Z');
const HOUR = 3_600_000;
const config = parseConfig(
  `feeds:\n  - url: https://f.test/rss\nchannels:\n  - chat: "@chan_one"\n    watchlists: [kazakhstan-unrest]\nbacklog:\n  window: 24h\n  max_items: 2\n`,
  'test.yaml',
  {},
);
const feed = { url: 'https://f.test/rss' };
const poll = (firstPoll: boolean) => ({ firstPoll, etag: null, lastModified: null });

// Different stories, so that story folding keeps them apart.
const STORIES = ['Протест в Алматы', 'Взрыв в Шымкенте', 'Митинг в Жанаозене', 'Беспорядки в Актобе'];
function item(n: number, hoursAgo: number | null, title = `${STORIES[n % STORIES.length] ?? ''}: задержаны ${n} человек`): Item {
  return {
    id: `g${n}`,
    feedUrl: feed.url,
    guid: `g${n}`,
    link: `https://f.test/${n}`,
    title,
    text: '',
    published: hoursAgo === null ? null : new Date(NOW - hoursAgo * HOUR),
    author: null,
    language: 'ru',
  };
}
const parsed = (items: Item[]): ParsedFeed => ({ format: 'rss', title: 'Лента', link: null, language: 'ru', items });

describe('processFeed', () => {
  it("alerts on at most max_items of a new feed's last 24 hours and records the rest as backlog", async () => {
    const store = new SqliteStore(':memory:');
    const { batch, counts } = await decide(feed, parsed([item(1, 1), item(2, 2), item(3, 3), item(4, 30)]), poll(true), config, store, NOW);
    expect(batch.items.map((i) => [i.key, i.decision])).toEqual([
      ['g:g4', 'backlog'],
      ['g:g3', 'backlog'],
      ['g:g2', 'alerted'],
      ['g:g1', 'alerted'],
    ]);
    expect(counts.alerts).toBe(2);
    await store.close();
  });

  it('never alerts on items older than the window on later polls, and treats future dates as now', async () => {
    const store = new SqliteStore(':memory:');
    const { batch } = await decide(feed, parsed([item(1, 48), item(2, -5), item(3, null)]), poll(false), config, store, NOW);
    const decisions = Object.fromEntries(batch.items.map((i) => [i.key, i.decision]));
    expect(decisions).toEqual({ 'g:g1': 'stale', 'g:g2': 'alerted', 'g:g3': 'alerted' });
    expect(batch.items.find((i) => i.key === 'g:g2')?.publishedAt).toBe(NOW);
    await store.close();
  });

  it('folds a second report of the same story in one feed', async () => {
    const store = new SqliteStore(':memory:');
    const same = 'CSTO troops take control of Almaty airport';
    const { batch, counts } = await decide(feed, parsed([item(1, 2, same), item(2, 1, same)]), poll(false), config, store, NOW);
    expect(batch.items.map((i) => i.decision)).toEqual(['alerted', 'folded']);
    expect(counts).toMatchObject({ alerts: 1, folded: 1 });
    await store.close();
  });

  it('records items that match no watchlist, with no alert', async () => {
    const store = new SqliteStore(':memory:');
    const { batch } = await decide(feed, parsed([item(1, 1, 'Almaty apples return to markets')]), poll(false), config, store, NOW);
    expect(batch.items.map((i) => i.decision)).toEqual(['no-match']);
    expect(batch.outbox).toEqual([]);
    await store.close();
  });
});

describe('further reports of an alerted story, per channel', () => {
  const channelsConfig = (updates: string) =>
    parseConfig(
      `feeds:\n  - url: https://a.test/rss\n  - url: https://b.test/rss\nchannels:\n  - chat: "@chan"\n    watchlists: [kazakhstan-unrest]\n    updates: ${updates}\n`,
      'test.yaml',
      {},
    );
  const report = (feedUrl: string, n: number, text: string): Item => ({
    ...item(n, 1, 'Protesters storm Almaty city hall as Kazakh unrest spreads'),
    feedUrl,
    link: `${feedUrl}/${n}`,
    language: 'en',
    text,
  });

  /** The first outlet's alert, delivered; then a second outlet's report of the story. */
  async function secondReport(updates: string, text: string) {
    const cfg = channelsConfig(updates);
    const store = new SqliteStore(':memory:');
    const first = await decide({ url: 'https://a.test/rss', name: 'A' }, parsed([report('https://a.test', 1, 'Protesters stormed the city hall in Almaty and set it on fire.')]), poll(false), cfg, store, NOW);
    await store.commitFeedBatch(first.batch);
    const [alert] = await store.dueOutbox(NOW, 10);
    await store.markSent(alert?.id ?? 0, 42, NOW);
    const second = await decide({ url: 'https://b.test/rss', name: 'B' }, parsed([report('https://b.test', 2, text)]), poll(false), cfg, store, NOW + 60_000);
    await store.close();
    return second.batch;
  }

  it('reply: a short reply under the alert when the report adds numbers', async () => {
    const batch = await secondReport('reply', 'Protesters stormed the city hall in Almaty and set it on fire; 8 police were killed.');
    expect(batch.items[0]?.decision).toBe('folded');
    expect(batch.outbox).toMatchObject([{ kind: 'reply', chat: '@chan' }]);
    expect(batch.outbox[0]?.html).toContain('B: <a href="https://b.test/2">');
  });

  it('reply: nothing when the report adds nothing', async () => {
    const batch = await secondReport('reply', 'Protesters stormed the city hall in Almaty and set it on fire.');
    expect(batch.items[0]?.decision).toBe('folded');
    expect(batch.outbox).toEqual([]);
  });

  it('silent: the story folds and the channel hears nothing more', async () => {
    const batch = await secondReport('silent', 'Protesters stormed the city hall in Almaty and set it on fire; 8 police were killed.');
    expect(batch.items[0]?.decision).toBe('folded');
    expect(batch.outbox).toEqual([]);
    expect(batch.outboxRewrites).toEqual([]);
  });

  it('edit: one edit of the alert listing the other outlet', async () => {
    const batch = await secondReport('edit', 'Protesters stormed the city hall in Almaty and set it on fire.');
    expect(batch.outbox).toMatchObject([{ kind: 'edit', chat: '@chan' }]);
    expect(batch.outbox[0]?.html).toContain('Also reported by: <a href="https://b.test/2">B</a>');
  });
});

describe('«also reported by» when different outlets alerted different channels', () => {
  it("each alert names the outlets other than its own, so a channel alerted by a later report still hears of the first", async () => {
    const cfg = parseConfig(
      `feeds:\n  - url: https://a.test/rss\nwatchlists:\n  protests: 'almaty AND protest*'\n  curfew: 'almaty AND curfew'\nchannels:\n  - chat: "@a_desk"\n    watchlists: [protests]\n  - chat: "@b_desk"\n    watchlists: [curfew]\n`,
      'test.yaml',
      {},
    );
    const store = new SqliteStore(':memory:');
    const outlet = (name: string, n: number, title: string, text: string): [FeedConfig, ParsedFeed] => [
      { url: `https://${name.toLowerCase()}.test/rss`, name },
      parsed([{ ...item(n, 1, title), feedUrl: `https://${name.toLowerCase()}.test/rss`, link: `https://${name.toLowerCase()}.test/${n}`, language: 'en', text }]),
    ];
    const lead = 'Police in Almaty detained dozens of protesters at a rally on Sunday, witnesses said.';
    // A alerts the protest desk; B's report of the story also names the curfew and alerts the curfew desk.
    for (const [n, [feedConfig, items]] of [
      outlet('A', 1, 'Almaty police detain dozens of protesters at rally', lead),
      outlet('B', 2, 'Almaty police detain dozens of protesters at rally as curfew declared', `${lead} A curfew was declared.`),
    ].entries()) {
      const { batch } = await decide(feedConfig, items, poll(false), cfg, store, NOW + n * 60_000);
      await store.commitFeedBatch(batch);
    }
    const alerts = await store.dueOutbox(NOW + 3 * 60_000, 10);
    expect(alerts.map((a) => a.chat)).toEqual(['@a_desk', '@b_desk']);
    // C reports it too: both pending alerts are rewritten, each naming the two outlets it does not show.
    const [cFeed, cItems] = outlet('C', 3, 'Almaty police detain dozens of protesters at rally', `${lead} (AP)`);
    const { batch } = await decide(cFeed, cItems, poll(false), cfg, store, NOW + 3 * 60_000);
    const rewritten = (chat: string) => batch.outboxRewrites.find((r) => r.id === alerts.find((a) => a.chat === chat)?.id)?.text ?? '';
    expect(rewritten('@a_desk')).toMatch(/Also reported by: B \(en\) \(https:\/\/b\.test\/2\), C \(en\)/u);
    expect(rewritten('@b_desk')).toMatch(/Also reported by: A \(en\) \(https:\/\/a\.test\/1\), C \(en\)/u);
    await store.close();
  });
});
