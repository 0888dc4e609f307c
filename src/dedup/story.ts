// Is a new report another report of a story we already have? Exact keys (canonical URL, title)
// are asked of the store first; this decides from the fingerprints of similar recent reports:
// within a language by shared words, across languages by what no language changes (names, the
// kind of event, numbers, dates: see features.ts).

import { plainFeature, TITLE_MARK } from './features.js';
import type { Fingerprint } from './fingerprint.js';
import type { SimilarReport } from './report-index.js';

export interface StoryRules {
  /** least estimated Jaccard similarity of two reports' terms for them to be one story */
  threshold: number;
  /** whether reports in different languages may fold (shared names, event, numbers, dates) */
  crossLanguage: boolean;
  /** how far apart in time two reports in different languages may be */
  crossLanguageWindowMs: number;
  /** least weighted similarity of language-free features for a fold across languages (see featureSimilarity) */
  crossLanguageScore: number;
  /** a rewrite in the same language: least Jaccard similarity of terms, with at least `rewriteScore` of features */
  rewriteThreshold: number;
  rewriteScore: number;
}

export const DEFAULT_STORY_RULES: StoryRules = {
  threshold: 0.35,
  crossLanguage: true,
  crossLanguageWindowMs: 12 * 3600_000,
  crossLanguageScore: 0.45,
  rewriteThreshold: 0.1,
  rewriteScore: 0.6,
};

export interface StoryVerdict {
  storyId: number;
  how: 'near-duplicate' | 'cross-language';
  /** estimated Jaccard similarity, or for cross-language the weight of shared features */
  score: number;
}

/** A report about to be recorded: its fingerprint and language. */
export interface ReportProbe {
  fingerprint: Pick<Fingerprint, 'features'>;
  language: string | null;
}

function sameLanguage(a: string | null, b: string | null): boolean {
  // An unknown language compares as the same: the terms decide.
  return a === null || b === null || a.slice(0, 2) === b.slice(0, 2);
}

/** How often each language-free feature occurs among the recent reports: what is rare tells more. */
export interface FeatureStats {
  /** reports in the window */
  reports: number;
  /** reports in the window carrying `feature` */
  count(feature: string): number;
}

/** Recent reports found for a probe: by similar terms (most similar first), and by shared language-free features. */
export interface Candidates {
  similar: readonly SimilarReport[];
  withFeatures: readonly SimilarReport[];
  stats: FeatureStats;
}

// Numbers that identify an event (a toll, a count) rather than any story: two digits or more, and
// not a year, which half the news of a year carries.
const TELLING_NUMBER = /^n:(?!(?:19|20)\d\d$)\d{2,}$/u;

/** What a feature is worth before its rarity: a count or toll says most, a small number little. */
function baseWeight(feature: string): number {
  if (feature.startsWith('n:')) return TELLING_NUMBER.test(feature) ? 1.5 : 0.25;
  return 1;
}

/** A feature's weight among the recent reports: its base weight times its rarity (inverse document frequency). */
export function featureWeight(feature: string, stats: FeatureStats): number {
  const rarity = Math.log((stats.reports + 1) / (stats.count(feature) + 0.5));
  return baseWeight(feature) * Math.max(0.1, rarity);
}

/** Whether a shared feature names what happened or how many: a shared city alone does not make one story. */
function isEventOrCount(feature: string): boolean {
  return feature.startsWith('#') || TELLING_NUMBER.test(feature);
}

// Places (cities, regions) that the bundled entities name: two reports that each name a place and
// share none are about two places, whatever else they share.
const PLACES = new Set(
  ['almaty', 'astana', 'zhanaozen', 'mangystau', 'aktau', 'shymkent', 'taldykorgan', 'aktobe', 'atyrau', 'karaganda', 'kyzylorda', 'taraz', 'uralsk'].map((p) => `@${p}`),
);

function placesDiffer(probe: ReadonlyMap<string, boolean>, other: ReadonlyMap<string, boolean>): boolean {
  const mine = [...probe.keys()].filter((f) => PLACES.has(f));
  if (mine.length === 0 || mine.some((f) => other.has(f))) return false;
  for (const feature of other.keys()) if (PLACES.has(feature)) return true;
  return false;
}

const TITLE_WEIGHT = 2;

// What an event happened to (config/events.yaml): headlines naming different ones are different stories.
const TARGETS = new Set(
  ['airport', 'city-hall', 'residence', 'prosecutor', 'police-station', 'broadcaster', 'parliament', 'embassy', 'bank', 'mine', 'cafe', 'depot'].map((t) => `#${t}`),
);

/** The headline features of a kind (places, targets) a report or story carries. */
function titled(features: Iterable<string>, kind: ReadonlySet<string>): Set<string> {
  const found = new Set<string>();
  for (const feature of features) if (feature.startsWith(TITLE_MARK) && kind.has(plainFeature(feature))) found.add(plainFeature(feature));
  return found;
}

