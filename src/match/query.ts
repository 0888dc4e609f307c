// The watchlist query language: terms, "phrases", prefix*, OR, AND (also implicit), -exclusion
// and parentheses. Users never write regular expressions, so matching stays linear (no ReDoS).
//
//   query   := or
//   or      := and ("OR" and)*
//   and     := unary (["AND"] unary)*
//   unary   := "-" unary | primary
//   primary := TERM | "PHRASE" | "(" or ")"

import { normalizeTokens } from '../text/normalize.js';

/** A term or phrase: one normalised token per word; `prefix` applies to the last one. */
export interface TermNode {
  kind: 'term';
  raw: string;
  tokens: string[];
  prefix: boolean;
  position: number;
}
export type QueryNode =
  | TermNode
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

type Lexeme =
  | { type: 'word'; text: string; position: number }
  | { type: 'phrase'; text: string; position: number }
  | { type: '(' | ')' | 'OR' | 'AND' | '-' | 'end'; position: number };

function describe(lexeme: Lexeme): string {
  switch (lexeme.type) {
    case 'end':
      return 'end of query';
    case 'word':
      return `"${lexeme.text}"`;
    case 'phrase':
      return `"\\"${lexeme.text}\\""`;
    default:
      return `"${lexeme.type}"`;
  }
}

const SPACE = /\s/u;
const WORD_STOP = /[\s()"]/u;

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
    } else if (ch === '"' || ch === '“' || ch === '”' || ch === '«' || ch === '»') {
      const close = ch === '«' ? '»' : ch === '“' ? '”' : ch;
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
      if (text === 'OR' || text === 'AND') out.push({ type: text, position });
      else out.push({ type: 'word', text, position });
      i = j;
    }
  }
  out.push({ type: 'end', position: chars.length + 1 });
  return out;
}

function makeTerm(raw: string, position: number, quoted: boolean): TermNode {
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
  return { kind: 'term', raw, tokens, prefix, position };
}

class Parser {
  private index = 0;
  constructor(private readonly lexemes: Lexeme[]) {}

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
        rest.type === ')' ? 'unmatched ")"' : `expected OR, AND or a term, found ${describe(rest)}`,
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
    const children = [this.unary()];
    for (;;) {
      const lexeme = this.peek();
      if (lexeme.type === 'AND') {
        this.next();
        children.push(this.unary());
      } else if (lexeme.type === 'word' || lexeme.type === 'phrase' || lexeme.type === '(' || lexeme.type === '-') {
        children.push(this.unary());
      } else {
        break;
      }
    }
    return children.length === 1 ? (children[0] as QueryNode) : { kind: 'and', children };
  }

  private unary(): QueryNode {
    if (this.peek().type === '-') {
      this.next();
      return { kind: 'not', child: this.unary() };
    }
    return this.primary();
  }

  private primary(): QueryNode {
    const lexeme = this.next();
    switch (lexeme.type) {
      case 'word':
        return makeTerm(lexeme.text, lexeme.position, false);
      case 'phrase':
        return makeTerm(lexeme.text, lexeme.position, true);
      case '(': {
        const inner = this.or();
        const close = this.next();
        if (close.type !== ')') {
          throw new QueryError(`expected ")" to close the "(" at position ${lexeme.position}, found ${describe(close)}`, close.position);
        }
        return inner;
      }
      default:
        throw new QueryError(`expected a term, a "phrase" or "(", found ${describe(lexeme)}`, lexeme.position);
    }
  }
}

/** True when some document could match: a query made only of exclusions would match almost everything. */
function hasPositivePath(node: QueryNode): boolean {
  switch (node.kind) {
    case 'term':
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
export function parseQuery(query: string): QueryNode {
  const node = new Parser(lex(query)).parse();
  if (!hasPositivePath(node)) {
    throw new QueryError('a query needs at least one term that is not excluded', 1);
  }
  return node;
}

/** Renders a parsed query back as text with explicit operators, for `explain` and logs. */
export function formatQuery(node: QueryNode): string {
  switch (node.kind) {
    case 'term': {
      const body = node.tokens.join(' ') + (node.prefix ? '*' : '');
      return node.tokens.length > 1 ? `"${body}"` : body;
    }
    case 'not':
      return `-${formatQuery(node.child)}`;
    case 'and':
      return `(${node.children.map(formatQuery).join(' AND ')})`;
    case 'or':
      return `(${node.children.map(formatQuery).join(' OR ')})`;
  }
}
