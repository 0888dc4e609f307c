// Matching compiled watchlists against indexed documents, and saying which terms hit where.
//
// All watchlists are compiled together into one index of their terms (exact words in maps,
// prefixes in a character trie). What each distinct word of the news means to that index (which
// of its forms a query asks about, which watchlists it makes candidates) is worked out once and
// remembered, so a document costs one lookup per word; only the words that matter are indexed
// with their positions, and only the candidate watchlists are evaluated, with every term's
// occurrences computed once per document. So the cost of a document grows with what it
// mentions, not with how many watchlists exist.

import { foldWords, tokenForms, type FoldedWords } from '../text/normalize.js';
import { createIndex, FIELD_GAP, type IndexedDocument } from './document.js';
import { WordTable } from './word-table.js';
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
  /** the number of the last `toMatch` that listed it: one occurrence may be reached twice */
  listed: number;
}
let listings = 0;

interface Evaluation {
  ok: boolean;
  occurrences: Occurrence[];
}
const MISS: Evaluation = { ok: false, occurrences: [] };
const PASS: Evaluation = { ok: true, occurrences: [] };

type OrNode = Extract<QueryNode, { kind: 'or' }>;
type AndNode = Extract<QueryNode, { kind: 'and' }>;

/**
 * An OR's children sorted for lookup: an entity or a preset is an OR of hundreds of plain words,
 * and a document holds few of the words any query asks about, so the document's words are looked
 * up in the OR rather than each of the OR's words in the document.
 */
interface OrLookup {
  /** plain one-word terms by their word */
  words: Map<string, TermNode[]>;
  /** one-word prefix terms by their prefix */
  prefixes: Map<string, TermNode[]>;
  /** everything else, in the query's order: phrases, title: terms, nested operators */
  others: QueryNode[];
  /**
   * The terms of `others` that cannot occur without their first word (every phrase, and a
   * title: word), by that word: their places in `others`, so only those the document has a
   * first word of are tried, in the query's order.
   */
  byFirstWord: Map<string, number[]>;
  /** the places in `others` of what must always be tried (nested operators, a title: prefix) */
  always: number[];
}
const orLookups = new WeakMap<OrNode, OrLookup>();

function orLookup(node: OrNode): OrLookup {
  const known = orLookups.get(node);
  if (known) return known;
  const lookup: OrLookup = { words: new Map(), prefixes: new Map(), others: [], byFirstWord: new Map(), always: [] };
  // An OR of entities is an OR of ORs: one flat lookup answers the same.
  const children: QueryNode[] = [];
  const flatten = (n: QueryNode): void => {
    if (n.kind === 'or') n.children.forEach(flatten);
    else children.push(n);
  };
  flatten(node);
  for (const child of children) {
    if (child.kind !== 'term' || child.field !== null || child.tokens.length !== 1) {
      const place = lookup.others.push(child) - 1;
      // A phrase's first word is never a prefix (only its last is), nor a title: word's unless it is one word.
      if (child.kind === 'term' && !(child.prefix && child.tokens.length === 1)) {
        const first = child.tokens[0] ?? '';
        const places = lookup.byFirstWord.get(first);
        if (places) places.push(place);
        else lookup.byFirstWord.set(first, [place]);
      } else {
        lookup.always.push(place);
      }
      continue;
    }
    const byKey = child.prefix ? lookup.prefixes : lookup.words;
    const key = child.tokens[0] ?? '';
    const terms = byKey.get(key);
    if (terms) terms.push(child);
    else byKey.set(key, [child]);
  }
  orLookups.set(node, lookup);
  return lookup;
}

/**
 * An AND with its exclusions taken together: `a b -c -d -e …` holds when a and b do and the OR
 * of c, d, e … does not, and that OR is looked up like any other (a preset excludes hundreds of
 * words, of which a document holds few).
 */
interface AndLookup {
  /** the children that are not exclusions, in the query's order */
  required: QueryNode[];
  /** what the exclusions exclude, as one OR; null when there are none */
  excluded: OrNode | null;
}
const andLookups = new WeakMap<AndNode, AndLookup>();

