// A feed item prepared for matching: every token form mapped to the positions where it occurs.

import { normalizeTokens, tokenForms } from '../text/normalize.js';

export interface IndexedDocument {
  /** token form → ascending token positions */
  readonly positions: ReadonlyMap<string, readonly number[]>;
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
  return { positions };
}
