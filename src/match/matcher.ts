// Evaluates compiled watchlists against indexed documents and says which terms hit.

import type { IndexedDocument } from './document.js';
import { parseQuery, type QueryNode, type TermNode } from './query.js';

export interface Watchlist {
  readonly name: string;
  readonly query: string;
  readonly ast: QueryNode;
}

export interface WatchlistMatch {
  readonly watchlist: string;
  /** the query terms that hit, as the user wrote them */
  readonly terms: string[];
  /** the document token forms that made those hits, for highlighting and summaries */
  readonly forms: Set<string>;
}

interface Evaluation {
  ok: boolean;
  terms: string[];
  forms: string[];
}
const MISS: Evaluation = { ok: false, terms: [], forms: [] };

function positionsOf(doc: IndexedDocument, token: string, prefix: boolean): Map<number, string> {
  const found = new Map<number, string>();
  if (!prefix) {
    for (const p of doc.positions.get(token) ?? []) found.set(p, token);
    return found;
  }
  for (const form of doc.formsStartingWith(token)) {
    for (const p of doc.positions.get(form) ?? []) found.set(p, form);
  }
  return found;
}

function evaluateTerm(term: TermNode, doc: IndexedDocument): Evaluation {
  // Most terms are one word: no positions needed.
  if (term.tokens.length === 1) {
    const token = term.tokens[0] ?? '';
    const forms = term.prefix ? doc.formsStartingWith(token) : doc.positions.has(token) ? [token] : [];
    return forms.length > 0 ? { ok: true, terms: [term.raw], forms } : MISS;
  }
  const last = term.tokens.length - 1;
  const perToken = term.tokens.map((token, i) => positionsOf(doc, token, term.prefix && i === last));
  const first = perToken[0];
  if (!first) return MISS;
  const forms: string[] = [];
  for (const start of first.keys()) {
    const chain: string[] = [];
    for (let i = 0; i < perToken.length; i++) {
      const form = perToken[i]?.get(start + i);
      if (form === undefined) break;
      chain.push(form);
    }
    if (chain.length === perToken.length) forms.push(...chain);
  }
  return forms.length > 0 ? { ok: true, terms: [term.raw], forms } : MISS;
}

function evaluate(node: QueryNode, doc: IndexedDocument): Evaluation {
  switch (node.kind) {
    case 'term':
      return evaluateTerm(node, doc);
    case 'not':
      return evaluate(node.child, doc).ok ? MISS : { ok: true, terms: [], forms: [] };
    case 'and': {
      const result: Evaluation = { ok: true, terms: [], forms: [] };
      for (const child of node.children) {
        const sub = evaluate(child, doc);
        if (!sub.ok) return MISS;
        result.terms.push(...sub.terms);
        result.forms.push(...sub.forms);
      }
      return result;
    }
    case 'or': {
      // Every branch is evaluated, so that all hits are reported, not just the first.
      const result: Evaluation = { ok: false, terms: [], forms: [] };
      for (const child of node.children) {
        const sub = evaluate(child, doc);
        if (!sub.ok) continue;
        result.ok = true;
        result.terms.push(...sub.terms);
        result.forms.push(...sub.forms);
      }
      return result.ok ? result : MISS;
    }
  }
}

/** Builds a watchlist from its query text; throws QueryError when it does not parse. */
export function compileWatchlist(name: string, query: string): Watchlist {
  return { name, query, ast: parseQuery(query) };
}

/** Matches one document against one watchlist; null when it does not match. */
export function matchWatchlist(watchlist: Watchlist, doc: IndexedDocument): WatchlistMatch | null {
  const result = evaluate(watchlist.ast, doc);
  if (!result.ok) return null;
  return { watchlist: watchlist.name, terms: [...new Set(result.terms)], forms: new Set(result.forms) };
}

/** Matches a document against every watchlist; the matches in watchlist order. */
export function matchAll(watchlists: Iterable<Watchlist>, doc: IndexedDocument): WatchlistMatch[] {
  const matches: WatchlistMatch[] = [];
  for (const watchlist of watchlists) {
    const match = matchWatchlist(watchlist, doc);
    if (match) matches.push(match);
  }
  return matches;
}
