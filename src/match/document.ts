// A feed item prepared for matching: every token form mapped to the positions where it occurs.

import { normalizeTokens, tokenForms } from '../text/normalize.js';

export interface IndexedDocument {
  /** token form → ascending token positions */
  readonly positions: ReadonlyMap<string, readonly number[]>;
  /** the forms that start with `prefix` */
  formsStartingWith(prefix: string): string[];
}

class TokenIndex implements IndexedDocument {
  private sorted: string[] | null = null;

  constructor(readonly positions: Map<string, number[]>) {}

  formsStartingWith(prefix: string): string[] {
    // Sorted once, on the first prefix query: then each prefix is a binary search, not a scan.
    const sorted = (this.sorted ??= [...this.positions.keys()].sort());
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((sorted[mid] ?? '') < prefix) lo = mid + 1;
      else hi = mid;
    }
    const found: string[] = [];
    for (let i = lo; i < sorted.length && (sorted[i] ?? '').startsWith(prefix); i++) found.push(sorted[i] ?? '');
    return found;
  }
}

// Title and body are one document, but a phrase must not run from the end of one into the other.
const FIELD_GAP = 1000;

/** Indexes the given fields (title, body …) of an item for matching. */
export function indexDocument(...fields: string[]): IndexedDocument {
  const positions = new Map<string, number[]>();
  let offset = 0;
  for (const field of fields) {
    const tokens = normalizeTokens(field);
    tokens.forEach((token, i) => {
      for (const form of tokenForms(token)) {
        const list = positions.get(form);
        if (list) list.push(offset + i);
        else positions.set(form, [offset + i]);
      }
    });
    offset += tokens.length + FIELD_GAP;
  }
  return new TokenIndex(positions);
}
