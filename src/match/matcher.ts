// Matching compiled watchlists against indexed documents, and saying which terms hit where.
//
// All watchlists are compiled together into one index of their positive terms (exact first
// words in a map, prefixes in a character trie). A document is matched by looking up each of its
// distinct word forms once, which yields the watchlists that can possibly match; only those are
// evaluated, with every term's occurrences computed once per document. So the cost of a document
// grows with what it mentions, not with how many watchlists exist.

import type { IndexedDocument } from './document.js';
import type { EntityTable } from './entities.js';
import { parseQuery, queryTerms, type QueryNode, type TermNode } from './query.js';

export interface Watchlist {
  readonly name: string;
  readonly query: string;
  readonly ast: QueryNode;
}

/** One occurrence of a query term in the document. */
export interface Hit {
  /** the term as the user wrote it (or @entity) */
  term: string;
  field: 'title' | 'text';
  /** index of the first matched word within its field */
  index: number;
  /** number of words matched */
  length: number;
  /** the normalised word forms that matched */
  forms: string[];
}

export interface WatchlistMatch {
  readonly watchlist: string;
  /** the query terms that hit, as the user wrote them */
  readonly terms: string[];
  /** the document word forms that made those hits, for highlighting and summaries */
  readonly forms: Set<string>;
  readonly hits: Hit[];
}

interface Occurrence {
  start: number;
  end: number;
  forms: string[];
  term: TermNode;
}

interface Evaluation {
  ok: boolean;
  occurrences: Occurrence[];
}
const MISS: Evaluation = { ok: false, occurrences: [] };
const PASS: Evaluation = { ok: true, occurrences: [] };

/** Per-document evaluation state: each term's occurrences are found once, whichever watchlists share it. */
class DocumentEvaluation {
  private readonly cache = new Map<TermNode, Occurrence[]>();

  /**
   * @param presentPrefixes the prefix words known to start some form of the document (the
   *   Matcher finds them while picking candidates), so testing those costs a set lookup
   */
  constructor(
    readonly doc: IndexedDocument,
    private readonly presentPrefixes: ReadonlySet<string> | null = null,
  ) {}

  /** Whether the query matches, stopping at the first answer: most documents match nothing. */
  test(node: QueryNode): boolean {
    switch (node.kind) {
      case 'term':
        return this.occurs(node);
      case 'not':
        return !this.test(node.child);
      case 'and':
        return node.children.every((child) => this.test(child));
      case 'or':
        return node.children.some((child) => this.test(child));
      case 'near':
        return this.evaluate(node).ok;
    }
  }

  /** Whether a term occurs at all; for one plain word, a single map lookup. */
  private occurs(term: TermNode): boolean {
    if (term.field === null && term.tokens.length === 1) {
      const token = term.tokens[0] ?? '';
      if (!term.prefix) return this.doc.positions.has(token);
      return this.presentPrefixes ? this.presentPrefixes.has(token) : this.doc.hasFormStartingWith(token);
    }
    // A phrase needs all its plain words somewhere before positions are worth comparing.
    const last = term.tokens.length - 1;
    if (term.tokens.some((token, i) => !(term.prefix && i === last) && !this.doc.positions.has(token))) return false;
    return this.occurrences(term).length > 0;
  }

  private formsAt(token: string, prefix: boolean): Map<number, string> {
    const found = new Map<number, string>();
    const forms = prefix ? this.doc.formsStartingWith(token) : this.doc.positions.has(token) ? [token] : [];
    for (const form of forms) for (const p of this.doc.positions.get(form) ?? []) if (!found.has(p)) found.set(p, form);
    return found;
  }

  occurrences(term: TermNode): Occurrence[] {
    const cached = this.cache.get(term);
    if (cached) return cached;
    const last = term.tokens.length - 1;
    const perToken = term.tokens.map((token, i) => this.formsAt(token, term.prefix && i === last));
    const found: Occurrence[] = [];
    for (const [start, form] of perToken[0] ?? []) {
      const forms = [form];
      for (let i = 1; i < perToken.length; i++) {
        const next = perToken[i]?.get(start + i);
        if (next === undefined) break;
        forms.push(next);
      }
      if (forms.length !== perToken.length) continue;
      if (term.field === 'title' && start + last >= this.doc.titleLength) continue;
      found.push({ start, end: start + last, forms, term });
    }
    this.cache.set(term, found);
    return found;
  }

  evaluate(node: QueryNode): Evaluation {
    switch (node.kind) {
      case 'term': {
        if (!this.occurs(node)) return MISS;
        const occurrences = this.occurrences(node);
        return occurrences.length > 0 ? { ok: true, occurrences } : MISS;
      }
      case 'not':
        return this.evaluate(node.child).ok ? MISS : PASS;
      case 'and': {
        const occurrences: Occurrence[] = [];
        for (const child of node.children) {
          const sub = this.evaluate(child);
          if (!sub.ok) return MISS;
          occurrences.push(...sub.occurrences);
        }
        return { ok: true, occurrences };
      }
      case 'or': {
        // Every branch is evaluated, so that all hits are reported, not just the first.
        const occurrences: Occurrence[] = [];
        let ok = false;
        for (const child of node.children) {
          const sub = this.evaluate(child);
          if (!sub.ok) continue;
          ok = true;
          occurrences.push(...sub.occurrences);
        }
        return ok ? { ok, occurrences } : MISS;
      }
      case 'near': {
        const left = this.evaluate(node.left);
        if (!left.ok) return MISS;
        const right = this.evaluate(node.right);
        if (!right.ok) return MISS;
        const kept = new Set<Occurrence>();
        for (const a of left.occurrences) {
          for (const b of right.occurrences) {
            const between = Math.max(b.start - a.end, a.start - b.end) - 1;
            if (between <= node.distance && a !== b) {
              kept.add(a);
              kept.add(b);
            }
          }
        }
        return kept.size > 0 ? { ok: true, occurrences: [...kept] } : MISS;
      }
    }
  }

