// A feed item prepared for matching: every token form mapped to the positions where it occurs.

import { normalizeTokens, tokenForms } from '../text/normalize.js';

export interface IndexedDocument {
  /** token form → ascending token positions */
  readonly positions: ReadonlyMap<string, readonly number[]>;
  /** positions below this are in the title */
  readonly titleLength: number;
  /** where the body's positions start */
  readonly textStart: number;
  /** the forms that start with `prefix` */
  formsStartingWith(prefix: string): string[];
  /** whether any form starts with `prefix` (no allocation) */
  hasFormStartingWith(prefix: string): boolean;
}

class TokenIndex implements IndexedDocument {
  constructor(
    readonly positions: Map<string, number[]>,
    readonly titleLength: number,
    readonly textStart: number,
  ) {}

  formsStartingWith(prefix: string): string[] {
    const forms: string[] = [];
    for (const form of this.positions.keys()) if (form.startsWith(prefix)) forms.push(form);
    return forms;
  }

  hasFormStartingWith(prefix: string): boolean {
    for (const form of this.positions.keys()) if (form.startsWith(prefix)) return true;
    return false;
  }
}

// Title and body are one document, but a phrase or NEAR must not reach from one into the other.
const FIELD_GAP = 1000;

/** The word forms of a normalised token that matter to the index being built. */
export type FormsOf = (token: string) => readonly string[];

function addTokens(positions: Map<string, number[]>, tokens: readonly string[], offset: number, formsOf: FormsOf): void {
  for (let i = 0; i < tokens.length; i++) {
    for (const form of formsOf(tokens[i] ?? '')) {
      const list = positions.get(form);
      if (list) list.push(offset + i);
      else positions.set(form, [offset + i]);
    }
  }
}

/**
 * Indexes already normalised title and body tokens, keeping the forms `formsOf` gives for each:
 * all of them for explaining, or only those some watchlist asks about, which is far fewer.
 */
export function indexTokens(title: readonly string[], text: readonly string[], formsOf: FormsOf = tokenForms): IndexedDocument {
  const positions = new Map<string, number[]>();
  const textStart = title.length + FIELD_GAP;
  addTokens(positions, title, 0, formsOf);
  addTokens(positions, text, textStart, formsOf);
  return new TokenIndex(positions, title.length, textStart);
}

/** Indexes an item's title and body for matching, with every form of every word. */
export function indexDocument(title: string, text = ''): IndexedDocument {
  return indexTokens(normalizeTokens(title), normalizeTokens(text));
}
