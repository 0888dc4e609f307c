import { describe, expect, it } from 'vitest';
import { minHash, termHashes } from '../../src/dedup/fingerprint.js';
import { ReportIndex, type IndexedReport } from '../../src/dedup/report-index.js';

let state = 11;
const random = () => (state = (state * 48271) % 2147483647);

function report(storyId: number, at: number, terms: string[]): IndexedReport {
  return { storyId, at, language: 'en', ...minHash(terms), termHashes: termHashes(terms), entities: [], numbers: [], features: [] };
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
    index.add({ ...report(1, 10, ['a', 'b']), numbers: ['164'], features: ['n:164'] });
    index.add({ ...report(2, 20, ['c', 'd']), numbers: ['164', '103'], features: ['^n:164', 'n:103'] });
    expect(index.withFeatures(['n:164'], 0).map((r) => r.storyId)).toEqual([2, 1]);
    expect(index.withFeatures(['n:164'], 15).map((r) => r.storyId)).toEqual([2]);
  });

  it('finds reports by the features they share, newest first per feature, each once', () => {
    const index = new ReportIndex();
    index.add({ ...report(1, 10, ['a']), features: ['@almaty', 'n:164'] });
    index.add({ ...report(2, 20, ['b']), features: ['@almaty', '#explosion'] });
    index.add({ ...report(3, 30, ['c']), features: ['#explosion', 'n:164'] });
    index.add({ ...report(4, 40, ['d']), features: ['d:01-05'] });
    const found = index.withFeatures(['n:164', '#explosion', '@almaty'], 0);
    expect(found.map((r) => r.storyId)).toEqual([3, 1, 2]);
    expect(found[0]?.features).toEqual(['#explosion', 'n:164']); // returned as given
    expect(index.withFeatures(['@almaty'], 15).map((r) => r.storyId)).toEqual([2]);
    expect(index.withFeatures(['@astana'], 0)).toEqual([]);
  });

  it('reads at most the newest few reports of a feature every report carries', () => {
    const index = new ReportIndex();
    for (let i = 0; i < 500; i++) index.add({ ...report(i, i, ['x']), features: ['@kazakhstan'] });
    const found = index.withFeatures(['@kazakhstan'], 0, 8);
    expect(found.map((r) => r.storyId)).toEqual([499, 498, 497, 496, 495, 494, 493, 492]);
    expect(index.withFeatures(['@kazakhstan'], 0)).toHaveLength(64);
  });

  it('never answers with a pruned report, by terms, number or feature', () => {
    const index = new ReportIndex(16);
    const terms = ['csto', 'troops', 'airport', 'almaty', 'control', 'seized'];
    for (let at = 0; at < 40; at++) index.add({ ...report(at, at, terms), numbers: ['164'], features: ['n:164'] });
    expect(index.slots).toBe(64);
    index.prune(30); // 30 of 64 slots dead: not yet compacted, only skipped
    const answers = [
      ...find(index, report(0, 50, terms), 0, 0),
      ...index.withFeatures(['n:164'], 0),
    ];
    expect(answers.length).toBeGreaterThan(0);
    expect(Math.min(...answers.map((r) => r.at))).toBeGreaterThanOrEqual(30);
    expect(index.size).toBe(10);
    index.prune(35); // 35 of 64: past half the room, so compacted
    expect(index.withFeatures(['n:164'], 0).map((r) => r.at)).toEqual([39, 38, 37, 36, 35]);
    expect(find(index, report(0, 50, terms), 0, 0).every((r) => r.at >= 35)).toBe(true);
    index.prune(100);
    expect(index.size).toBe(0);
    expect(find(index, report(0, 50, terms), 0, 0)).toEqual([]);
    expect(index.withFeatures(['n:164'], 0)).toEqual([]);
  });

  it('stays the same size over many rounds of adding and pruning a sliding window', () => {
    const index = new ReportIndex(16);
    const window = 300;
    let at = 0;
    let slotsAfterWarmUp = 0;
    for (let round = 0; round < 200; round++) {
      for (let i = 0; i < 50; i++, at++) index.add({ ...report(at, at, words(12)), numbers: [`${at % 7}`], features: [`n:${at % 7}`, `d:${at}`] });
      index.prune(at - window);
      if (round === 20) slotsAfterWarmUp = index.slots;
      expect(index.size).toBeLessThanOrEqual(window + 50);
    }
    expect(index.slots).toBe(slotsAfterWarmUp);
    expect(index.slots).toBeLessThanOrEqual(4 * window);
    // Still finds what it holds after all those compactions.
    const terms = ['astana', 'summit', 'leaders', 'signed', 'accord', 'energy'];
    index.add({ ...report(77_777, at, terms), features: ['#summit'] });
    expect(find(index, report(0, at + 1, terms)).map((r) => r.storyId)).toEqual([77_777]);
    expect(index.withFeatures(['#summit', `d:${at - 1}`], 0).map((r) => r.storyId)).toEqual([77_777, at - 1]);
  });
});
