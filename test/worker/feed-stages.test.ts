// The stages of one feed's processing (src/worker/feed/), one at a time: fresh, match and route,
// story (with and without an embeddings endpoint) and render, each on a context built the way
// processFeed builds it, against an in-memory store.

import { describe, expect, it } from 'vitest';
import { parseConfig, type Config, type FeedConfig } from '../../src/config/load.js';
import type { Embedder } from '../../src/dedup/embeddings.js';
import { itemKey, storyKeys } from '../../src/dedup/identity.js';
import { StoryIndex } from '../../src/dedup/story-index.js';
import type { Item, ParsedFeed } from '../../src/feeds/item.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import type { KnownReport, Store } from '../../src/store/store.js';
import type { FeedContext } from '../../src/worker/feed/context.js';
import { contentHash, freshItems } from '../../src/worker/feed/fresh.js';
import { otherOutlets, renderAlerts, updateStoryAlerts } from '../../src/worker/feed/render.js';
import { destinationsFor, matchAndRoute } from '../../src/worker/feed/route.js';
import type { BatchStory } from '../../src/worker/feed/story-book.js';
import { assignStory, isBurst } from '../../src/worker/feed/story.js';
import { feedContext, processFeed } from '../../src/worker/process-feed.js';

const NOW = Date.parse('2026-11-25T12:00:00Z');
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

const REUTERS: FeedConfig = { url: 'https://reuters.test/rss', name: 'Reuters', language: 'en' };
const TASS: FeedConfig = { url: 'https://tass.test/rss', name: 'ТАСС', language: 'ru' };

const configOf = (yaml: string): Config => parseConfig(yaml, 'test.yaml', {});
const FEEDS = `feeds:\n  - url: ${REUTERS.url}\n  - url: ${TASS.url}\n`;
const UNREST = configOf(`${FEEDS}channels:\n  - chat: "@kz_alerts"\n    watchlists: [kazakhstan-unrest]\nbacklog:\n  window: 24h\n  max_items: 2\n`);
// Two desks, each on its own watchlist; nobody takes «explosions».
const DESKS = configOf(`${FEEDS}watchlists:
  protests: 'almaty AND protest*'
  curfew: 'almaty AND curfew'
  explosions: 'shymkent AND explosion*'
channels:
  - chat: "@protest_desk"
    watchlists: [protests]
  - chat: "@curfew_desk"
    watchlists: [curfew]
`);

let serial = 0;
function item(feed: FeedConfig, fields: Partial<Item> & Pick<Item, 'title'>): Item {
  const n = ++serial;
  return {
    id: `i${n}`,
    feedUrl: feed.url,
    guid: `i${n}`,
    link: `${feed.url.replace('/rss', '')}/${n}`,
    text: '',
    published: new Date(NOW - 10 * MINUTE),
    author: null,
    language: feed.language ?? null,
    ...fields,
  };
}
const parsed = (items: Item[]): ParsedFeed => ({ format: 'rss', title: null, link: null, language: null, items });

interface Setup {
  config: Config;
  store: Store;
  stories: StoryIndex;
}
function setup(config: Config): Setup {
  const store = new SqliteStore(':memory:');
  return { config, store, stories: new StoryIndex(store, { windowMs: config.dedup.windowMs }) };
}

/** A feed's context, as processFeed builds it. */
function contextFor(
  { config, store, stories }: Setup,
  feed: FeedConfig,
  items: Item[],
  options: { now?: number; firstPoll?: boolean; embedder?: Embedder | null } = {},
): FeedContext {
  return feedContext({
    feed,
    parsed: parsed(items),
    poll: { firstPoll: options.firstPoll ?? false, etag: null, lastModified: null },
    config,
    store,
    stories,
    now: options.now ?? NOW,
    embedder: options.embedder ?? null,
  });
}

/** One poll of a feed through the whole pipeline, committed as the worker commits it. */
async function commitPoll(s: Setup, feed: FeedConfig, items: Item[], now = NOW): Promise<void> {
  const { batch } = await processFeed({ feed, parsed: parsed(items), poll: { firstPoll: false, etag: null, lastModified: null }, config: s.config, store: s.store, stories: s.stories, now });
  await s.store.commitFeedBatch(batch);
}

