import { describe, expect, it } from 'vitest';
import { formatQuery, parseQuery, QueryError } from '../../src/match/query.js';

function errorOf(query: string): QueryError {
  try {
    parseQuery(query);
  } catch (error) {
    if (error instanceof QueryError) return error;
    throw error;
  }
  throw new Error(`"${query}" parsed`);
}

describe('parseQuery', () => {
  it('reads terms, phrases, prefixes, OR, implicit and explicit AND, exclusions and groups', () => {
    expect(formatQuery(parseQuery('almaty AND (protest* OR "state of emergency") -football'))).toBe(
      '(almaty AND (protest* OR "state of emergency") AND -football)',
    );
    expect(formatQuery(parseQuery('almaty protest'))).toBe('(almaty AND protest)');
    expect(formatQuery(parseQuery('a OR b c'))).toBe('(a OR (b AND c))');
  });

  it('normalises terms like text and turns hyphenated names into phrases', () => {
    expect(formatQuery(parseQuery('Alma-Ata'))).toBe('"alma ata"');
    expect(formatQuery(parseQuery('«ألما آتا»'))).toBe('"الما اتا"');
    expect(formatQuery(parseQuery('Тоқаев*'))).toBe('токаев*');
  });

  it('names the position of what is wrong', () => {
    expect(errorOf('almaty AND (protest').message).toBe('expected ")" to close the "(" at position 12, found end of query at position 20');
    expect(errorOf('almaty )').position).toBe(8);
    expect(errorOf('almaty OR').message).toBe('expected a term, a "phrase", @entity or "(", found end of query at position 10');
    expect(errorOf('"state of').message).toBe('unclosed quote at position 1');
    expect(errorOf('al*ma').message).toBe('"*" may only end a term at position 1');
    expect(errorOf('a*').message).toBe('a prefix* needs at least 2 letters at position 1');
    expect(errorOf('-football').message).toBe('a query needs at least one term that is not excluded at position 1');
    expect(errorOf('').message).toBe('expected a term, a "phrase", @entity or "(", found end of query at position 1');
  });

  it('refuses a query nested deeper than 64 with a clear error, not a stack overflow', () => {
    const deep = `${'('.repeat(5_000)}almaty${')'.repeat(5_000)}`;
    expect(errorOf(deep)).toMatchObject({ reason: 'parentheses or exclusions nested more than 64 deep', position: 65 });
    expect(errorOf(`${'-'.repeat(5_000)}almaty`).reason).toBe('parentheses or exclusions nested more than 64 deep');
    expect(() => parseQuery(`${'('.repeat(64)}almaty${')'.repeat(64)}`)).not.toThrow();
  });

  it('counts positions in characters, not UTF-16 units', () => {
    expect(errorOf('😀x )').position).toBe(4);
  });
});