function andLookup(node: AndNode): AndLookup {
  const known = andLookups.get(node);
  if (known) return known;
  const required: QueryNode[] = [];
  const excluded: QueryNode[] = [];
  for (const child of node.children) {
    if (child.kind === 'not') excluded.push(child.child);
    else required.push(child);
  }
  const lookup: AndLookup = { required, excluded: excluded.length > 0 ? { kind: 'or', children: excluded } : null };
  andLookups.set(node, lookup);
  return lookup;
}

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
      case 'and': {
        const { required, excluded } = andLookup(node);
        for (const child of required) if (!this.test(child)) return false;
        return excluded === null || !this.test(excluded);
      }
      case 'or': {
        const lookup = orLookup(node);
        if (this.anyWord(lookup)) return true;
        for (const prefix of this.prefixesIn(lookup)) if (this.occurs(prefix)) return true;
        const { others } = lookup;
        if (lookup.byFirstWord.size > 0) {
          const { positions } = this.doc;
          if (lookup.byFirstWord.size <= positions.size) {
            for (const [word, places] of lookup.byFirstWord) if (positions.has(word)) for (const place of places) if (this.test(others[place] as QueryNode)) return true;
          } else {
            for (const form of positions.keys()) for (const place of lookup.byFirstWord.get(form) ?? []) if (this.test(others[place] as QueryNode)) return true;
          }
        }
        for (const place of lookup.always) if (this.test(others[place] as QueryNode)) return true;
        return false;
      }
      case 'near':
        return this.evaluate(node).ok;
    }
  }

  /** Whether a plain word of the OR occurs, looking the smaller side up in the larger. */
  private anyWord(lookup: OrLookup): boolean {
    const { positions } = this.doc;
    if (lookup.words.size <= positions.size) {
      for (const word of lookup.words.keys()) if (positions.has(word)) return true;
    } else {
      for (const form of positions.keys()) if (lookup.words.has(form)) return true;
    }
    return false;
  }

  /** The places in `lookup.others` worth trying for this document, in the query's order. */
  private othersIn(lookup: OrLookup): number[] {
    const { byFirstWord, always } = lookup;
    if (byFirstWord.size === 0) return always;
    const places: number[] = [];
    const { positions } = this.doc;
    if (byFirstWord.size <= positions.size) {
      for (const [word, found] of byFirstWord) if (positions.has(word)) for (const place of found) places.push(place);
    } else {
      for (const form of positions.keys()) for (const place of byFirstWord.get(form) ?? []) places.push(place);
    }
    if (places.length === 0) return always;
    for (const place of always) places.push(place);
    let sorted = true;
    for (let i = 1; i < places.length && sorted; i++) sorted = (places[i - 1] ?? 0) < (places[i] ?? 0);
    return sorted ? places : places.sort((a, b) => a - b);
  }

  /** The OR's prefix terms worth testing: with the document's prefixes known, only those present. */
  private prefixesIn(lookup: OrLookup): TermNode[] {
    if (lookup.prefixes.size === 0) return [];
    const present = this.presentPrefixes;
    if (!present) return [...lookup.prefixes.values()].flat();
    const terms: TermNode[] = [];
    if (lookup.prefixes.size <= present.size) {
      for (const [prefix, prefixTerms] of lookup.prefixes) if (present.has(prefix)) for (const term of prefixTerms) terms.push(term);
    } else {
      for (const prefix of present) for (const term of lookup.prefixes.get(prefix) ?? []) terms.push(term);
    }
    return terms;
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
    for (let i = 0; i <= last; i++) if (!(term.prefix && i === last) && !this.doc.positions.has(term.tokens[i] ?? '')) return false;
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
    if (last === 0 && !term.prefix) {
      // One plain word, the usual term: its positions are its occurrences.
      const word = term.tokens[0] ?? '';
      const forms = [word];
      const found: Occurrence[] = [];
      for (const start of this.doc.positions.get(word) ?? []) {
        if (term.field === 'title' && start >= this.doc.titleLength) break;
        found.push({ start, end: start, forms, term, listed: 0 });
      }
      this.cache.set(term, found);
      return found;
    }
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
      found.push({ start, end: start + last, forms, term, listed: 0 });
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
        return this.test(node.child) ? MISS : PASS;
      case 'and': {
        // Exclusions add no occurrences: they are tried together, first, as they cost the least.
        const { required, excluded } = andLookup(node);
        if (excluded !== null && this.test(excluded)) return MISS;
        const occurrences: Occurrence[] = [];
        for (const child of required) {
          const sub = this.evaluate(child);
          if (!sub.ok) return MISS;
          for (const occurrence of sub.occurrences) occurrences.push(occurrence);
        }
        return { ok: true, occurrences };
      }
      case 'or': {
        // Every branch that holds is evaluated, so that all hits are reported, not just the first.
        const lookup = orLookup(node);
        const occurrences: Occurrence[] = [];
        let ok = false;
        if (this.anyWord(lookup)) {
          const { positions } = this.doc;
          if (lookup.words.size <= positions.size) {
            for (const [word, terms] of lookup.words) if (positions.has(word)) for (const term of terms) ok = this.collect(term, occurrences) || ok;
          } else {
            for (const form of positions.keys()) for (const term of lookup.words.get(form) ?? []) ok = this.collect(term, occurrences) || ok;
          }
        }
        for (const term of this.prefixesIn(lookup)) ok = this.collect(term, occurrences) || ok;
        // What cannot occur (a phrase without its first word) adds nothing: only the rest is tried, in order.
        for (const place of this.othersIn(lookup)) ok = this.collect(lookup.others[place] as QueryNode, occurrences) || ok;
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

  /** Evaluates `node`, adding its occurrences to `into`; whether it holds. */
  private collect(node: QueryNode, into: Occurrence[]): boolean {
    const sub = this.evaluate(node);
    for (const occurrence of sub.occurrences) into.push(occurrence);
    return sub.ok;
  }

  toMatch(watchlist: string, occurrences: Occurrence[]): WatchlistMatch {
    const listing = ++listings;
    const unique: Occurrence[] = [];
    for (const o of occurrences) {
      if (o.listed === listing) continue;
      o.listed = listing;
      unique.push(o);
    }
    unique.sort(byStart);
    const hits: Hit[] = [];
    const terms = new Set<string>();
    const forms = new Set<string>();
    for (const o of unique) {
      const inTitle = o.start < this.doc.titleLength;
      hits.push({
        term: o.term.label,
        field: inTitle ? 'title' : 'text',
        index: inTitle ? o.start : o.start - this.doc.textStart,
        length: o.end - o.start + 1,
        forms: o.forms,
      });
      terms.add(o.term.label);
      for (const form of o.forms) forms.add(form);
    }
    return { watchlist, terms: [...terms], forms, hits };
  }
}

// Hits read in text order; at one place, in the order the query names the terms, whatever order found them.
const byStart = (a: Occurrence, b: Occurrence): number => a.start - b.start || a.term.position - b.term.position || a.end - b.end;

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
  /** the groups a word starting with this prefix has a term of */
  groups: number[];
  /** the prefix word that ends here, if one does */
  prefix: string | null;
}