/** Both headlines name something of this kind, and nothing the same. */
function headlinesDiffer(mine: ReadonlySet<string>, theirs: ReadonlySet<string>): boolean {
  if (mine.size === 0 || theirs.size === 0) return false;
  for (const feature of mine) if (theirs.has(feature)) return false;
  return true;
}

/**
 * How alike two reports' language-free features are: the weighted Jaccard similarity, each feature
 * weighted by featureWeight, so that «Almaty» and «protest» on a day of protests in Almaty weigh
 * little and «airport» and «164» much. Zero unless they share a kind of event or a count.
 */
export function featureSimilarity(probe: readonly string[], other: readonly string[], stats: FeatureStats): number {
  const theirs = new Map<string, boolean>();
  for (const feature of other) theirs.set(plainFeature(feature), feature.startsWith(TITLE_MARK) || theirs.get(plainFeature(feature)) === true);
  const mine = new Map<string, boolean>();
  for (const feature of probe) mine.set(plainFeature(feature), feature.startsWith(TITLE_MARK) || mine.get(plainFeature(feature)) === true);
  if (placesDiffer(mine, theirs)) return 0;
  // What a headline names counts twice: it is what the story is about, the rest is context.
  const weight = (feature: string, inTitle: boolean) => featureWeight(feature, stats) * (inTitle ? TITLE_WEIGHT : 1);
  let shared = 0;
  let all = 0;
  let telling = false;
  for (const [feature, inTitle] of mine) {
    const theirTitle = theirs.get(feature);
    if (theirTitle === undefined) {
      all += weight(feature, inTitle);
      continue;
    }
    const w = weight(feature, inTitle || theirTitle);
    shared += w;
    all += w;
    telling ||= isEventOrCount(feature);
    theirs.delete(feature);
  }
  for (const [feature, inTitle] of theirs) all += weight(feature, inTitle);
  return telling && all > 0 ? shared / all : 0;
}

/**
 * The story among recent reports that this report belongs to, or null for a new story. The
 * candidates come from the story index (or, within one batch, from the batch).
 */
export function findStory(probe: ReportProbe, candidates: Candidates, now: number, rules: StoryRules): StoryVerdict | null {
  for (const report of candidates.similar) {
    if (report.similarity < rules.threshold) break; // most similar first
    if (sameLanguage(probe.language, report.language)) return { storyId: report.storyId, how: 'near-duplicate', score: report.similarity };
  }
  // A rewrite in the same language shares fewer words than a copy, but its names, event, numbers
  // and dates agree: some shared words and the language-free features together fold it.
  let rewrite: StoryVerdict | null = null;
  for (const report of candidates.withFeatures) {
    if (report.similarity < rules.rewriteThreshold || !sameLanguage(probe.language, report.language)) continue;
    const score = featureSimilarity(probe.fingerprint.features, report.features, candidates.stats);
    if (score >= rules.rewriteScore && score > (rewrite?.score ?? 0)) rewrite = { storyId: report.storyId, how: 'near-duplicate', score };
  }
  if (rewrite) return rewrite;
  if (!rules.crossLanguage || probe.language === null) return null;
  return crossLanguageStories(probe, candidates, now, rules).find((v) => v.score >= rules.crossLanguageScore) ?? null;
}

/**
 * The stories in other languages this report may belong to, by the weighted similarity of their
 * language-free features, best first (all scores above zero; findStory takes those above the
 * rule's threshold, an embeddings check may look lower). A story is one alert: a report naming
 * another place, or another target in its headline, than any of its reports is not of it.
 */
export function crossLanguageStories(probe: ReportProbe, candidates: Candidates, now: number, rules: StoryRules): StoryVerdict[] {
  if (!rules.crossLanguage || probe.language === null) return [];
  const places = new Map<number, Set<string>>();
  const byStory = new Map<number, string[]>();
  for (const report of candidates.withFeatures) {
    for (const feature of report.features) {
      const plain = plainFeature(feature);
      if (!PLACES.has(plain)) continue;
      let set = places.get(report.storyId);
      if (!set) places.set(report.storyId, (set = new Set()));
      set.add(plain);
    }
    if (report.at < now - rules.crossLanguageWindowMs || sameLanguage(probe.language, report.language)) continue;
    // A story's reports in other languages are taken together: one names the toll, another the day.
    byStory.set(report.storyId, [...(byStory.get(report.storyId) ?? []), ...report.features]);
  }
  const probePlaces = probe.fingerprint.features.map(plainFeature).filter((f) => PLACES.has(f));
  const probeTargets = titled(probe.fingerprint.features, TARGETS);
  const verdicts: StoryVerdict[] = [];
  for (const [storyId, features] of byStory) {
    const storyPlaces = places.get(storyId);
    if (probePlaces.length > 0 && storyPlaces && !probePlaces.some((p) => storyPlaces.has(p))) continue;
    if (headlinesDiffer(probeTargets, titled(features, TARGETS))) continue;
    const score = featureSimilarity(probe.fingerprint.features, features, candidates.stats);
    if (score > 0) verdicts.push({ storyId, how: 'cross-language', score });
  }
  return verdicts.sort((a, b) => b.score - a.score);
}
