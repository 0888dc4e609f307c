// NEAR, title:, @entity and entity expansion, and the compiled Matcher over many watchlists.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadEntities } from '../../src/config/load.js';
import { indexDocument } from '../../src/match/document.js';
import { compileWatchlist, Matcher, matchWatchlist } from '../../src/match/matcher.js';
import { formatQuery, parseQuery, QueryError } from '../../src/match/query.js';
import { normalizeText, normalizeTokens, tokenize } from '../../src/text/normalize.js';

const entities = loadEntities();
const q = (query: string) => compileWatchlist('q', query, entities);
const hits = (query: string, title: string, text = '') => matchWatchlist(q(query), indexDocument(title, text));
const matches = (query: string, title: string, text = '') => hits(query, title, text) !== null;

describe('NEAR/n', () => {
  it('needs both terms within n words of each other, in either order', () => {
    expect(matches('almaty NEAR/3 protest*', 'Protesters gathered in central Almaty')).toBe(true);
    expect(matches('almaty NEAR/1 protest*', 'Protesters gathered in central Almaty')).toBe(false);
    expect(matches('almaty NEAR protest*', 'Almaty: thousands of people join the protest')).toBe(true); // default 5
    expect(matches('"state of emergency" NEAR/2 (almaty OR astana)', 'State of emergency declared in Astana')).toBe(true);
  });

  it('refuses what it cannot measure, naming the position', () => {
    expect(() => parseQuery('almaty NEAR/3 -protest')).toThrow(new QueryError('NEAR needs a term, "phrase" or (… OR …) on its right', 15));
  });
});

describe('title:', () => {
  it('restricts a term, phrase or group to the title', () => {
    expect(matches('title:almaty', 'News', 'Almaty protest')).toBe(false);
    expect(matches('title:almaty', 'Almaty news', '')).toBe(true);
    expect(matches('title:(explosion OR blast) almaty', 'Blast heard', 'in Almaty today')).toBe(true);
    expect(formatQuery(parseQuery('title:"alma ata"'))).toBe('title:"alma ata"');
  });
});

