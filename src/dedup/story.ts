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

// Places that the bundled entities name, at two levels: cities and regions, and countries. Two
// reports that each name a place of a level and share none are about two places, whatever else
// they share (a curfew in Almaty and one in Astana; a depot blast in Kazakhstan and one in Kabul).
const PLACES = new Set(
  [
    'almaty', 'astana', 'zhanaozen', 'mangystau', 'aktau', 'shymkent', 'taldykorgan', 'aktobe', 'atyrau', 'karaganda', 'kyzylorda', 'taraz', 'uralsk',
    'karakalpakstan', 'bishkek', 'tashkent', 'nukus',
  ].map((p) => `@${p}`),
);
const COUNTRIES = new Set(
  ['kazakhstan', 'kyrgyzstan', 'tajikistan', 'uzbekistan', 'afghanistan', 'russia', 'china', 'turkey', 'iran', 'ukraine', 'france'].map((p) => `@${p}`),
);

// What an event happened to, and which way it went (config/events.yaml): headlines naming
// different ones are different stories (troops arriving and troops leaving).
const TARGETS = new Set(
  [
    'airport', 'city-hall', 'residence', 'prosecutor', 'police-station', 'broadcaster', 'parliament', 'embassy', 'bank', 'mine', 'cafe', 'depot',
    'arrival', 'withdrawal', 'reopening', 'extension', 'shortening', 'lifting', 'appointment', 'appeal',
  ].map((t) => `#${t}`),
);

const TITLE_WEIGHT = 2;

/** Plain feature → whether a headline carries it. */
type FeatureMap = Map<string, boolean>;

function addFeatures(map: FeatureMap, features: readonly string[]): void {
  for (const feature of features) {
    const plain = plainFeature(feature);
    map.set(plain, feature.startsWith(TITLE_MARK) || map.get(plain) === true);
  }
}

function featureMap(features: readonly string[]): FeatureMap {
  const map: FeatureMap = new Map();
  addFeatures(map, features);
  return map;
}

/** Both sides name something of this kind, and nothing the same. */
function bothNameOthers(mine: ReadonlySet<string>, theirs: ReadonlySet<string>): boolean {
  if (mine.size === 0 || theirs.size === 0) return false;
  for (const feature of mine) if (theirs.has(feature)) return false;
  return true;
}

/** featureWeight, remembered: one decision weighs the same few features against hundreds of candidates. */
type Weigh = (feature: string) => number;
function weigher(stats: FeatureStats): Weigh {
  const weights = new Map<string, number>();
  return (feature) => {
    let w = weights.get(feature);
    if (w === undefined) weights.set(feature, (w = featureWeight(feature, stats)));
    return w;
  };
}

/** The weighted Jaccard similarity of two feature maps (see featureSimilarity). */
function mapSimilarity(mine: FeatureMap, theirs: FeatureMap, weigh: Weigh): number {
  // What a headline names counts twice: it is what the story is about, the rest is context.
  const weight = (feature: string, inTitle: boolean) => weigh(feature) * (inTitle ? TITLE_WEIGHT : 1);
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
  }
  for (const [feature, inTitle] of theirs) if (!mine.has(feature)) all += weight(feature, inTitle);
  return telling && all > 0 ? shared / all : 0;
}

function placesOf(map: FeatureMap, level: ReadonlySet<string> = PLACES): Set<string> {
  return new Set([...map.keys()].filter((f) => level.has(f)));
}

/**
 * How alike two reports' language-free features are: the weighted Jaccard similarity, each feature
 * weighted by featureWeight (headline features twice), so that «Almaty» and «protest» on a day of
 * protests in Almaty weigh little and «airport» and «164» much. Zero unless they share a kind of
 * event or a count, and zero when they name different places.
 */
export function featureSimilarity(probe: readonly string[], other: readonly string[], stats: FeatureStats): number {
  const mine = featureMap(probe);
  const theirs = featureMap(other);
  if (bothNameOthers(placesOf(mine), placesOf(theirs)) || bothNameOthers(placesOf(mine, COUNTRIES), placesOf(theirs, COUNTRIES))) return 0;
  return mapSimilarity(mine, theirs, weigher(stats));
}

/**
 * Which candidate stories a report cannot belong to, whatever words it shares with them: those
 * naming other places than it does (and none of its own), or whose headlines name another target
 * (the mayor's office and the residence burning the same night). A story is one alert, so all its
 * reports the lookup met count.
 */
