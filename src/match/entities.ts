// Entities: places, people and organisations with their spellings across scripts, so that one
// watchlist term finds Almaty, Алматы and ألماتي alike.

import { makeTerm, type TermNode } from './query.js';

export interface EntityTable {
  /** entity name → one term per spelling */
  readonly variants: ReadonlyMap<string, TermNode[]>;
  /** normalised spelling (tokens joined by a space) → entity name */
  readonly byVariant: ReadonlyMap<string, string>;
}

/** Builds the table from name → spellings; a spelling ending in * matches word beginnings. */
export function buildEntityTable(definitions: Record<string, readonly string[]>): EntityTable {
  const variants = new Map<string, TermNode[]>();
  const byVariant = new Map<string, string>();
  for (const [rawName, spellings] of Object.entries(definitions)) {
    const name = rawName.toLowerCase();
    const terms = [...(variants.get(name) ?? [])];
    for (const spelling of spellings) {
      const term = makeTerm(spelling, 0, true);
      const key = term.tokens.join(' ');
      if (terms.some((t) => t.tokens.join(' ') === key && t.prefix === term.prefix)) continue;
      terms.push(term);
      if (!byVariant.has(key)) byVariant.set(key, name);
    }
    variants.set(name, terms);
  }
  return { variants, byVariant };
}
