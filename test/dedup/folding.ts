// Runs labelled story clusters (test/fixtures/dedup/*.yaml) through the decisions the pipeline
// makes, in time order: an item seen before is an update; else exact story keys (canonical URL,
// title); else a near-duplicate or, across languages, shared names, event, numbers and dates.
// Scores pairwise precision and recall of "same story", within and across languages.

import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import { loadEntities, loadEvents } from '../../src/config/load.js';
import { FeatureFinder } from '../../src/dedup/features.js';
import { fingerprint } from '../../src/dedup/fingerprint.js';
import { storyKeys } from '../../src/dedup/identity.js';
import { ReportIndex } from '../../src/dedup/report-index.js';
import { findStory, type StoryRules } from '../../src/dedup/story.js';

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
  stories: z.array(z.strictObject({ id: z.string(), near: z.array(z.string()).optional(), reports: z.array(Report).min(1).max(6) })),
  updates: z.array(Report.extend({ story: z.string() })).default([]),
  unrelated: z.array(Report).default([]),
});
export type ClusterSet = z.infer<typeof Clusters>;

export interface Labelled extends z.infer<typeof Report> {
  story: string;
  /** epoch ms */
  time: number;
}

export function loadClusters(name: string): ClusterSet {
  return Clusters.parse(parse(readFileSync(new URL(`../fixtures/dedup/${name}`, import.meta.url), 'utf8')));
}

// Stories start seven minutes apart, so they interleave as a busy news day does.
const START = Date.UTC(2022, 0, 5, 6);
const minutes = (n: number) => n * 60_000;

/** Every report of the set with its story label, in time order. */
export function labelled(set: ClusterSet): Labelled[] {
  const startOf = (id: string) => START + minutes(set.stories.findIndex((s) => s.id === id) * 7);
  return [
    ...set.stories.flatMap((s) => s.reports.map((r) => ({ ...r, story: s.id, time: startOf(s.id) + minutes(r.at) }))),
    ...set.updates.map((r) => ({ ...r, time: startOf(r.story) + minutes(r.at) })),
    ...set.unrelated.map((r, i) => ({ ...r, story: `unrelated-${i}`, time: START + minutes(r.at) })),
  ].sort((a, b) => a.time - b.time);
}

const finder = new FeatureFinder(loadEntities(), loadEvents());
const WINDOW = 72 * 3600_000;

/** Assigns every report a story, as the pipeline would. */
export function assignStories(reports: readonly Labelled[], rules: StoryRules): Map<Labelled, number> {
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
    const since = report.time - WINDOW;
    const candidates = {
      similar: index.similar(print.signature, print.bands, print.termHashes, since, rules.threshold),
      withFeatures: index.withFeatures(print.features, since, 64, print.termHashes),
      stats: { reports: index.countSince(since), count: (f: string) => index.featureCount(f, since) },
    };
    story ??= findStory({ fingerprint: print, language: report.lang }, candidates, report.time, rules)?.storyId;
    story ??= ++stories;
    for (const k of keys) byKey.set(k, story);
    byItem.set(itemKey, story);
    const indexed = { storyId: story, at: report.time, language: report.lang, signature: print.signature, bands: print.bands, termHashes: print.termHashes, entities: print.entities, numbers: print.numbers, features: print.features };
    index.add(indexed);
    assigned.set(report, story);
  }
  return assigned;
}

export interface Scores {
  precision: number;
  recall: number;
  pairs: number;
  wrong: string[];
}

/** Pairwise precision and recall of "same story" over pairs within (cross false) or across languages. */
export function pairwise(reports: readonly Labelled[], assigned: Map<Labelled, number>, cross: boolean): Scores {
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
      if (truth !== said) wrong.push(`${said ? 'joined' : 'split'}: [${a.story}] ${a.title} | [${b.story}] ${b.title}`);
    }
  }
  return { precision: tp / Math.max(1, tp + fp), recall: tp / Math.max(1, tp + fn), pairs: tp + fn, wrong };
}

/** Alerts a channel taking every report would get, and how many of them were a story's second or later. */
export function alertCount(reports: readonly Labelled[], assigned: Map<Labelled, number>): { alerts: number; stories: number; duplicates: number } {
  const truthByAlert = new Map<number, Set<string>>();
  for (const report of reports) {
    const id = assigned.get(report) ?? -1;
    if (!truthByAlert.has(id)) truthByAlert.set(id, new Set());
    truthByAlert.get(id)?.add(report.story);
  }
  const alertsPerStory = new Map<string, number>();
  for (const stories of truthByAlert.values()) {
    // An alert belongs to the story of its first report; count alerts per true story.
    const [first] = stories;
    if (first !== undefined) alertsPerStory.set(first, (alertsPerStory.get(first) ?? 0) + 1);
  }
  const stories = new Set(reports.map((r) => r.story)).size;
  const alerts = truthByAlert.size;
  return { alerts, stories, duplicates: [...alertsPerStory.values()].reduce((n, c) => n + c - 1, 0) };
}

/** Whether a set is one a desk editor would recognise: what the issue asks of dev and held-out sets alike. */
export function setShape(set: ClusterSet): { stories: number; reports: number; multilingual: number; nearMisses: number } {
  return {
    stories: set.stories.length,
    reports: set.stories.reduce((n, s) => n + s.reports.length, 0),
    multilingual: set.stories.filter((s) => new Set(s.reports.map((r) => r.lang)).size > 1).length,
    nearMisses: set.stories.filter((s) => s.near).length,
  };
}