/** The stored story an item started (by its story keys). */
async function storedStoryId(store: Store, of: Item): Promise<number> {
  const story = await store.findStory(storyKeys(of), 0);
  if (!story) throw new Error(`no story for "${of.title}"`);
  return story.id;
}

/** The poll's one fresh item, with its story assigned. */
async function assignOnly(ctx: FeedContext) {
  await ctx.stories.refresh(ctx.now);
  const [entry] = await freshItems(ctx);
  if (!entry) throw new Error('no fresh item');
  return { entry, step: await assignStory(ctx, entry) };
}

const GOVERNMENT_EN = {
  title: 'Kazakh government resigns after fuel price protests',
  text: "President Tokayev accepted the government's resignation on Wednesday after protests over a fuel price increase.",
};
const GOVERNMENT_RU = {
  title: 'Токаев принял отставку правительства Казахстана',
  text: 'Президент Казахстана Касым-Жомарт Токаев принял отставку правительства на фоне протестов из-за цен на топливо.',
};
const ALMATY_TENSE = {
  title: 'Almaty tense after night of unrest',
  text: 'Thousands of protesters marched through central Almaty on Thursday. Police detained dozens near the main square. Authorities extended the curfew in Almaty until 19 January.',
};

describe('fresh', () => {
  it('a feed listing one item twice alerts once', async () => {
    const s = setup(UNREST);
    const once = item(REUTERS, { title: 'Protesters storm Almaty city hall', text: 'Protesters stormed the city hall in Almaty.' });
    const ctx = contextFor(s, REUTERS, [once, { ...once }]);
    const fresh = await freshItems(ctx);
    expect(fresh).toHaveLength(1);
    expect(ctx.batch.items.map((r) => r.key)).toEqual([itemKey(once)]);
    expect(ctx.counts.new).toBe(1);
    await s.store.close();
  });

  it('an item seen before whose text changed is an update in place, not a new alert', async () => {
    const s = setup(UNREST);
    const first = item(REUTERS, { title: 'Protesters storm Almaty city hall', text: 'Protesters stormed the city hall in Almaty.' });
    await commitPoll(s, REUTERS, [first]);
    const key = itemKey(first);
    expect((await s.store.itemHashes(REUTERS.url, [key])).get(key)).toBe(contentHash(first));

    const changed = { ...first, text: 'Protesters stormed the city hall in Almaty and set it on fire.' };
    const ctx = contextFor(s, REUTERS, [changed], { now: NOW + 5 * MINUTE });
    expect(await freshItems(ctx)).toEqual([]);
    expect(ctx.batch.items).toEqual([]);
    expect(ctx.counts).toMatchObject({ new: 0, updated: 1 });
    expect((await s.store.itemHashes(REUTERS.url, [key])).get(key)).toBe(contentHash(changed));

    // The same text again is nothing at all.
    const again = contextFor(s, REUTERS, [changed], { now: NOW + 10 * MINUTE });
    expect(await freshItems(again)).toEqual([]);
    expect(again.counts.updated).toBe(0);
    await s.store.close();
  });

  it("a new feed's first poll alerts on only the newest max_items and records the rest as backlog", async () => {
    const s = setup(UNREST); // backlog.max_items: 2
    const at = (hoursAgo: number) => new Date(NOW - hoursAgo * HOUR);
    const items = [
      item(REUTERS, { title: 'Three hours ago', published: at(3) }),
      item(REUTERS, { title: 'One hour ago', published: at(1) }),
      item(REUTERS, { title: 'Four hours ago', published: at(4) }),
      item(REUTERS, { title: 'Two hours ago', published: at(2) }),
    ];
    const ctx = contextFor(s, REUTERS, items, { firstPoll: true });
    const fresh = await freshItems(ctx);
    expect(fresh.map((e) => e.item.title)).toEqual(['Two hours ago', 'One hour ago']);
    expect(ctx.batch.items.map((r) => [r.title, r.decision])).toEqual([
      ['Four hours ago', 'backlog'],
      ['Three hours ago', 'backlog'],
      ['Two hours ago', 'no-match'],
      ['One hour ago', 'no-match'],
    ]);
    expect(ctx.counts.new).toBe(4);
    await s.store.close();
  });

  it('a feed listing its newest item first is decided oldest first, so the first report is the one that alerts', async () => {
    const s = setup(UNREST);
    const newest = item(REUTERS, { title: 'Later', published: new Date(NOW - 5 * MINUTE) });
    const undated = item(REUTERS, { title: 'Undated', published: null });
    const oldest = item(REUTERS, { title: 'Earlier', published: new Date(NOW - 50 * MINUTE) });
    const ctx = contextFor(s, REUTERS, [undated, newest, oldest]);
    const fresh = await freshItems(ctx);
    expect(fresh.map((e) => e.item.title)).toEqual(['Earlier', 'Later', 'Undated']);
    expect(ctx.batch.items.map((r) => r.title)).toEqual(['Earlier', 'Later', 'Undated']);
    await s.store.close();
  });
});

