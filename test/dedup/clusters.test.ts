// Story folding measured on the development set (test/fixtures/dedup/clusters.yaml), the one the
// rules and config/events.yaml were tuned on. held-out.test.ts measures the same on a set written
// after the tuning. Pairwise precision and recall of "same story" are printed within and across
// languages, with the alerts a channel taking every report would get.

import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_STORY_RULES } from '../../src/dedup/story.js';
import { alertCount, assignStories, labelled, loadClusters, pairwise, setShape } from './folding.js';

const set = loadClusters('clusters.yaml');
const reports = labelled(set);
const results: string[] = [];
afterAll(() => console.log(results.join('\n')));

describe('story folding on the development set', () => {
  const assigned = assignStories(reports, DEFAULT_STORY_RULES);

  it('holds the set to its shape: 40+ stories, 120+ reports, 25+ in several languages, 10+ near misses', () => {
    const shape = setShape(set);
    expect(shape.stories).toBeGreaterThanOrEqual(40);
    expect(shape.reports).toBeGreaterThanOrEqual(120);
    expect(shape.multilingual).toBeGreaterThanOrEqual(25);
    expect(shape.nearMisses).toBeGreaterThanOrEqual(10);
    expect(new Set(reports.map((r) => r.lang))).toEqual(new Set(['ar', 'ru', 'kk', 'en']));
  });

  it('a channel taking every report gets far fewer alerts than reports, and few stories twice', () => {
    const counts = alertCount(reports, assigned);
    const wordsOnly = alertCount(reports, assignStories(reports, { ...DEFAULT_STORY_RULES, crossLanguage: false, rewriteThreshold: 2 }));
    results.push(`dev alerts: ${counts.alerts} for ${counts.stories} stories (${counts.duplicates} second alerts); words only: ${wordsOnly.alerts} (${wordsOnly.duplicates})`);
    expect(counts.duplicates).toBeLessThan(wordsOnly.duplicates / 3);
  });

  // The floors are today's figures, a regression guard; the targets (within P 0.99 R 0.95,
  // across P 0.97 R 0.80) are not met on this set's hard near misses: see the README.
  it('within one language', () => {
    const within = pairwise(reports, assigned, false);
    results.push(`dev within a language: precision ${within.precision.toFixed(3)}, recall ${within.recall.toFixed(3)} over ${within.pairs} same-story pairs`);
    expect(within.precision).toBeGreaterThanOrEqual(0.83);
    expect(within.recall).toBeGreaterThanOrEqual(0.78);
  });

  it('across languages', () => {
    const cross = pairwise(reports, assigned, true);
    results.push(`dev across languages: precision ${cross.precision.toFixed(3)}, recall ${cross.recall.toFixed(3)} over ${cross.pairs} same-story pairs`);
    expect(cross.precision).toBeGreaterThanOrEqual(0.9);
    expect(cross.recall).toBeGreaterThanOrEqual(0.8);
  });
});