/** What one normalised word of a document means to the compiled watchlists. */
interface WordInfo {
  /** its forms that some query asks about (a query word, or a form starting with a query prefix) */
  forms: string[];
  /** the groups (see Matcher) one of those forms has a term of */
  groups: number[];
  /** the query prefixes its forms start with */
  prefixes: string[];
  /** the number of the document that last used it */
  lastDocument: number;
}
const IRRELEVANT: WordInfo = { forms: [], groups: [], prefixes: [], lastDocument: 0 };
// News vocabulary repeats, so what a word means is worked out once and remembered; the bound keeps
// a long-running worker from growing without end.
const WORD_CACHE_LIMIT = 200_000;

/** What the Matcher gathers from one document's words. */
interface DocumentWords {
  /** the document's number, stamped on what it has counted */
  readonly number: number;
  /** the watchlists all of whose groups have a term present */
  readonly candidates: number[];
  /** the query prefixes some word starts with */
  readonly prefixes: Set<string>;
  /** the positions of each form a query asks about */
  readonly positions: Map<string, number[]>;
}

/** At most this many forms are noted for an item that matched nothing. */
const PRESENT_NOTED = 40;

function notePresent(positions: ReadonlyMap<string, number[]>, present: string[]): void {
  for (const form of positions.keys()) {
    if (present.length >= PRESENT_NOTED) return;
    present.push(form);
  }
}