describe('match and route', () => {
  it('two channels on different watchlists each get only their own watchlist and its words', () => {
    const matches = DESKS.matcher.match(ALMATY_TENSE.title, ALMATY_TENSE.text);
    const destinations = destinationsFor(DESKS.channels, matches);
    expect(destinations.map((d) => [d.channel.chat, d.watchlists])).toEqual([
      ['@protest_desk', ['protests']],
      ['@curfew_desk', ['curfew']],
    ]);
    const [protest, curfew] = destinations;
    expect([...(protest?.forms ?? [])]).toContain('protesters');
    expect([...(protest?.forms ?? [])]).not.toContain('curfew');
    expect([...(curfew?.forms ?? [])]).toContain('curfew');
    expect([...(curfew?.forms ?? [])]).not.toContain('protesters');
  });

  it('a channel on both watchlists gets both, with the words of both', () => {
    const both = configOf(`${FEEDS}watchlists:\n  protests: 'almaty AND protest*'\n  curfew: 'almaty AND curfew'\nchannels:\n  - chat: "@all_desk"\n    watchlists: [curfew, protests]\n`);
    const [only, ...rest] = destinationsFor(both.channels, both.matcher.match(ALMATY_TENSE.title, ALMATY_TENSE.text));
    expect(rest).toEqual([]);
    expect(only?.watchlists).toEqual(['curfew', 'protests']);
    expect([...(only?.forms ?? [])]).toEqual(expect.arrayContaining(['curfew', 'protesters']));
  });

  it('an item that matches a watchlist no channel takes is recorded as unrouted', async () => {
    const s = setup(DESKS);
    const blast = item(REUTERS, { title: 'Explosions heard in Shymkent', text: 'Several explosions were heard at an ammunition depot near Shymkent.' });
    const ctx = contextFor(s, REUTERS, [blast]);
    const [entry] = await freshItems(ctx);
    if (!entry) throw new Error('no fresh item');
    expect(matchAndRoute(ctx, entry)).toEqual([]);
    expect(entry.record.decision).toBe('unrouted');
    expect(entry.record.watchlists).toContain('explosions');
    expect(ctx.counts.matched).toBe(1);

    // Through the whole pipeline: recorded, and nobody hears of it.
    const { batch } = await processFeed({ feed: REUTERS, parsed: parsed([{ ...blast, guid: 'again', id: 'again' }]), poll: { firstPoll: false, etag: null, lastModified: null }, config: DESKS, store: s.store, stories: s.stories, now: NOW });
    expect(batch.items.map((r) => r.decision)).toEqual(['unrouted']);
    expect(batch.outbox).toEqual([]);
    await s.store.close();
  });
});

