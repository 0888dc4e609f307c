import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { minHash, termHashes } from '../../src/dedup/fingerprint.js';
import { StoryIndex, type ReportSource, type StoredReport } from '../../src/dedup/story-index.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import type { FeedBatch, StoryReport } from '../../src/store/store.js';

const HOUR = 3_600_000;
const TERMS = ['almaty', 'airport', 'seized', 'protesters', 'police', 'wednesday'];

function stored(id: number, storyId: number, at: number, terms = TERMS): StoredReport {
  return { id, storyId, at, language: 'en', ...minHash(terms), termHashes: termHashes(terms), entities: [], numbers: [], features: [`d:${id}`] };
}

/** Reports held in an array, read the way the store reads them; counts what was asked. */
class ArraySource implements ReportSource {
  reports: StoredReport[] = [];
  reads: Array<{ afterId: number; since: number }> = [];
  async reportsAfter(afterId: number, since: number, limit: number): Promise<StoredReport[]> {
    this.reads.push({ afterId, since });
    return Promise.resolve(this.reports.filter((r) => r.id > afterId && r.at >= since).slice(0, limit));
  }
}

function similar(index: StoryIndex, since = 0): number[] {
  const probe = stored(0, 0, 0);
  return index.similar(probe.signature, probe.bands, probe.termHashes, since, 0.5).map((r) => r.storyId);
}

describe('StoryIndex', () => {
  it('loads only the window, then forgets what leaves it', async () => {
    const source = new ArraySource();
    source.reports = [stored(1, 1, 1 * HOUR), stored(2, 2, 10 * HOUR), stored(3, 3, 20 * HOUR)];
    const index = new StoryIndex(source, { windowMs: 12 * HOUR });
    await index.refresh(21 * HOUR); // window from 9 h: report 1 is older
    expect(index.size).toBe(2);
    expect(source.reads[0]).toEqual({ afterId: 0, since: 9 * HOUR });
    expect(index.withFeatures(['d:1', 'd:2', 'd:3'], 0).map((r) => r.storyId)).toEqual([2, 3]);
    await index.refresh(23 * HOUR); // window from 11 h: report 2 leaves
    expect(index.size).toBe(1);
    expect(similar(index)).toEqual([3]);
  });

  it('reads only what is new since the last refresh, in batches until none is left', async () => {
    const source = new ArraySource();
    source.reports = Array.from({ length: 7 }, (_, i) => stored(i + 1, i + 1, HOUR + i));
    const index = new StoryIndex(source, { windowMs: 12 * HOUR, batch: 3 });
    await index.refresh(2 * HOUR);
    expect(index.size).toBe(7);
    expect(source.reads.map((r) => r.afterId)).toEqual([0, 3, 6]);
    source.reads = [];
    source.reports.push(stored(8, 8, 2 * HOUR));
    await index.refresh(2 * HOUR);
    expect(source.reads.map((r) => r.afterId)).toEqual([7]);
    expect(index.size).toBe(8);
  });
});

describe('StoryIndex over the SQLite store', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'steppewatch-story-index-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  function batchWith(report: StoryReport, feedUrl: string, at: number): FeedBatch {
    return {
      feedUrl,
      at,
      items: [{ key: `g:${at}`, title: report.title, link: report.link, publishedAt: at, decision: 'alerted', watchlists: ['w'], story: { newIndex: 0 }, contentHash: 'h' }],
      newStories: [{ title: report.title, link: report.link, keys: [`u:${report.link ?? ''}`] }],
      storyKeys: [],
      reports: [report],
      outbox: [],
      outboxRewrites: [],
      breaking: [],
      digestItems: [],
      fetch: { etag: null, lastModified: null },
    };
  }

  function report(at: number, features: string[]): StoryReport {
    const { signature, bands } = minHash(TERMS);
    return {
      story: { newIndex: 0 },
      at,
      source: 'f.test',
      link: `https://f.test/${at}`,
      title: 'Airport seized',
      language: 'en',
      signature,
      bands,
      termHashes: termHashes(TERMS),
      entities: ['almaty'],
      numbers: ['164'],
      features,
    };
  }

  it('finds a report another process committed, once refreshed', async () => {
    const file = join(dir, 'db.sqlite');
    const writer = new SqliteStore(file);
    const reader = new SqliteStore(file);
    const source: ReportSource = reader; // a Store is a ReportSource
    const index = new StoryIndex(source, { windowMs: 72 * HOUR });
    await index.refresh(100 * HOUR);
    expect(index.size).toBe(0);

    await writer.commitFeedBatch(batchWith(report(100 * HOUR, ['@almaty', 'n:164']), 'https://f.test/rss', 100 * HOUR));
    expect(similar(index)).toEqual([]); // not until refreshed: the store is the truth
    await index.refresh(100 * HOUR + 1);
    const [found] = index.withFeatures(['n:164'], 0);
    expect(found).toMatchObject({ at: 100 * HOUR, language: 'en', entities: ['almaty'], numbers: ['164'], features: ['@almaty', 'n:164'] });
    expect(similar(index)).toEqual([found?.storyId]);
    await writer.close();
    await reader.close();
  });

  it('reads from the store only the reports of the window', async () => {
    const store = new SqliteStore(join(dir, 'db.sqlite'));
    await store.commitFeedBatch(batchWith(report(1 * HOUR, ['#old']), 'https://a.test/rss', 1 * HOUR));
    await store.commitFeedBatch(batchWith(report(50 * HOUR, ['#new']), 'https://b.test/rss', 50 * HOUR));
    expect((await store.reportsAfter(0, 0, 10)).map((r) => r.features)).toEqual([['#old'], ['#new']]);
    expect((await store.reportsAfter(0, 10 * HOUR, 10)).map((r) => r.features)).toEqual([['#new']]);
    expect((await store.reportsAfter(0, 10 * HOUR, 1)).map((r) => r.features)).toEqual([['#new']]); // read by time, not id
    expect(await store.reportsAfter(2, 0, 10)).toEqual([]);
    const index = new StoryIndex(store, { windowMs: 24 * HOUR });
    await index.refresh(60 * HOUR);
    expect(index.size).toBe(1);
    expect(index.withFeatures(['#old', '#new'], 0).map((r) => r.features)).toEqual([['#new']]);
    await store.close();
  });
});
