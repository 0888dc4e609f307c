import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadPresets } from '../../src/config/load.js';
import { indexDocument } from '../../src/match/document.js';
import { compileWatchlist, matchWatchlist, type Watchlist } from '../../src/match/matcher.js';

const SEED = readFileSync(new URL('../fixtures/seed-almaty-ar.txt', import.meta.url), 'utf8');
const preset = loadPresets().get('kazakhstan-unrest') as Watchlist;

function matches(watchlist: Watchlist, title: string, text = ''): boolean {
  return matchWatchlist(watchlist, indexDocument(title, text)) !== null;
}

describe('the kazakhstan-unrest preset', () => {
  it('matches the seed article, hitting both spellings of Almaty', () => {
    const match = matchWatchlist(preset, indexDocument('', SEED));
    expect(match).not.toBeNull();
    expect(match?.terms).toEqual(expect.arrayContaining(['@almaty', '@kazakhstan', 'انفجارات', 'احتجاجات']));
    // Both spellings of the city are highlighted: ألماتي and ألما آتا.
    const almaty = new Set(match?.hits.filter((h) => h.term === '@almaty').map((h) => h.forms.join(' ')));
    expect(almaty).toEqual(new Set(['الماتي', 'الما اتا']));
  });

  it.each([
    ['ar', 'قوات منظمة معاهدة الأمن الجماعي تسيطر على مطار ألماتي'],
    ['ar', 'والاحتجاجات تتواصل في كازاخستان'],
    ['ru', 'В Алматы начались беспорядки'],
    ['ru', 'Токаев ввёл режим ЧП в Мангистауской области'],
    ['kk', 'Жаңаөзенде наразылық акциясы жалғасуда'],
    ['kk', 'Алматыда төтенше жағдай жарияланды'],
    ['en', 'CSTO peacekeepers arrive in Kazakhstan'],
    ['en', 'State of emergency declared in Alma-Ata'],
  ])('matches unrest in Kazakhstan (%s): %s', (_lang, title) => {
    expect(matches(preset, title)).toBe(true);
  });

  it.each([
    ['a football match in Almaty', 'Kairat beat Astana in a football match in Almaty; fans stormed the pitch'],
    ['a protest in Paris', 'Thousands protest in Paris; police arrest dozens'],
    ['Almaty apples', 'Almaty apples return to the markets'],
    ['football in Arabic', 'كايرات ألماتي يفوز في مباراة كرة القدم ويقتحم الصدارة'],
    ['Russian football', 'Футбол: «Кайрат» и «Астана» сыграли вничью, болельщики задержаны'],
    ['a protest in Paris, in Russian', 'Протест в Париже против пенсионной реформы'],
  ])('does not match %s', (_what, title) => {
    expect(matches(preset, title)).toBe(false);
  });
});

describe('hand-written queries', () => {
  it('phrases need their words in order and adjacent', () => {
    const q = compileWatchlist('q', '"state of emergency"');
    expect(matches(q, 'A state of emergency was declared')).toBe(true);
    expect(matches(q, 'The emergency state of the road')).toBe(false);
  });

  it('a phrase does not run from the title into the body', () => {
    const q = compileWatchlist('q', '"almaty protest"');
    expect(matches(q, 'News from Almaty', 'Protest planned')).toBe(false);
    expect(matches(q, 'Almaty protest planned')).toBe(true);
  });

  it('prefix* matches word beginnings only', () => {
    const q = compileWatchlist('q', 'протест*');
    expect(matches(q, 'протестующие вышли')).toBe(true);
    expect(matches(q, 'антипротест')).toBe(false);
  });

  it('an Arabic term finds its clitic and plural forms but not a longer word it is the start of', () => {
    const q = compileWatchlist('q', 'احتجاج');
    expect(matches(q, 'والاحتجاجات مستمرة')).toBe(true);
    expect(matches(q, 'بالاحتجاج')).toBe(true);
    expect(matches(q, 'احتجاجيون')).toBe(false);
  });

  it('a name that looks like it has a clitic is not shrunk to another word', () => {
    const almaty = compileWatchlist('q', 'ألماتي');
    expect(matches(almaty, 'مات الرجل')).toBe(false); // «مات»: died
  });

  it('Latin words match whole, not inside longer words', () => {
    const q = compileWatchlist('q', 'riot');
    expect(matches(q, 'Patriots win')).toBe(false);
    expect(matches(q, 'A riot broke out')).toBe(true);
  });

  it('exclusions veto a match', () => {
    const q = compileWatchlist('q', 'almaty -football');
    expect(matches(q, 'Almaty news')).toBe(true);
    expect(matches(q, 'Almaty football news')).toBe(false);
  });
});
