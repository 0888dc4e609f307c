// The watchlist query language. Users never write regular expressions, so matching stays
// linear (no ReDoS).
//
//   query   := or
//   or      := and ("OR" and)*
//   and     := near (["AND"] near)*
//   near    := unary ("NEAR" ["/" n] unary)*
//   unary   := "-" unary | "title:" primary | primary
//   primary := TERM | TERM* | "PHRASE" | @entity | "(" or ")"
//
// A term that is a spelling of a known entity (Almaty, Алматы, ألماتي …) matches all of its
// spellings; @almaty names the entity explicitly.

import { normalizeTokens } from '../text/normalize.js';
import type { EntityTable } from './entities.js';

export type Field = 'title';

/** A word or phrase: one normalised token per word; `prefix` applies to the last one. */
export interface TermNode {
  kind: 'term';
  /** how the term is reported in hits: as the user wrote it (or @entity) */
  label: string;
  tokens: string[];
  prefix: boolean;
  field: Field | null;
  position: number;
}
export interface NearNode {
  kind: 'near';
  distance: number;
  left: QueryNode;
  right: QueryNode;
}
export type QueryNode =
  | TermNode
  | NearNode
  | { kind: 'and'; children: QueryNode[] }
  | { kind: 'or'; children: QueryNode[] }
  | { kind: 'not'; child: QueryNode };

/** A query that does not parse; `position` is 1-based, counted in characters of the query. */
export class QueryError extends Error {
  constructor(
    readonly reason: string,
    readonly position: number,
  ) {
    super(`${reason} at position ${position}`);
    this.name = 'QueryError';
  }
}

export const DEFAULT_NEAR = 5;
/** How deep a query may nest: far beyond any watchlist a person writes, far below the stack's limit. */
export const MAX_NESTING = 64;

type Lexeme =
  | { type: 'word'; text: string; position: number }
  | { type: 'phrase'; text: string; position: number }
  | { type: 'entity'; name: string; position: number }
  | { type: 'near'; distance: number; position: number }
  | { type: 'field'; field: Field; position: number }
  | { type: '(' | ')' | 'OR' | 'AND' | '-' | 'end'; position: number };

function describe(lexeme: Lexeme): string {
  switch (lexeme.type) {
    case 'end':
      return 'end of query';
    case 'word':
      return `"${lexeme.text}"`;
    case 'phrase':
      return `"\\"${lexeme.text}\\""`;
    case 'entity':
      return `"@${lexeme.name}"`;
    case 'near':
      return '"NEAR"';
    case 'field':
      return `"${lexeme.field}:"`;
    default:
      return `"${lexeme.type}"`;
  }
}