/** Whether `node` can only hold when at least one of its positive terms occurs. */
function needsATerm(node: QueryNode): boolean {
  switch (node.kind) {
    case 'term':
    case 'near':
      return true;
    case 'not':
      return false;
    case 'and':
      return node.children.some(needsATerm);
    case 'or':
      return node.children.every(needsATerm);
  }
}

/** The parts of a query that must each have a term in the document: the ANDed ones, at the top. */
function requiredGroups(ast: QueryNode): QueryNode[] {
  const parts = ast.kind === 'and' ? ast.children : [ast];
  const groups = parts.filter(needsATerm);
  // A query that could hold with none of its terms present (a OR -b) is still only tried when one is.
  return groups.length > 0 ? groups : [ast];
}

/**
 * All watchlists compiled together (see the top of this file).
 *
 * Each watchlist is split into its required groups (`Almaty AND (protest OR riot) -football` has
 * two: Almaty, and protest-or-riot). A document's words say which groups have a term present;
 * a watchlist is evaluated only when every one of its groups has, which most watchlists that
 * share one word with the news never reach (counting, as boolean-expression indexes do).
 */
export class Matcher {
  private readonly watchlists: Watchlist[];
  /** positive terms' first words → the groups they belong to */
  private readonly byFirstWord = new Map<string, number[]>();
  /** every word any query names, excluded ones and later words of phrases included */
  private readonly queryWords = new Set<string>();
  private readonly prefixes: TrieNode = { children: new Map(), groups: [], prefix: null };
  private readonly words = new WordTable<WordInfo>(WORD_CACHE_LIMIT);
  /** group → its watchlist */
  private readonly groupWatchlist: number[] = [];
  /** watchlist → how many groups it has */
  private readonly groupsNeeded: number[] = [];
  // Per-document counting, reset by stamping with the document's number instead of clearing.
  private documents = 0;
  private readonly groupSeen: Uint32Array;
  private readonly watchlistSeen: Uint32Array;
  private readonly groupsFound: Uint32Array;

  constructor(watchlists: Iterable<Watchlist>) {
    this.watchlists = [...watchlists];
    this.watchlists.forEach((watchlist, index) => {
      for (const term of queryTerms(watchlist.ast, { excluded: true })) {
        const last = term.tokens.length - 1;
        term.tokens.forEach((token, i) => {
          if (term.prefix && i === last) this.addPrefix(token, null);
          else this.queryWords.add(token);
        });
      }
      const groups = requiredGroups(watchlist.ast);
      this.groupsNeeded.push(groups.length);
      for (const group of groups) {
        const id = this.groupWatchlist.push(index) - 1;
        for (const term of queryTerms(group, { excluded: false })) {
          const first = term.tokens[0] ?? '';
          if (term.prefix && term.tokens.length === 1) this.addPrefix(first, id);
          else this.addWord(first, id);
        }
      }
    });
    this.groupSeen = new Uint32Array(this.groupWatchlist.length);
    this.watchlistSeen = new Uint32Array(this.watchlists.length);
    this.groupsFound = new Uint32Array(this.watchlists.length);
  }

  get size(): number {
    return this.watchlists.length;
  }

  private addWord(word: string, group: number): void {
    const list = this.byFirstWord.get(word);
    if (!list) this.byFirstWord.set(word, [group]);
    else if (list.at(-1) !== group) list.push(group);
  }

  /** Adds a prefix word to the trie; `group` is the group whose term it is, if any. */
  private addPrefix(prefix: string, group: number | null): void {
    let node = this.prefixes;
    for (const ch of prefix) {
      let child = node.children.get(ch);
      if (!child) {
        child = { children: new Map(), groups: [], prefix: null };
        node.children.set(ch, child);
      }
      node = child;
    }
    node.prefix = prefix;
    if (group !== null && node.groups.at(-1) !== group) node.groups.push(group);
  }

