// Extractive summary: the item's title and the first sentences that carry a matched term,
// in the item's own language, within a character budget.

import type { Item } from '../feeds/item.js';
import { normalizeTokens, tokenForms } from '../text/normalize.js';
import { splitSentences } from '../text/sentences.js';

export interface Summary {
  title: string;
  sentences: string[];
}

export const SUMMARY_BUDGET = 400;
const MAX_SENTENCES = 3;

const NUMBER = /\p{N}/u;

/** How many of the matched word forms a sentence carries. */
function matchedTerms(sentence: string, forms: ReadonlySet<string>): number {
  const found = new Set<string>();
  for (const token of normalizeTokens(sentence)) for (const form of tokenForms(token)) if (forms.has(form)) found.add(form);
  return found.size;
}

/**
 * A sentence's worth as a summary line: the matched terms it carries (entities among them, for
 * the preset names places and people), numbers (tolls, counts), its place (news puts the lead
 * first), and a length that reads as a sentence.
 */
function score(sentence: string, index: number, forms: ReadonlySet<string>): number {
  const length = [...sentence].length;
  // Terms count up to three: past that a long sentence listing every place outweighs the lead.
  return (
    2 * Math.min(3, matchedTerms(sentence, forms)) +
    (NUMBER.test(sentence) ? 1 : 0) +
    (LEAD_BONUS[index] ?? 0) -
    (length < 30 ? 2 : 0) -
    (length > 300 ? 1 : 0)
  );
}
// News writes what happened first: the lead sentence, then the next two.
const LEAD_BONUS = [6, 3, 1];

/** Cuts text to at most `max` characters at a word boundary, never inside a surrogate pair. */
export function truncate(text: string, max: number): string {
  const chars = [...text];
  if (chars.length <= max) return text;
  const cut = chars.slice(0, Math.max(0, max - 1)).join('');
  const atSpace = cut.replace(/\s+\S*$/u, '');
  return `${atSpace.length > cut.length / 2 ? atSpace : cut}…`;
}

/**
 * The title and the best one to three sentences of the body, in their original order, within
 * `budget` characters (the title is apart). Sentences carrying matched terms win; with none, the
 * lead sentence; with no body, the title alone. A sentence is never cut inside a word.
 */
export function summarize(item: Item, matchedForms: ReadonlySet<string>, budget = SUMMARY_BUDGET): Summary {
  const title = truncate(item.title, 200);
  const titleKey = normalizeTokens(item.title).join(' ');
  const candidates = splitSentences(item.text).filter((s) => normalizeTokens(s).join(' ') !== titleKey);
  if (candidates.length === 0) return { title, sentences: [] };
  const ranked = candidates
    .map((sentence, index) => ({ sentence, index, score: score(sentence, index, matchedForms), carries: matchedTerms(sentence, matchedForms) > 0 }))
    .sort((a, b) => b.score - a.score || a.index - b.index);
  const anyCarries = ranked.some((r) => r.carries);
  const chosen: Array<{ sentence: string; index: number }> = [];
  let left = budget;
  for (const candidate of ranked) {
    if (chosen.length === MAX_SENTENCES) break;
    // With matched terms in the body, only sentences that carry them; else the lead alone.
    if (anyCarries ? !candidate.carries : candidate.index !== 0) continue;
    const length = [...candidate.sentence].length + (chosen.length > 0 ? 1 : 0);
    if (length <= left) {
      chosen.push(candidate);
      left -= length;
    } else if (chosen.length === 0) {
      chosen.push({ ...candidate, sentence: truncate(candidate.sentence, left) });
      break;
    }
  }
  return { title, sentences: chosen.sort((a, b) => a.index - b.index).map((c) => c.sentence) };
}