function storiesApart(probe: ReportProbe, candidates: Candidates): (storyId: number) => boolean {
  const mine = featureMap(probe.fingerprint.features);
  const probePlaces = placesOf(mine);
  const probeCountries = placesOf(mine, COUNTRIES);
  const probeTargets = new Set([...mine].filter(([f, inTitle]) => inTitle && TARGETS.has(f)).map(([f]) => f));
  if (probePlaces.size === 0 && probeCountries.size === 0 && probeTargets.size === 0) return () => false;
  const places = new Map<number, Set<string>>();
  const countries = new Map<number, Set<string>>();
  const targets = new Map<number, Set<string>>();
  const note = (map: Map<number, Set<string>>, storyId: number, feature: string) => {
    let set = map.get(storyId);
    if (!set) map.set(storyId, (set = new Set()));
    set.add(feature);
  };
  for (const report of [...candidates.similar, ...candidates.withFeatures]) {
    for (const feature of report.features) {
      const plain = plainFeature(feature);
      if (PLACES.has(plain)) note(places, report.storyId, plain);
      if (COUNTRIES.has(plain)) note(countries, report.storyId, plain);
      if (feature.startsWith(TITLE_MARK) && TARGETS.has(plain)) note(targets, report.storyId, plain);
    }
  }
  const none = new Set<string>();
  return (storyId) =>
    bothNameOthers(probePlaces, places.get(storyId) ?? none) ||
    bothNameOthers(probeCountries, countries.get(storyId) ?? none) ||
    bothNameOthers(probeTargets, targets.get(storyId) ?? none);
}

/**
 * The story among recent reports that this report belongs to, or null for a new story. The
 * candidates come from the story index (or, within one batch, from the batch).
 */
export function findStory(probe: ReportProbe, candidates: Candidates, now: number, rules: StoryRules): StoryVerdict | null {
  const apart = storiesApart(probe, candidates);
  const weigh = weigher(candidates.stats);
  for (const report of candidates.similar) {
    if (report.similarity < rules.threshold) break; // most similar first
    if (sameLanguage(probe.language, report.language) && !apart(report.storyId)) return { storyId: report.storyId, how: 'near-duplicate', score: report.similarity };
  }
  // A rewrite in the same language shares fewer words than a copy, but its names, event, numbers
  // and dates agree: some shared words and the language-free features together fold it.
  const mine = featureMap(probe.fingerprint.features);
  let rewrite: StoryVerdict | null = null;
  for (const report of candidates.withFeatures) {
    if (report.similarity < rules.rewriteThreshold || !sameLanguage(probe.language, report.language) || apart(report.storyId)) continue;
    const score = mapSimilarity(mine, featureMap(report.features), weigh);
    if (score >= rules.rewriteScore && score > (rewrite?.score ?? 0)) rewrite = { storyId: report.storyId, how: 'near-duplicate', score };
  }
  if (rewrite) return rewrite;
  return crossLanguageStories(probe, candidates, now, rules, apart, weigh).find((v) => v.score >= rules.crossLanguageScore) ?? null;
}

/**
 * The stories in other languages this report may belong to, by the weighted similarity of their
 * language-free features, best first (all scores above zero; findStory takes those above the
 * rule's threshold, an embeddings check may look lower).
 */
export function crossLanguageStories(
  probe: ReportProbe,
  candidates: Candidates,
  now: number,
  rules: StoryRules,
  apart: (storyId: number) => boolean = storiesApart(probe, candidates),
  weigh: Weigh = weigher(candidates.stats),
): StoryVerdict[] {
  if (!rules.crossLanguage || probe.language === null) return [];
  // A story's reports in other languages are taken together: one names the toll, another the day.
  const byStory = new Map<number, FeatureMap>();
  for (const report of candidates.withFeatures) {
    if (report.at < now - rules.crossLanguageWindowMs || sameLanguage(probe.language, report.language) || apart(report.storyId)) continue;
    let features = byStory.get(report.storyId);
    if (!features) byStory.set(report.storyId, (features = new Map<string, boolean>()));
    addFeatures(features, report.features);
  }
  const mine = featureMap(probe.fingerprint.features);
  const verdicts: StoryVerdict[] = [];
  for (const [storyId, features] of byStory) {
    const score = mapSimilarity(mine, features, weigh);
    if (score > 0) verdicts.push({ storyId, how: 'cross-language', score });
  }
  return verdicts.sort((a, b) => b.score - a.score);
}