  toMatch(watchlist: string, occurrences: Occurrence[]): WatchlistMatch {
    const unique = [...new Set(occurrences)].sort((a, b) => a.start - b.start);
    const hits = unique.map((o): Hit => {
      const inTitle = o.start < this.doc.titleLength;
      return {
        term: o.term.label,
        field: inTitle ? 'title' : 'text',
        index: inTitle ? o.start : o.start - this.doc.textStart,
        length: o.end - o.start + 1,
        forms: o.forms,
      };
    });
    return {
      watchlist,
      terms: [...new Set(unique.map((o) => o.term.label))],
      forms: new Set(unique.flatMap((o) => o.forms)),
      hits,
    };
  }
}

/** Builds a watchlist from its query text; throws QueryError when it does not parse. */
export function compileWatchlist(name: string, query: string, entities: EntityTable | null = null): Watchlist {
  return { name, query, ast: parseQuery(query, entities) };
}

/** Matches one document against one watchlist; null when it does not match. */
export function matchWatchlist(watchlist: Watchlist, doc: IndexedDocument): WatchlistMatch | null {
  const evaluation = new DocumentEvaluation(doc);
  if (!evaluation.test(watchlist.ast)) return null;
  const result = evaluation.evaluate(watchlist.ast);
  return result.ok ? evaluation.toMatch(watchlist.name, result.occurrences) : null;
}

interface TrieNode {
  children: Map<string, TrieNode>;
  watchlists: number[];
  /** the prefix word that ends here, if one does */
  prefix: string | null;
}

/** All watchlists compiled together (see the top of this file). */
export class Matcher {
  private readonly watchlists: Watchlist[];
  private readonly byFirstWord = new Map<string, number[]>();
  private readonly prefixes: TrieNode = { children: new Map(), watchlists: [], prefix: null };

  constructor(watchlists: Iterable<Watchlist>) {
    this.watchlists = [...watchlists];
    this.watchlists.forEach((watchlist, index) => {
      for (const term of queryTerms(watchlist.ast, { excluded: false })) {
        const first = term.tokens[0] ?? '';
        if (term.prefix && term.tokens.length === 1) this.addPrefix(first, index);
        else this.addWord(first, index);
      }
      // Excluded prefixes are no reason to evaluate, but knowing whether they occur saves a search.
      for (const term of queryTerms(watchlist.ast, { excluded: true })) if (term.prefix && term.tokens.length === 1) this.addPrefix(term.tokens[0] ?? '', null);
    });
  }

  get size(): number {
    return this.watchlists.length;
  }

  private addWord(word: string, index: number): void {
    const list = this.byFirstWord.get(word);
    if (!list) this.byFirstWord.set(word, [index]);
    else if (list.at(-1) !== index) list.push(index);
  }

  /** Adds a prefix word to the trie; `index` is the watchlist it makes a candidate, if any. */
  private addPrefix(prefix: string, index: number | null): void {
    let node = this.prefixes;
    for (const ch of prefix) {
      let child = node.children.get(ch);
      if (!child) {
        child = { children: new Map(), watchlists: [], prefix: null };
        node.children.set(ch, child);
      }
      node = child;
    }
    node.prefix = prefix;
    if (index !== null && node.watchlists.at(-1) !== index) node.watchlists.push(index);
  }

  /** The watchlists with a positive term among the document's word forms, and the prefixes present. */
  private candidates(doc: IndexedDocument): { watchlists: number[]; prefixes: Set<string> } {
    const found = new Set<number>();
    const prefixes = new Set<string>();
    for (const form of doc.positions.keys()) {
      for (const index of this.byFirstWord.get(form) ?? []) found.add(index);
      let node: TrieNode | undefined = this.prefixes;
      for (const ch of form) {
        node = node.children.get(ch);
        if (!node) break;
        if (node.prefix !== null) prefixes.add(node.prefix);
        for (const index of node.watchlists) found.add(index);
      }
    }
    return { watchlists: [...found].sort((a, b) => a - b), prefixes };
  }

  /** Every watchlist the document matches, in the order they were given. */
  match(doc: IndexedDocument): WatchlistMatch[] {
    const { watchlists, prefixes } = this.candidates(doc);
    const evaluation = new DocumentEvaluation(doc, prefixes);
    const matches: WatchlistMatch[] = [];
    for (const index of watchlists) {
      const watchlist = this.watchlists[index];
      if (!watchlist || !evaluation.test(watchlist.ast)) continue;
      // Matched: now collect every hit, for highlighting and summaries.
      const result = evaluation.evaluate(watchlist.ast);
      if (result.ok) matches.push(evaluation.toMatch(watchlist.name, result.occurrences));
    }
    return matches;
  }
}
