// Is a new report another report of a story we already have? Exact keys (canonical URL, title)
// are asked of the store first; this decides from the fingerprints of similar recent reports.

import type { Fingerprint } from './fingerprint.js';
import type { ReportIndex, SimilarReport } from './report-index.js';

export interface StoryRules {
  /** least estimated Jaccard similarity of two reports' terms for them to be one story */
  threshold: number;
  /** whether reports in different languages may fold (shared entities and numbers) */
  crossLanguage: boolean;
  /** how far apart in time two reports in different languages may be */
  crossLanguageWindowMs: number;
  /** entities two reports in different languages must share */
  crossLanguageEntities: number;
}

export const DEFAULT_STORY_RULES: StoryRules = {
  threshold: 0.35,
  crossLanguage: true,
  crossLanguageWindowMs: 12 * 3600_000,
  crossLanguageEntities: 2,
};

export interface StoryVerdict {
  storyId: number;
  how: 'near-duplicate' | 'cross-language';
  /** estimated Jaccard similarity, or for cross-language the number of shared entities */
  score: number;
}

/** A report about to be recorded: its fingerprint and language. */
export interface ReportProbe {
  fingerprint: Fingerprint;
  language: string | null;
}

function sameLanguage(a: string | null, b: string | null): boolean {
  // An unknown language compares as the same: the terms decide.
  return a === null || b === null || a.slice(0, 2) === b.slice(0, 2);
}

function shared(a: readonly string[], b: readonly string[]): number {
  return a.filter((x) => b.includes(x)).length;
}

// Numbers that identify an event (a toll, a count, a date) rather than any story: two digits or more.
const TELLING_NUMBER = /^\p{N}{2,}$/u;

/** The story among recent reports that this report belongs to, or null for a new story. */
export function findStory(probe: ReportProbe, index: ReportIndex, since: number, now: number, rules: StoryRules): StoryVerdict | null {
  for (const report of index.similar(probe.fingerprint.signature, probe.fingerprint.termHashes, since)) {
    if (report.similarity < rules.threshold) break; // most similar first
    if (sameLanguage(probe.language, report.language)) return { storyId: report.storyId, how: 'near-duplicate', score: report.similarity };
  }
  if (!rules.crossLanguage || probe.language === null) return null;
  // Reports in other languages share no words, only names and numbers: both must agree.
  let best: SimilarReport | null = null;
  let bestEntities = 0;
  const crossSince = Math.max(since, now - rules.crossLanguageWindowMs);
  for (const number of probe.fingerprint.numbers) {
    if (!TELLING_NUMBER.test(number)) continue;
    for (const report of index.withNumber(number, crossSince)) {
      if (sameLanguage(probe.language, report.language)) continue;
      const entities = shared(probe.fingerprint.entities, report.entities);
      if (entities >= rules.crossLanguageEntities && entities > bestEntities) {
        best = report;
        bestEntities = entities;
      }
    }
  }
  return best ? { storyId: best.storyId, how: 'cross-language', score: bestEntities } : null;
}
