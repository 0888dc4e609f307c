import { describe, expect, it } from 'vitest';
import { minHash, termHashes } from '../../src/dedup/fingerprint.js';
import { ReportIndex, type IndexedReport } from '../../src/dedup/report-index.js';

let state = 11;
const random = () => (state = (state * 48271) % 2147483647);

function report(storyId: number, at: number, terms: string[]): IndexedReport {
  return { storyId, at, language: 'en', ...minHash(terms), termHashes: termHashes(terms), entities: [], numbers: [] };
}
const words = (n: number, prefix = 'w') => Array.from({ length: n }, () => `${prefix}${random() % 100_000}`);

function find(index: ReportIndex, probe: IndexedReport, since = 0, min = 0.35) {
  return index.similar(probe.signature, probe.bands, probe.termHashes, since, min);
}

describe('ReportIndex', () => {
  it('finds a rewrite of a stored report among thousands, with its exact similarity', () => {
    const index = new ReportIndex(16); // grows as it fills
    const stored = Array.from({ length: 5000 }, (_, i) => report(i, i, words(15)));
    stored.forEach((r) => index.add(r));
    const original = ['almaty', 'city', 'hall', 'fire', 'protesters', 'stormed', 'police', 'tear', 'gas', 'wednesday'];
    index.add(report(9999, 6000, original));
    const rewrite = report(0, 6001, [...original.slice(0, 8), 'crowds', 'ablaze']);
    const [best] = find(index, rewrite);
    expect(best).toMatchObject({ storyId: 9999 });
    expect(best?.similarity).toBeCloseTo(8 / 12, 5);
  });

  it('does not take one shared common word for a story', () => {
    const index = new ReportIndex();
    for (let i = 0; i < 5000; i++) index.add(report(i, i, ['kazakhstan', ...words(12)]));
    expect(find(index, report(0, 6000, ['kazakhstan', ...words(12, 'other')]), 0, 0)).toEqual([]);
  });

  it('forgets what is older than the window, and what was pruned', () => {
    const index = new ReportIndex();
    const terms = ['csto', 'troops', 'airport', 'almaty', 'control', 'seized'];
    index.add(report(1, 1000, terms));
    index.add(report(2, 5000, terms));
    expect(find(index, report(0, 6000, terms), 2000).map((r) => r.storyId)).toEqual([2]);
    index.prune(5000);
    expect(index.size).toBe(1);
    expect(find(index, report(0, 6000, terms)).map((r) => r.storyId)).toEqual([2]);
  });

  it('finds reports by a number they mention, newest first', () => {
    const index = new ReportIndex();
    index.add({ ...report(1, 10, ['a', 'b']), numbers: ['164'] });
    index.add({ ...report(2, 20, ['c', 'd']), numbers: ['164', '103'] });
    expect(index.withNumber('164', 0).map((r) => r.storyId)).toEqual([2, 1]);
    expect(index.withNumber('164', 15).map((r) => r.storyId)).toEqual([2]);
  });
});