const SPACE = /\s/u;
const WORD_STOP = /[\s()"«»“”]/u;
const QUOTES: Record<string, string> = { '"': '"', '“': '”', '«': '»', '”': '”' };

function lex(query: string): Lexeme[] {
  const chars = [...query]; // by code point, so positions count characters, not UTF-16 units
  const out: Lexeme[] = [];
  let i = 0;
  while (i < chars.length) {
    const ch = chars[i] ?? '';
    const position = i + 1;
    if (SPACE.test(ch)) {
      i++;
    } else if (ch === '(' || ch === ')') {
      out.push({ type: ch, position });
      i++;
    } else if (QUOTES[ch] !== undefined) {
      const close = QUOTES[ch];
      let j = i + 1;
      while (j < chars.length && chars[j] !== close && !(close === '"' && chars[j] === '”')) j++;
      if (j >= chars.length) throw new QueryError('unclosed quote', position);
      out.push({ type: 'phrase', text: chars.slice(i + 1, j).join(''), position });
      i = j + 1;
    } else if (ch === '-' && i + 1 < chars.length && !SPACE.test(chars[i + 1] ?? ' ')) {
      out.push({ type: '-', position });
      i++;
    } else {
      let j = i;
      while (j < chars.length && !WORD_STOP.test(chars[j] ?? ' ')) j++;
      const text = chars.slice(i, j).join('');
      const near = /^NEAR(?:\/(\d+))?$/u.exec(text);
      if (text.toLowerCase().startsWith('title:')) {
        out.push({ type: 'field', field: 'title', position });
        i += 'title:'.length;
        continue;
      }
      if (text === 'OR' || text === 'AND') out.push({ type: text, position });
      else if (near) out.push({ type: 'near', distance: near[1] !== undefined ? Number(near[1]) : DEFAULT_NEAR, position });
      else if (text.startsWith('@') && text.length > 1) out.push({ type: 'entity', name: text.slice(1).toLowerCase(), position });
      else out.push({ type: 'word', text, position });
      i = j;
    }
  }
  out.push({ type: 'end', position: chars.length + 1 });
  return out;
}

/** A term from text as written; a trailing * makes it a prefix. */
export function makeTerm(raw: string, position: number, quoted: boolean, label = raw): TermNode {
  let text = raw;
  let prefix = false;
  if (text.endsWith('*')) {
    prefix = true;
    text = text.slice(0, -1);
  }
  if (text.includes('*')) throw new QueryError('"*" may only end a term', position);
  const tokens = normalizeTokens(text);
  if (tokens.length === 0) {
    throw new QueryError(quoted ? 'empty phrase' : `term "${raw}" has no letters or digits`, position);
  }
  if (prefix && (tokens.at(-1)?.length ?? 0) < 2) {
    throw new QueryError('a prefix* needs at least 2 letters', position);
  }
  return { kind: 'term', label, tokens, prefix, field: null, position };
}

/** Positive terms and OR-groups of them: what NEAR can measure distances between. */
function isNearOperand(node: QueryNode): boolean {
  return node.kind === 'term' || (node.kind === 'or' && node.children.every(isNearOperand));
}

function withField(node: QueryNode, field: Field): QueryNode {
  switch (node.kind) {
    case 'term':
      return { ...node, field };
    case 'not':
      return { kind: 'not', child: withField(node.child, field) };
    case 'near':
      return { ...node, left: withField(node.left, field), right: withField(node.right, field) };
    default:
      return { kind: node.kind, children: node.children.map((c) => withField(c, field)) };
  }
}

class Parser {
  private index = 0;
  constructor(
    private readonly lexemes: Lexeme[],
    private readonly entities: EntityTable | null,
  ) {}

  private peek(): Lexeme {
    return this.lexemes[this.index] ?? { type: 'end', position: 0 };
  }

  private next(): Lexeme {
    const lexeme = this.peek();
    this.index++;
    return lexeme;
  }

  parse(): QueryNode {
    const node = this.or();
    const rest = this.peek();
    if (rest.type !== 'end') {
      throw new QueryError(
        rest.type === ')' ? 'unmatched ")"' : `expected OR, AND, NEAR or a term, found ${describe(rest)}`,
        rest.position,
      );
    }
    return node;
  }

  private or(): QueryNode {
    const children = [this.and()];
    while (this.peek().type === 'OR') {
      this.next();
      children.push(this.and());
    }
    return children.length === 1 ? (children[0] as QueryNode) : { kind: 'or', children };
  }

  private and(): QueryNode {
    const children = [this.near()];
    for (;;) {
      const type = this.peek().type;
      if (type === 'AND') {
        this.next();
        children.push(this.near());
      } else if (['word', 'phrase', 'entity', 'field', '(', '-'].includes(type)) {
        children.push(this.near());
      } else {
        break;
      }
    }
    return children.length === 1 ? (children[0] as QueryNode) : { kind: 'and', children };
  }

  private near(): QueryNode {
    let left = this.unary();
    for (;;) {
      const lexeme = this.peek();
      if (lexeme.type !== 'near') return left;
      this.next();
      const rightStart = this.peek().position;
      const right = this.unary();
      if (!isNearOperand(left)) throw new QueryError('NEAR needs a term, "phrase" or (… OR …) on its left', lexeme.position);
      if (!isNearOperand(right)) throw new QueryError('NEAR needs a term, "phrase" or (… OR …) on its right', rightStart);
      left = { kind: 'near', distance: lexeme.distance, left, right };
    }
  }

  private unary(): QueryNode {
    const lexeme = this.peek();
    if (lexeme.type === '-') {
      this.next();
      this.enter(lexeme.position);
      const child = this.unary();
      this.depth--;
      return { kind: 'not', child };
    }
    if (lexeme.type === 'field') {
      this.next();
      return withField(this.primary(), lexeme.field);
    }
    return this.primary();
  }

  /** A user's term: expanded to every spelling when it is a spelling of a known entity. */
  private term(raw: string, position: number, quoted: boolean): QueryNode {
    const term = makeTerm(raw, position, quoted);
    const entity = term.prefix ? undefined : this.entities?.byVariant.get(term.tokens.join(' '));
    return entity ? this.entity(entity, position, raw) : term;
  }

  private entity(name: string, position: number, label: string): QueryNode {
    const variants = this.entities?.variants.get(name);
    if (!variants) {
      const known = [...(this.entities?.variants.keys() ?? [])].slice(0, 12).join(', ');
      throw new QueryError(`unknown entity "@${name}"${known ? ` (known: ${known}, …)` : ''}`, position);
    }
    const children = variants.map((variant) => ({ ...variant, label, position }));
    return children.length === 1 ? (children[0] as TermNode) : { kind: 'or', children };
  }

  /** Parentheses and exclusions nest at most MAX_NESTING deep: the parser (and the matcher) recurse on them. */
  private depth = 0;
  private enter(position: number): void {
    if (++this.depth > MAX_NESTING) throw new QueryError(`parentheses or exclusions nested more than ${MAX_NESTING} deep`, position);
  }

  private primary(): QueryNode {
    const lexeme = this.next();
    switch (lexeme.type) {
      case 'word':
        return this.term(lexeme.text, lexeme.position, false);
      case 'phrase':
        return this.term(lexeme.text, lexeme.position, true);
      case 'entity':
        return this.entity(lexeme.name, lexeme.position, `@${lexeme.name}`);
      case '(': {
        this.enter(lexeme.position);
        const inner = this.or();
        this.depth--;
        const close = this.next();
        if (close.type !== ')') {
          throw new QueryError(`expected ")" to close the "(" at position ${lexeme.position}, found ${describe(close)}`, close.position);
        }
        return inner;
      }
      default:
        throw new QueryError(`expected a term, a "phrase", @entity or "(", found ${describe(lexeme)}`, lexeme.position);
    }
  }
}

/** True when some document could match: a query made only of exclusions would match almost everything. */
function hasPositivePath(node: QueryNode): boolean {
  switch (node.kind) {
    case 'term':
    case 'near':
      return true;
    case 'not':
      return false;
    case 'and':
      return node.children.some(hasPositivePath);
    case 'or':
      return node.children.every(hasPositivePath);
  }
}

/** Parses a watchlist query; throws QueryError naming the position of the first problem. */
export function parseQuery(query: string, entities: EntityTable | null = null): QueryNode {
  const node = new Parser(lex(query), entities).parse();
  if (!hasPositivePath(node)) {
    throw new QueryError('a query needs at least one term that is not excluded', 1);
  }
  return node;
}

/**
 * The query's terms. Without `excluded`, only those a matching document must contain some of
 * (the ones not under an exclusion).
 */
export function queryTerms(node: QueryNode, options: { excluded: boolean }, into: TermNode[] = []): TermNode[] {
  switch (node.kind) {
    case 'term':
      into.push(node);
      break;
    case 'not':
      if (options.excluded) queryTerms(node.child, options, into);
      break;
    case 'near':
      queryTerms(node.left, options, into);
      queryTerms(node.right, options, into);
      break;
    default:
      for (const child of node.children) queryTerms(child, options, into);
  }
  return into;
}

/** Renders a parsed query back as text with explicit operators, for `explain` and logs. */
export function formatQuery(node: QueryNode): string {
  switch (node.kind) {
    case 'term': {
      const body = node.tokens.join(' ') + (node.prefix ? '*' : '');
      const text = node.tokens.length > 1 ? `"${body}"` : body;
      return node.field ? `${node.field}:${text}` : text;
    }
    case 'near':
      return `(${formatQuery(node.left)} NEAR/${node.distance} ${formatQuery(node.right)})`;
    case 'not':
      return `-${formatQuery(node.child)}`;
    case 'and':
      return `(${node.children.map(formatQuery).join(' AND ')})`;
    case 'or':
      return `(${node.children.map(formatQuery).join(' OR ')})`;
  }
}