describe('entities', () => {
  it('a term that names an entity finds every spelling of it', () => {
    for (const spelling of ['Almaty', 'Alma-Ata', 'Алматы', 'Алматыда', 'ألماتي', 'ألما آتا', 'في ألما أتا']) {
      expect(matches('almaty', `${spelling}`)).toBe(true);
    }
    expect(matches('Алматы', 'Protest in Almaty')).toBe(true);
    expect(matches('@csto', 'قوات منظمة معاهدة الأمن الجماعي تصل')).toBe(true);
    expect(matches('@csto', 'Войска ОДКБ прибыли')).toBe(true);
    expect(matches('токаев', 'Тоқаевтың жарлығы')).toBe(true);
  });

  it('reports hits under the term the user wrote, with where they are', () => {
    const match = hits('almaty protest*', 'Протест в Алматы', 'Protesters in Alma-Ata.');
    expect(match?.terms.sort()).toEqual(['almaty', 'protest*']);
    expect(match?.hits.map((h) => [h.term, h.field, h.index, h.length])).toEqual([
      ['almaty', 'title', 2, 1],
      ['protest*', 'text', 0, 1],
      ['almaty', 'text', 2, 2],
    ]);
  });

  it('says which entity is unknown', () => {
    expect(() => parseQuery('@atlantis', entities)).toThrow(/unknown entity "@atlantis" \(known: almaty/u);
  });

  it('lets a config add its own entities', () => {
    const own = loadEntities({ zhezkazgan: ['Zhezkazgan', 'Жезказган*', 'Жезқазған*', 'جيزكازغان'] });
    const watchlist = compileWatchlist('own', 'zhezkazgan', own);
    expect(matchWatchlist(watchlist, indexDocument('Митинг в Жезказгане'))).not.toBeNull();
  });
});

describe('prefix terms', () => {
  it('match when they are the first thing asked of a fresh document', () => {
    expect(matches('жанаозен*', 'Жаңаөзенде наразылық')).toBe(true);
    expect(matchWatchlist(q('протест*'), indexDocument('Протестующие вышли'))).not.toBeNull();
  });
});

describe('numbers joined to words', () => {
  it('are separate tokens', () => {
    expect(normalizeTokens('3انفجارات و2500جندي covid19')).toEqual(['3', 'انفجارات', 'و', '2500', 'جندي', 'covid', '19']);
    expect(matches('انفجارات', 'سماع دوي 3انفجارات')).toBe(true);
  });
});

describe('the compiled Matcher', () => {
  it('gives the same answers as matching each watchlist alone', () => {
    const queries = ['almaty protest*', '@csto', 'title:взрыв*', '"state of emergency" -football', 'астана NEAR/2 митинг*', 'kazakhstan OR tenge'];
    const watchlists = queries.map((query, i) => compileWatchlist(`w${i}`, query, entities));
    const matcher = new Matcher(watchlists);
    const docs = [
      ['Protest in Almaty', ''],
      ['Взрыв в Астане', 'Митинг в Астане разогнан'],
      ['CSTO troops', 'State of emergency in Kazakhstan'],
      ['Football', 'state of emergency on the pitch: football'],
      ['Tenge steady', ''],
    ];
    for (const [title, text] of docs) {
      const doc = indexDocument(title ?? '', text ?? '');
      const alone = watchlists.filter((w) => matchWatchlist(w, doc) !== null).map((w) => w.name);
      expect(matcher.match(title ?? '', text ?? '').map((m) => m.watchlist)).toEqual(alone);
    }
  });
});

describe('properties', () => {
  it('the compiled Matcher finds what matching each watchlist alone finds, hits included', () => {
    // A small vocabulary, so random queries and texts meet often: clitics, prefixes, phrases, entities.
    const words = ['almaty', 'алматы', 'митинг', 'митингующие', 'احتجاج', 'والاحتجاجات', 'protest', 'protesters', 'football', 'csto', 'tenge'];
    const word = fc.constantFrom(...words);
    // NEAR measures between words, phrases and ORs of them, so it gets those.
    const atom = fc.oneof(word, word.map((w) => `${w.slice(0, 4)}*`), fc.tuple(word, word).map(([a, b]) => `"${a} ${b}"`));
    const query = fc.letrec<{ q: string }>((tie) => ({
      q: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        atom,
        word.map((w) => `title:${w}`),
        fc.constant('@almaty'),
        fc.tuple(atom, atom, fc.integer({ min: 0, max: 3 })).map(([a, b, n]) => `(${a} NEAR/${n} ${b})`),
        fc.tuple(tie('q'), tie('q')).map(([a, b]) => `(${a} ${b})`),
        fc.tuple(tie('q'), tie('q')).map(([a, b]) => `(${a} OR ${b})`),
        fc.tuple(tie('q'), tie('q')).map(([a, b]) => `(${a} -${b})`),
      ),
    })).q;
    const text = fc.array(fc.oneof(word, fc.constantFrom('в', 'في', 'the', '.')), { maxLength: 12 }).map((ws) => ws.join(' '));
    fc.assert(
      fc.property(fc.array(query, { minLength: 1, maxLength: 6 }), text, text, (queries, title, body) => {
        const watchlists = queries.map((q, i) => compileWatchlist(`w${i}`, q, entities));
        const doc = indexDocument(title, body);
        const alone = watchlists.map((w) => matchWatchlist(w, doc)).filter((m) => m !== null);
        const together = new Matcher(watchlists).match(title, body);
        expect(together.map((m) => [m.watchlist, m.terms, m.hits])).toEqual(alone.map((m) => [m.watchlist, m.terms, m.hits]));
      }),
      { numRuns: 500 },
    );
  });


  const word = fc.stringMatching(/^[a-zа-яёәғқңөұүһіء-ي]{2,12}$/u);
  const filler = fc.array(fc.oneof(word, fc.constantFrom('.', ',', '،', '؟', '!', ' ', '\n', '«', '»')), { maxLength: 20 });

  it('normalisation is idempotent', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => normalizeText(normalizeText(text)) === normalizeText(text)));
  });

  it('the one-pass tokenizer gives the same tokens as normalising, then splitting', () => {
    // Characters where the two could part: folds, dropped marks, digits, Latin marks, astral letters.
    const tricky = fc.constantFrom(...'\u0654\u0653\u0655\u064e\u0651هۀەے가\u0308aZé\u0301\u0303q3٣²ـًّأإآةىؤئکیЁёҚқӘәІйЙ -،؟.\u200f𝐀😀𠀀ﻻﬁ'.match(/./gsu) ?? []);
    const text = fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), fc.array(tricky, { maxLength: 60 }).map((chars) => chars.join('')));
    fc.assert(fc.property(text, (input) => {
        expect(normalizeTokens(input)).toEqual(tokenize(normalizeText(input)));
      }), { numRuns: 2000 });
  });

  it('a term always matches itself inside any surrounding text', () => {
    fc.assert(
      fc.property(word, filler, filler, (term, before, after) => {
        const text = `${before.join(' ')} ${term} ${after.join(' ')}`;
        return matchWatchlist(compileWatchlist('p', term), indexDocument('', text)) !== null;
      }),
    );
  });
});