describe('story', () => {
  it('two reports in one feed of one link, one with tracking parameters, are one story', async () => {
    const s = setup(UNREST);
    const plain = item(REUTERS, { title: 'Protesters storm Almaty city hall', text: 'Protesters stormed the city hall in Almaty.', link: 'https://reuters.test/world/almaty-city-hall' });
    const tracked = item(REUTERS, { title: 'UPDATE 1-Crowds inside Almaty administration building', text: 'Crowds were inside the building.', link: 'https://reuters.test/world/almaty-city-hall/?utm_source=telegram&utm_medium=social#top' });
    const ctx = contextFor(s, REUTERS, [plain, tracked]);
    const [a, b] = await freshItems(ctx);
    if (!a || !b) throw new Error('two fresh items expected');
    const first = await assignStory(ctx, a);
    const second = await assignStory(ctx, b);
    expect(second.story).toBe(first.story);
    expect(ctx.batch.newStories).toHaveLength(1);
    expect(b.record.story).toEqual({ newIndex: 0 });
    await s.store.close();
  });

  it('a near-duplicate rewrite of a report in the same batch joins its story', async () => {
    const s = setup(UNREST);
    const wire = item(REUTERS, { title: 'Protesters storm Almaty city hall as Kazakh unrest spreads', text: 'Protesters stormed the city hall in Almaty and set it on fire, witnesses said.' });
    const rewrite = item(REUTERS, { title: 'Protesters stormed Almaty city hall and set it on fire as unrest spreads', text: 'Witnesses said protesters stormed the city hall in Almaty and set it on fire.' });
    const ctx = contextFor(s, REUTERS, [wire, rewrite]);
    const [a, b] = await freshItems(ctx);
    if (!a || !b) throw new Error('two fresh items expected');
    const first = await assignStory(ctx, a);
    const second = await assignStory(ctx, b);
    expect(second.story).toBe(first.story);
    expect(ctx.batch.newStories).toHaveLength(1);
    await s.store.close();
  });

  it('a Russian report of a story committed earlier in English joins it', async () => {
    const s = setup(UNREST);
    const english = item(REUTERS, GOVERNMENT_EN);
    await commitPoll(s, REUTERS, [english], NOW - 30 * MINUTE);
    const id = await storedStoryId(s.store, english);

    const ctx = contextFor(s, TASS, [item(TASS, GOVERNMENT_RU)]);
    const { entry, step } = await assignOnly(ctx);
    expect(entry.record.story).toEqual({ id });
    expect(step.story.ref).toEqual({ id });
    expect(step.newOutlet).toBe(true);
    expect(ctx.batch.newStories).toEqual([]);
    await s.store.close();
  });

  it('a different incident in the same city is a new story: a curfew in Almaty is not the fire at its city hall', async () => {
    const s = setup(UNREST);
    const fire = item(REUTERS, { title: 'Almaty city hall set on fire', text: 'Protesters set fire to the city hall in Almaty.' });
    await commitPoll(s, REUTERS, [fire], NOW - 30 * MINUTE);
    const id = await storedStoryId(s.store, fire);

    const ctx = contextFor(s, TASS, [item(TASS, { title: 'В Алматы введён комендантский час', text: 'В Алматы ввели комендантский час до 19 января.' })]);
    const { entry, step } = await assignOnly(ctx);
    expect(entry.record.story).toEqual({ newIndex: 0 });
    expect(step.story.ref).not.toEqual({ id });
    expect(ctx.batch.newStories).toHaveLength(1);

    // While a Russian report of the fire itself joins the fire's story.
    const same = contextFor(s, TASS, [item(TASS, { title: 'В Алматы горит здание акимата', text: 'Протестующие подожгли здание акимата в Алматы.' })]);
    expect((await assignOnly(same)).entry.record.story).toEqual({ id });
    await s.store.close();
  });

  it('a story is breaking when enough outlets report it within the burst window', () => {
    const burst = UNREST.dedup.burst; // 4 reports from 3 outlets within 60 minutes
    const report = (source: string, minutesAgo: number): KnownReport => ({ at: NOW - minutesAgo * MINUTE, source, link: null, language: null, entities: [], numbers: [] });
    expect(isBurst([report('A', 50), report('B', 30), report('C', 20), report('A', 1)], NOW, burst)).toBe(true);
    // Four reports, two outlets: one outlet's repeats are not a burst.
    expect(isBurst([report('A', 50), report('B', 30), report('A', 20), report('B', 1)], NOW, burst)).toBe(false);
    // Three outlets, but one report fell out of the window.
    expect(isBurst([report('A', 90), report('B', 30), report('C', 20), report('A', 1)], NOW, burst)).toBe(false);
  });
});

