// Is a new report another report of a story we already have? Exact keys (canonical URL, title)
// are asked of the store first; this decides from the fingerprints of similar recent reports.

import type { Fingerprint } from './fingerprint.js';
import type { SimilarReport } from './report-index.js';

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

/** Recent reports found for a probe: by similar terms (most similar first), and by shared numbers. */
export interface Candidates {
  similar: SimilarReport[];
  withNumbers: SimilarReport[];
}

/**
 * The story among recent reports that this report belongs to, or null for a new story. The
 * candidates come from the store's index (or, within one batch, from the batch).
 */
export function findStory(probe: ReportProbe, candidates: Candidates, now: number, rules: StoryRules): StoryVerdict | null {
  for (const report of candidates.similar) {
    if (report.similarity < rules.threshold) break; // most similar first
    if (sameLanguage(probe.language, report.language)) return { storyId: report.storyId, how: 'near-duplicate', score: report.similarity };
  }
  if (!rules.crossLanguage || probe.language === null) return null;
  // Reports in other languages share no words, only names and numbers: both must agree.
  let best: SimilarReport | null = null;
  let bestEntities = 0;
  const telling = probe.fingerprint.numbers.filter((n) => TELLING_NUMBER.test(n));
  for (const report of candidates.withNumbers) {
    if (report.at < now - rules.crossLanguageWindowMs || sameLanguage(probe.language, report.language)) continue;
    if (!report.numbers.some((n) => telling.includes(n))) continue;
    const entities = shared(probe.fingerprint.entities, report.entities);
    if (entities >= rules.crossLanguageEntities && entities > bestEntities) {
      best = report;
      bestEntities = entities;
    }
  }
  return best ? { storyId: best.storyId, how: 'cross-language', score: bestEntities } : null;
}
