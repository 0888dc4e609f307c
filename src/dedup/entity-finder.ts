// Names from a table of spellings (entities, kinds of event) found in a text, through one
// compiled matcher of every name: the matcher's folding and clitic handling, for free.

import { compileWatchlist, Matcher } from '../match/matcher.js';
import type { EntityTable } from '../match/entities.js';

export class EntityFinder {
  private readonly matcher: Matcher;

  constructor(table: EntityTable) {
    this.matcher = new Matcher([...table.variants.keys()].map((name) => compileWatchlist(name, `@${name}`, table)));
  }

  /** The names found, the word forms that named them, and the names the title carries. */
  find(title: string, text: string): { names: string[]; forms: Set<string>; inTitle: Set<string> } {
    const matches = this.matcher.match(title, text);
    return {
      names: matches.map((m) => m.watchlist),
      forms: new Set(matches.flatMap((m) => [...m.forms])),
      inTitle: new Set(matches.filter((m) => m.hits.some((h) => h.field === 'title')).map((m) => m.watchlist)),
    };
  }
}
