// Story folding measured on the held-out set (test/fixtures/dedup/held-out.yaml): written after
// the rules and config/events.yaml were tuned on clusters.yaml, and never tuned on. Its figures
// are the honest ones; the floors below are the first measurement, a regression guard.

import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_STORY_RULES } from '../../src/dedup/story.js';
import { alertCount, assignStories, labelled, loadClusters, pairwise } from './folding.js';

const set = loadClusters('held-out.yaml');
const reports = labelled(set);
const results: string[] = [];
afterAll(() => console.log(results.join('\n')));

describe('story folding on the held-out set', () => {
  const assigned = assignStories(reports, DEFAULT_STORY_RULES);

  it('holds the set to its shape: 40+ stories, 120+ reports, 25+ in several languages, 10+ near misses', () => {
    expect(set.stories.length).toBeGreaterThanOrEqual(40);
    expect(set.stories.reduce((n, s) => n + s.reports.length, 0)).toBeGreaterThanOrEqual(120);
    expect(set.stories.filter((s) => new Set(s.reports.map((r) => r.lang)).size > 1).length).toBeGreaterThanOrEqual(25);
    expect(set.stories.filter((s) => s.near).length).toBeGreaterThanOrEqual(10);
  });

  it('pairwise decisions within and across languages, and the alerts a channel would get', () => {
    const within = pairwise(reports, assigned, false);
    const cross = pairwise(reports, assigned, true);
    const counts = alertCount(reports, assigned);
    const wordsOnly = alertCount(reports, assignStories(reports, { ...DEFAULT_STORY_RULES, crossLanguage: false, rewriteThreshold: 2 }));
    results.push(
      `held-out within a language: precision ${within.precision.toFixed(3)}, recall ${within.recall.toFixed(3)} over ${within.pairs} pairs`,
      `held-out across languages: precision ${cross.precision.toFixed(3)}, recall ${cross.recall.toFixed(3)} over ${cross.pairs} pairs`,
      `held-out alerts: ${counts.alerts} for ${counts.stories} stories (${counts.duplicates} second alerts); words only: ${wordsOnly.alerts} (${wordsOnly.duplicates})`,
    );
    expect(within.precision).toBeGreaterThanOrEqual(0.9);
    expect(within.recall).toBeGreaterThanOrEqual(0.28);
    expect(cross.precision).toBeGreaterThanOrEqual(0.95);
    expect(cross.recall).toBeGreaterThanOrEqual(0.55);
    expect(counts.duplicates).toBeLessThan(wordsOnly.duplicates);
  });
});