describe('story, with an embeddings endpoint', () => {
  /** An endpoint whose vectors say the report and the stored story are unrelated (orthogonal), or that is down (null). */
  function embedder(answer: 'dissimilar' | 'down') {
    const calls: string[][] = [];
    const stub: Embedder = {
      embed: (texts) => {
        calls.push(texts);
        if (answer === 'down') return Promise.resolve(null);
        return Promise.resolve(texts.map((_, i) => Float32Array.from([i === 0 ? 1 : 0, i === 0 ? 0 : 1])));
      },
    };
    return { stub, calls };
  }

  async function russianAfterEnglish(embed: Embedder) {
    const s = setup(UNREST);
    const english = item(REUTERS, GOVERNMENT_EN);
    await commitPoll(s, REUTERS, [english], NOW - 30 * MINUTE);
    const id = await storedStoryId(s.store, english);
    const ctx = contextFor(s, TASS, [item(TASS, GOVERNMENT_RU)], { embedder: embed });
    const { entry } = await assignOnly(ctx);
    await s.store.close();
    return { id, entry, ctx };
  }

  it('vectors that call the pair unrelated veto the fold across languages: a new story', async () => {
    const { stub, calls } = embedder('dissimilar');
    const { id, entry, ctx } = await russianAfterEnglish(stub);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.[0]).toContain(GOVERNMENT_RU.title);
    expect(calls[0]?.[1]).toBe(GOVERNMENT_EN.title);
    expect(entry.record.story).toEqual({ newIndex: 0 });
    expect(entry.record.story).not.toEqual({ id });
    expect(ctx.batch.newStories.map((n) => n.title)).toEqual([GOVERNMENT_RU.title]);
  });

  it('an endpoint that is down leaves the offline fold standing', async () => {
    const { stub, calls } = embedder('down');
    const { id, entry, ctx } = await russianAfterEnglish(stub);
    expect(calls).toHaveLength(1);
    expect(entry.record.story).toEqual({ id });
    expect(ctx.batch.newStories).toEqual([]);
  });
});

describe('render', () => {
  it("each destination's alert bolds only the words its own watchlists matched", async () => {
    const s = setup(DESKS);
    const ctx = contextFor(s, REUTERS, [item(REUTERS, ALMATY_TENSE)]);
    const [entry] = await freshItems(ctx);
    if (!entry) throw new Error('no fresh item');
    const destinations = matchAndRoute(ctx, entry);
    const { story } = await assignStory(ctx, entry);
    await renderAlerts(ctx, entry, story, destinations);

    expect(ctx.batch.outbox.map((m) => m.chat)).toEqual(['@protest_desk', '@curfew_desk']);
    const [protest, curfew] = ctx.batch.outbox.map((m) => m.html);
    expect(protest).not.toBe(curfew);
    expect(protest).toContain('<b>protesters</b>');
    expect(protest).not.toContain('<b>curfew</b>');
    expect(curfew).toContain('<b>curfew</b>');
    expect(curfew).not.toContain('<b>protesters</b>');
    expect(ctx.counts.alerts).toBe(2);
    expect(story.destinations.size).toBe(2);
    await s.store.close();
  });

  it('«also reported by» lists each other outlet once, with its language, and not the one that alerted', () => {
    const report = (source: string, language: string | null): KnownReport => ({ at: NOW, source, link: `https://${source.toLowerCase()}.test/1`, language, entities: [], numbers: [] });
    const story: BatchStory = {
      ref: { id: 1 },
      title: 'Kazakh government resigns',
      destinations: new Set(),
      alerts: [],
      newAlerts: new Map(),
      reports: [report('Reuters', 'en'), report('TASS', 'ru'), report('Reuters', 'en'), report('Azattyq', 'kk'), report('TASS', 'ru')],
      breaking: false,
    };
    expect(otherOutlets(story)).toEqual([
      { source: 'TASS', link: 'https://tass.test/1', language: 'ru' },
      { source: 'Azattyq', link: 'https://azattyq.test/1', language: 'kk' },
    ]);
  });

  it('a report from another outlet rewrites the alert still waiting to be sent, naming the outlet and its language', async () => {
    const s = setup(UNREST);
    const english = item(REUTERS, GOVERNMENT_EN);
    await commitPoll(s, REUTERS, [english], NOW - 30 * MINUTE);
    const stored = await s.store.getStory(await storedStoryId(s.store, english));
    const [pending] = stored?.alerts ?? [];
    expect(pending?.status).toBe('pending');

    const russian = item(TASS, { ...GOVERNMENT_RU, link: 'https://tass.test/13360001' });
    const ctx = contextFor(s, TASS, [russian]);
    const { entry, step } = await assignOnly(ctx);
    updateStoryAlerts(ctx, step, entry);
    expect(ctx.batch.outbox).toEqual([]);
    expect(ctx.batch.outboxRewrites).toHaveLength(1);
    const [rewrite] = ctx.batch.outboxRewrites;
    expect(rewrite?.id).toBe(pending?.outboxId);
    expect(rewrite?.html.startsWith(pending?.baseHtml ?? '\u0000')).toBe(true);
    expect(rewrite?.html).toContain('Also reported by: <a href="https://tass.test/13360001">ТАСС</a> (ru)');
    expect(rewrite?.text).toContain('Also reported by: ТАСС (ru)');
    await s.store.close();
  });
});

