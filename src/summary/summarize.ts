// Extractive summary: the item's title and the first sentences that carry a matched term,
// in the item's own language, within a character budget.

import type { Item } from '../feeds/item.js';
import { normalizeTokens, tokenForms } from '../text/normalize.js';
import { splitSentences } from '../text/sentences.js';

export interface Summary {
  title: string;
  sentences: string[];
}

export const SUMMARY_BUDGET = 600;

function carriesTerm(sentence: string, forms: ReadonlySet<string>): boolean {
  return normalizeTokens(sentence).some((token) => tokenForms(token).some((form) => forms.has(form)));
}

/** Cuts text to at most `max` characters at a word boundary, never inside a surrogate pair. */
export function truncate(text: string, max: number): string {
  const chars = [...text];
  if (chars.length <= max) return text;
  const cut = chars.slice(0, Math.max(0, max - 1)).join('');
  const atSpace = cut.replace(/\s+\S*$/u, '');
  return `${atSpace.length > cut.length / 2 ? atSpace : cut}…`;
}

/**
 * Title plus the first sentences that carry one of the matched token forms (or the lead sentence
 * when only the title matched), title and sentences together within `budget` characters.
 */
export function summarize(item: Item, matchedForms: ReadonlySet<string>, budget = SUMMARY_BUDGET): Summary {
  const title = truncate(item.title, Math.min(200, budget));
  let left = budget - [...title].length;
  const titleKey = normalizeTokens(item.title).join(' ');
  const candidates = splitSentences(item.text).filter((s) => normalizeTokens(s).join(' ') !== titleKey);
  const carrying = candidates.filter((s) => carriesTerm(s, matchedForms));
  const chosen = carrying.length > 0 ? carrying : candidates.slice(0, 1);

  const sentences: string[] = [];
  for (const sentence of chosen) {
    const length = [...sentence].length + 1;
    if (length <= left) {
      sentences.push(sentence);
      left -= length;
    } else {
      if (sentences.length === 0 && left > 40) sentences.push(truncate(sentence, left - 1));
      break;
    }
  }
  return { title, sentences };
}
