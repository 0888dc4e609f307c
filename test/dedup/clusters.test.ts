// The labelled story clusters (test/fixtures/dedup/clusters.yaml) run through the same decisions
// the pipeline makes, in time order: an item seen before is an update; else exact story keys
// (canonical URL, title); else a near-duplicate or, across languages, shared names and numbers.
// Pairwise precision and recall of "same story" are reported within and across languages.

import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';
import { loadEntities } from '../../src/config/load.js';
import { EntityFinder, fingerprint } from '../../src/dedup/fingerprint.js';
import { storyKeys } from '../../src/dedup/identity.js';
import { ReportIndex } from '../../src/dedup/report-index.js';
import { DEFAULT_STORY_RULES, findStory, type StoryRules } from '../../src/dedup/story.js';

const Report = z.strictObject({
  source: z.string(),
  lang: z.enum(['ar', 'ru', 'kk', 'en']),
  at: z.number(),
  title: z.string(),
  text: z.string(),
  link: z.url(),
  guid: z.string().optional(),
});
const Clusters = z.strictObject({
  stories: z.array(z.strictObject({ id: z.string(), reports: z.array(Report).min(2).max(6) })).min(15),
  updates: z.array(Report.extend({ story: z.string() })),
  unrelated: z.array(Report),
});
const clusters = Clusters.parse(parse(readFileSync(new URL('../fixtures/dedup/clusters.yaml', import.meta.url), 'utf8')));

interface Labelled extends z.infer<typeof Report> {
  story: string;
  /** epoch ms */
  time: number;
}

// Stories start seven minutes apart, so they interleave as a busy news day does.
const START = Date.UTC(2022, 0, 5, 6);
const minutes = (n: number) => n * 60_000;
const reports: Labelled[] = [
  ...clusters.stories.flatMap((s, k) => s.reports.map((r) => ({ ...r, story: s.id, time: START + minutes(k * 7 + r.at) }))),
  ...clusters.updates.map((r) => ({ ...r, time: START + minutes(clusters.stories.findIndex((s) => s.id === r.story) * 7 + r.at) })),
  ...clusters.unrelated.map((r, i) => ({ ...r, story: `unrelated-${i}`, time: START + minutes(r.at) })),
].sort((a, b) => a.time - b.time);

const finder = new EntityFinder(loadEntities());

/** Assigns every report a story, as the pipeline would. */
function assignStories(rules: StoryRules): Map<Labelled, number> {
  const index = new ReportIndex();
  const byItem = new Map<string, number>();
  const byKey = new Map<string, number>();
  const assigned = new Map<Labelled, number>();
  let stories = 0;
  for (const report of reports) {
    const itemKey = `${report.source}|${report.guid ?? report.link}`;
    const known = byItem.get(itemKey);
    if (known !== undefined) {
      assigned.set(report, known); // an update in place
      continue;
    }
    const item = { id: itemKey, feedUrl: report.source, guid: report.guid ?? null, link: report.link, title: report.title, text: report.text, published: null, author: null, language: report.lang };
    const keys = storyKeys(item);
    const print = fingerprint(report.title, report.text, finder);
    let story = keys.map((k) => byKey.get(k)).find((s) => s !== undefined);
    const since = report.time - 72 * 3600_000;
    const candidates = {
      similar: index.similar(print.signature, print.bands, print.termHashes, since, rules.threshold),
      withNumbers: print.numbers.flatMap((n) => index.withNumber(n, since)),
    };
    story ??= findStory({ fingerprint: print, language: report.lang }, candidates, report.time, rules)?.storyId;
    story ??= ++stories;
    for (const k of keys) byKey.set(k, story);
    byItem.set(itemKey, story);
    index.add({ storyId: story, at: report.time, language: report.lang, signature: print.signature, bands: print.bands, termHashes: print.termHashes, entities: print.entities, numbers: print.numbers });
    assigned.set(report, story);
  }
  return assigned;
}

interface Scores {
  precision: number;
  recall: number;
  pairs: number;
  wrong: string[];
}

function pairwise(assigned: Map<Labelled, number>, cross: boolean): Scores {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  const wrong: string[] = [];
  for (let i = 0; i < reports.length; i++) {
    for (let j = i + 1; j < reports.length; j++) {
      const a = reports[i] as Labelled;
      const b = reports[j] as Labelled;
      if ((a.lang !== b.lang) !== cross) continue;
      const truth = a.story === b.story;
      const said = assigned.get(a) === assigned.get(b);
      if (truth && said) tp++;
      else if (said) fp++;
      else if (truth) fn++;
      if (truth !== said) wrong.push(`${said ? 'joined' : 'split'}: ${a.title} | ${b.title}`);
    }
  }
  return { precision: tp / Math.max(1, tp + fp), recall: tp / Math.max(1, tp + fn), pairs: tp + fn, wrong };
}

const results: string[] = [];
afterAll(() => console.log(results.join('\n')));

describe('story folding on the labelled clusters', () => {
  const assigned = assignStories(DEFAULT_STORY_RULES);

  it('holds the set to its shape: at least 15 stories of 2–6 reports in four languages', () => {
    expect(clusters.stories.length).toBeGreaterThanOrEqual(15);
    expect(new Set(reports.map((r) => r.lang))).toEqual(new Set(['ar', 'ru', 'kk', 'en']));
  });

  it('within one language: precision ≥ 0.97, recall ≥ 0.90', () => {
    const within = pairwise(assigned, false);
    results.push(`dedup within a language: precision ${within.precision.toFixed(3)}, recall ${within.recall.toFixed(3)} over ${within.pairs} same-story pairs`);
    results.push(...within.wrong.map((w) => `  ${w}`));
    expect(within.precision).toBeGreaterThanOrEqual(0.97);
    expect(within.recall).toBeGreaterThanOrEqual(0.9);
  });

  it('across languages: folds only where precision stays ≥ 0.97', () => {
    const cross = pairwise(assigned, true);
    results.push(`dedup across languages: precision ${cross.precision.toFixed(3)}, recall ${cross.recall.toFixed(3)} over ${cross.pairs} same-story pairs`);
    results.push(...cross.wrong.filter((w) => w.startsWith('joined')).map((w) => `  ${w}`));
    expect(cross.precision).toBeGreaterThanOrEqual(0.97);
  });
});