describe('languages per destination', () => {
  const BY_LANGUAGE = configOf(`${FEEDS}channels:
  - chat: "@ru_desk"
    watchlists: [kazakhstan-unrest]
    languages: [ru]
  - chat: "@en_desk"
    watchlists: [kazakhstan-unrest]
    languages: [en]
  - chat: "@all_desk"
    watchlists: [kazakhstan-unrest]
`);

  it('an item alerts only the destinations that take its language', async () => {
    const s = setup(BY_LANGUAGE);
    const { batch } = await processFeed({ feed: TASS, parsed: parsed([item(TASS, GOVERNMENT_RU)]), poll: { firstPoll: false, etag: null, lastModified: null }, config: s.config, store: s.store, stories: s.stories, now: NOW });
    expect(batch.outbox.map((m) => m.chat).sort()).toEqual(['@all_desk', '@ru_desk']);
    await s.store.close();
  });

  it('a pending alert is redone from a report in the language the destination prefers, naming the first outlet under it', async () => {
    const s = setup(configOf(`${FEEDS}channels:\n  - chat: "@ru_first"\n    watchlists: [kazakhstan-unrest]\n    languages: [ru, en]\n`));
    const english = item(REUTERS, GOVERNMENT_EN);
    await commitPoll(s, REUTERS, [english], NOW - 30 * MINUTE);
    const [pending] = (await s.store.getStory(await storedStoryId(s.store, english)))?.alerts ?? [];
    expect(pending).toMatchObject({ status: 'pending', language: 'en', source: 'Reuters' });

    await commitPoll(s, TASS, [item(TASS, { ...GOVERNMENT_RU, link: 'https://tass.test/1' })]);
    const [redone] = (await s.store.getStory(await storedStoryId(s.store, english)))?.alerts ?? [];
    expect(redone).toMatchObject({ outboxId: pending?.outboxId, status: 'pending', language: 'ru', source: 'ТАСС' });
    expect(redone?.baseHtml).toContain('Токаев');
    const [row] = await s.store.dueOutbox(NOW + HOUR, 10);
    expect(row?.html).toContain('Токаев');
    expect(row?.html).toMatch(/Reuters/u);
    await s.store.close();
  });

  it('an alert already in the preferred language stays as it is', async () => {
    const s = setup(configOf(`${FEEDS}channels:\n  - chat: "@en_first"\n    watchlists: [kazakhstan-unrest]\n    languages: [en, ru]\n`));
    const english = item(REUTERS, GOVERNMENT_EN);
    await commitPoll(s, REUTERS, [english], NOW - 30 * MINUTE);
    await commitPoll(s, TASS, [item(TASS, { ...GOVERNMENT_RU, link: 'https://tass.test/2' })]);
    const [alert] = (await s.store.getStory(await storedStoryId(s.store, english)))?.alerts ?? [];
    expect(alert).toMatchObject({ language: 'en', source: 'Reuters' });
    await s.store.close();
  });
});
