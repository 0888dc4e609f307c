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
  private sorted: string[] | null = null;

  constructor(
    readonly positions: Map<string, number[]>,
    readonly titleLength: number,
    readonly textStart: number,
  ) {}

  /** Index of the first sorted form not below `prefix`; forms are sorted once, on the first prefix query. */
  private lowerBound(prefix: string): number {
    const sorted = (this.sorted ??= [...this.positions.keys()].sort());
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((sorted[mid] ?? '') < prefix) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  formsStartingWith(prefix: string): string[] {
    const start = this.lowerBound(prefix);
    const sorted = this.sorted ?? [];
    let end = start;
    while (end < sorted.length && (sorted[end] ?? '').startsWith(prefix)) end++;
    return sorted.slice(start, end);
  }

  hasFormStartingWith(prefix: string): boolean {
    const index = this.lowerBound(prefix); // sorts the forms on first use: read them after
    return (this.sorted?.[index] ?? '').startsWith(prefix);
  }
}

// Title and body are one document, but a phrase or NEAR must not reach from one into the other.
const FIELD_GAP = 1000;

function addTokens(positions: Map<string, number[]>, tokens: string[], offset: number): void {
  tokens.forEach((token, i) => {
    for (const form of tokenForms(token)) {
      const list = positions.get(form);
      if (list) list.push(offset + i);
      else positions.set(form, [offset + i]);
    }
  });
}

/** Indexes an item's title and body for matching. */
export function indexDocument(title: string, text = ''): IndexedDocument {
  const positions = new Map<string, number[]>();
  const titleTokens = normalizeTokens(title);
  const textStart = titleTokens.length + FIELD_GAP;
  addTokens(positions, titleTokens, 0);
  addTokens(positions, normalizeTokens(text), textStart);
  return new TokenIndex(positions, titleTokens.length, textStart);
}
