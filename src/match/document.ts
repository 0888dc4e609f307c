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
export const FIELD_GAP = 1000;

/** A document from its forms' positions: the title's words first, the body's from `titleLength + FIELD_GAP`. */
export function createIndex(positions: Map<string, number[]>, titleLength: number): IndexedDocument {
  return new TokenIndex(positions, titleLength, titleLength + FIELD_GAP);
}

function addTokens(positions: Map<string, number[]>, tokens: readonly string[], offset: number): void {
  for (let i = 0; i < tokens.length; i++) {
    for (const form of tokenForms(tokens[i] ?? '')) {
      const list = positions.get(form);
      if (list) list.push(offset + i);
      else positions.set(form, [offset + i]);
    }
  }
}

/** Indexes an item's title and body for matching, with every form of every word. */
export function indexDocument(title: string, text = ''): IndexedDocument {
  const positions = new Map<string, number[]>();
  const titleTokens = normalizeTokens(title);
  addTokens(positions, titleTokens, 0);
  addTokens(positions, normalizeTokens(text), titleTokens.length + FIELD_GAP);
  return createIndex(positions, titleTokens.length);
}