  /** What word `i` of `words` means to the watchlists: remembered, else worked out. */
  private wordInfo(words: FoldedWords, i: number): WordInfo {
    const known = this.words.lookup(words, i);
    if (known) return known;
    const token = words.word(i);
    const forms: string[] = [];
    const groups = new Set<number>();
    const prefixes = new Set<string>();
    for (const form of tokenForms(token)) {
      let relevant = this.queryWords.has(form);
      for (const group of this.byFirstWord.get(form) ?? []) groups.add(group);
      let node: TrieNode | undefined = this.prefixes;
      for (const ch of form) {
        node = node.children.get(ch);
        if (!node) break;
        if (node.prefix !== null) {
          relevant = true;
          prefixes.add(node.prefix);
        }
        for (const group of node.groups) groups.add(group);
      }
      if (relevant) forms.push(form);
    }
    const info = forms.length === 0 ? IRRELEVANT : { forms, groups: [...groups], prefixes: [...prefixes], lastDocument: 0 };
    this.words.set(token, info);
    return info;
  }

  /** Indexes the words some query asks about (most of a text is not), and counts their groups. */
  private indexWords(words: FoldedWords, offset: number, found: DocumentWords): void {
    for (let i = 0; i < words.count; i++) {
      const info = this.wordInfo(words, i);
      if (info === IRRELEVANT) continue;
      // A word said ten times counts once.
      if (info.lastDocument !== found.number) {
        info.lastDocument = found.number;
        this.countGroups(info, found.number, found.candidates);
        for (const prefix of info.prefixes) found.prefixes.add(prefix);
      }
      for (const form of info.forms) {
        const list = found.positions.get(form);
        if (list) list.push(offset + i);
        else found.positions.set(form, [offset + i]);
      }
    }
  }

  /** Counts a word's groups for the current document; adds the watchlists that now have them all. */
  private countGroups(info: WordInfo, document: number, candidates: number[]): void {
    for (const group of info.groups) {
      if (this.groupSeen[group] === document) continue;
      this.groupSeen[group] = document;
      const watchlist = this.groupWatchlist[group] ?? 0;
      if (this.watchlistSeen[watchlist] !== document) {
        this.watchlistSeen[watchlist] = document;
        this.groupsFound[watchlist] = 0;
      }
      const found = (this.groupsFound[watchlist] ?? 0) + 1;
      this.groupsFound[watchlist] = found;
      if (found === this.groupsNeeded[watchlist]) candidates.push(watchlist);
    }
  }

  /**
   * Every watchlist the item matches, in the order they were given. When nothing matches and
   * `present` is given, it receives the item's word forms some query asks about (for /why).
   */
  match(title: string, text = '', present?: string[]): WatchlistMatch[] {
    const found: DocumentWords = {
      number: (this.documents = (this.documents % 0xffffffff) + 1),
      candidates: [],
      prefixes: new Set(),
      positions: new Map(),
    };
    // The title's words first: `foldWords` reuses its buffers.
    const titleWords = foldWords(title);
    const titleLength = titleWords.count;
    this.indexWords(titleWords, 0, found);
    this.indexWords(foldWords(text), titleLength + FIELD_GAP, found);
    const { candidates, positions, prefixes } = found;
    if (candidates.length === 0) {
      if (present) notePresent(positions, present);
      return [];
    }
    const evaluation = new DocumentEvaluation(createIndex(positions, titleLength), prefixes);
    const matches: WatchlistMatch[] = [];
    for (const index of candidates.length > 1 ? Int32Array.from(candidates).sort() : candidates) {
      const watchlist = this.watchlists[index];
      if (!watchlist) continue;
      // A candidate has a term of every required part, so it mostly matches: its hits are
      // collected at once (for highlighting and summaries) rather than after a first test, and
      // the exclusions, which are what most often fail it, are tried first and cost the least.
      const result = evaluation.evaluate(watchlist.ast);
      if (result.ok) matches.push(evaluation.toMatch(watchlist.name, result.occurrences));
    }
    if (matches.length === 0 && present) notePresent(positions, present);
    return matches;
  }
}
