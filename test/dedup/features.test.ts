// The language-free features of a report (names, kinds of event, numbers, dates) and how they
// decide that reports in different languages are one story.

import { describe, expect, it } from 'vitest';
import { ConfigError, loadEntities, loadEvents, parseConfig } from '../../src/config/load.js';
import { datesIn, FeatureFinder, featureList, normalizeNumbers, plainFeature, TITLE_MARK } from '../../src/dedup/features.js';
import { fingerprint } from '../../src/dedup/fingerprint.js';
import { ReportIndex } from '../../src/dedup/report-index.js';
import {
  crossLanguageStories,
  DEFAULT_STORY_RULES,
  featureSimilarity,
  featureWeight,
  findStory,
  type FeatureStats,
  type StoryVerdict,
} from '../../src/dedup/story.js';
import { normalizeTokens } from '../../src/text/normalize.js';

const finder = new FeatureFinder(loadEntities(), loadEvents());

/** A report's features as the store keeps them (title features marked). */
const marked = (title: string, text = '', using: FeatureFinder = finder) => fingerprint(title, text, using).features;
/** A report's features without the title marks. */
const features = (title: string, text = '', using: FeatureFinder = finder) => marked(title, text, using).map(plainFeature);

describe('numbers', () => {
  it.each([
    ['2,500', 'comma'],
    ['2 500', 'space'],
    ['2\u00A0500', 'no-break space'],
    ['2\u202F500', 'narrow no-break space'],
    ['2500', 'no separator'],
    ['٢٥٠٠', 'Arabic-Indic digits'],
    ['۲۵۰۰', 'Persian digits'],
    ['٢٬٥٠٠', 'Arabic-Indic digits with the Arabic thousands separator'],
  ])('%s (%s) is the number 2500', (written) => {
    expect(normalizeNumbers(written)).toBe('2500');
    const found = features(`${written} people evacuated`);
    expect(found).toContain('n:2500');
    expect(found).not.toContain('n:2');
    expect(found).not.toContain('n:500');
  });

  it('reads several thousands groups as one number', () => {
    expect(normalizeNumbers('1,234,567 votes')).toBe('1234567 votes');
    expect(features('1,234,567 votes')).toContain('n:1234567');
  });

  it('keeps a list written with a comma and a space as two numbers', () => {
    expect(normalizeNumbers('8, 317')).toBe('8, 317');
    const found = features('Toll rises', 'Officials counted 8, 317 and 40 in three regions.');
    expect(found).toEqual(expect.arrayContaining(['n:8', 'n:317', 'n:40']));
    expect(found).not.toContain('n:8317');
  });

  it('does not take a decimal for a thousands group', () => {
    expect(normalizeNumbers('a magnitude 3.5 tremor')).toBe('a magnitude 3.5 tremor');
    const found = features('Magnitude 3.5 tremor felt in Almaty');
    expect(found).not.toContain('n:3500');
    expect(found).not.toContain('n:35');
  });

  it('leaves text without digits as it is', () => {
    const text = 'No numbers here, only words.';
    expect(normalizeNumbers(text)).toBe(text);
  });

  it('keeps a year as a number, but a year is not a telling one', () => {
    expect(features('Unrest of January 2022 remembered')).toContain('n:2022');
    const stats: FeatureStats = { reports: 100, count: () => 5 };
    expect(featureWeight('n:2022', stats)).toBeLessThan(featureWeight('n:225', stats));
    // Sharing a city and a year is not sharing a story; sharing a city and a toll is.
    expect(featureSimilarity(['@almaty', 'n:2022'], ['@almaty', 'n:2022'], stats)).toBe(0);
    expect(featureSimilarity(['@almaty', 'n:225'], ['@almaty', 'n:225'], stats)).toBeGreaterThan(0);
  });
});

describe('dates', () => {
  it.each([
    ['Curfew extended until 19 January'],
    ['Curfew extended until January 19'],
    ['Curfew extended until Jan. 19'],
    ['Комендантский час продлён до 19 января'],
    ['Коменданттық сағат 19 қаңтарда аяқталады'],
    ['تمديد حظر التجول حتى 19 يناير'],
    ['تمديد حظر التجول حتى 19 كانون الثاني'],
  ])('«%s» names 01-19, and 19 is not also a count', (text) => {
    const found = features(text);
    expect(found).toContain('d:01-19');
    expect(found).toContain('#curfew');
    expect(found).not.toContain('n:19');
  });

  it('finds dates in normalised tokens, on either side of the month', () => {
    expect(datesIn(normalizeTokens('до 19 января'))).toEqual(['01-19']);
    expect(datesIn(normalizeTokens('on January 5, 2022'))).toEqual(['01-05']);
    expect(datesIn(normalizeTokens('19 كانون الثاني'))).toEqual(['01-19']);
    expect(datesIn(normalizeTokens('19 people, 40 days'))).toEqual([]);
    expect(datesIn(normalizeTokens('32 January'))).toEqual([]);
  });

  it('drops only the day of a date from the numbers, not the other counts', () => {
    const found = features('Curfew in Almaty until 19 January', '164 people were detained.');
    expect(found).toEqual(expect.arrayContaining(['d:01-19', 'n:164']));
    expect(found).not.toContain('n:19');
  });
});

describe('events and entities across languages', () => {
  it.each([
    ['#explosion', 'Explosion heard in the city centre'],
    ['#explosion', 'Звук взрыва слышали в центре города'],
    ['#explosion', 'Взрывы прогремели ночью'],
    ['#explosion', 'Новый взрыв в центре'],
    ['#explosion', 'انفجار في وسط المدينة'],
    ['#explosion', 'والانفجار وقع ليلا'],
    ['#explosion', 'Қала орталығында жарылыс болды'],
    ['#explosion', 'Жарылыстан кейін адамдар қашты'],
    ['#curfew', 'Curfew imposed'],
    ['#curfew', 'Введён комендантский час'],
    ['#curfew', 'Коменданттық сағат енгізілді'],
    ['#curfew', 'فرض حظر التجول'],
    ['#emergency', 'State of emergency declared'],
    ['#emergency', 'Введён режим ЧП'],
    ['#emergency', 'Төтенше жағдай енгізілді'],
    ['#emergency', 'إعلان حالة الطوارئ'],
    ['@almaty', 'Protest in Almaty'],
    ['@almaty', 'Протест в Алматы'],
    ['@almaty', 'Алматыда наразылық'],
    ['@almaty', 'احتجاج في ألماتي'],
  ])('%s in «%s»', (feature, text) => {
    expect(features(text)).toContain(feature);
  });

  it('does not find an event that is not named', () => {
    expect(features('Tokayev meets Putin', 'The two leaders held talks in Moscow.')).not.toContain('#explosion');
  });

  it('marks the features the title carries, and only those', () => {
    const found = marked('Explosion in Almaty kills three', 'An official said on 5 January that 164 people were hurt.');
    expect(found).toEqual(expect.arrayContaining([`${TITLE_MARK}@almaty`, `${TITLE_MARK}#explosion`, 'n:164', 'd:01-05']));
    expect(found).not.toContain(`${TITLE_MARK}n:164`);
    expect(found).not.toContain(`${TITLE_MARK}d:01-05`);
    expect(marked('Kazakhstan says 225 dead')).toContain(`${TITLE_MARK}n:225`);
    expect(finder.find('Explosion in Almaty', 'Curfew until 19 January').inTitle).toEqual(new Set(['@almaty', '#explosion']));
  });

  it('lists features tagged, title ones marked, and strips the mark', () => {
    const list = featureList({ entities: ['almaty'], events: ['fire'], numbers: ['3'], dates: ['01-05'], inTitle: new Set(['#fire']) });
    expect(list).toEqual(['@almaty', `${TITLE_MARK}#fire`, 'n:3', 'd:01-05']);
    expect(list.map(plainFeature)).toEqual(['@almaty', '#fire', 'n:3', 'd:01-05']);
    expect(plainFeature('#fire')).toBe('#fire');
  });
});

describe('events a config adds', () => {
  const FILE = 'test.yaml';
  const MINIMAL = 'feeds:\n  - url: https://example.test/rss\n';

  it("extends the bundled events with the config's own", () => {
    const config = parseConfig(`${MINIMAL}events:\n  blackout: [power cut, отключение света]\n`, FILE, {});
    const own = new FeatureFinder(config.entities, config.events);
    expect(features('Power cut in Almaty', '', own)).toEqual(expect.arrayContaining(['@almaty', '#blackout']));
    expect(features('В Алматы отключение света', '', own)).toContain('#blackout');
    expect(features('Explosion in Almaty', '', own)).toContain('#explosion'); // the bundled ones stay
    expect(features('Power cut in Almaty')).not.toContain('#blackout'); // the bundled table alone does not know it
  });

  it('reports an events entry without words as a config error naming it', () => {
    let caught: unknown;
    try {
      parseConfig(`${MINIMAL}events:\n  blackout: []\n`, FILE, {});
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const problems = (caught as ConfigError).problems;
    expect(problems.map((p) => p.path)).toEqual(['events.blackout']);
    expect((caught as ConfigError).message).toMatch(/^test\.yaml: events\.blackout: /u);
  });
});

describe('featureSimilarity', () => {
  // A day of news from Almaty: nearly every report names the city, two name the airport.
  const counts: Record<string, number> = { '@almaty': 90, '#airport': 2 };
  const stats: FeatureStats = { reports: 100, count: (feature) => counts[feature] ?? 10 };

  it('weighs a rare shared feature more than a common one', () => {
    expect(featureWeight('#airport', stats)).toBeGreaterThan(featureWeight('@almaty', stats));
    const probe = ['@almaty', '#airport', '#protest'];
    const sharesRare = featureSimilarity(probe, ['@almaty', '#airport'], stats);
    const sharesCommon = featureSimilarity(probe, ['@almaty', '#protest'], stats);
    expect(sharesRare).toBeGreaterThan(sharesCommon);
    expect(sharesCommon).toBeGreaterThan(0);
  });

  it('is 0 when nothing but a city is shared (no event or count)', () => {
    expect(featureSimilarity(['@almaty', '#fire'], ['@almaty', '#flood'], stats)).toBe(0);
    expect(featureSimilarity([`${TITLE_MARK}@almaty`, '#fire'], [`${TITLE_MARK}@almaty`, '#flood'], stats)).toBe(0);
    expect(featureSimilarity(['@almaty', 'n:3'], ['@almaty', 'n:3'], stats)).toBe(0); // a small number tells nothing
  });

  it('is 0 for two places that differ, whatever else is shared', () => {
    expect(featureSimilarity(['@almaty', '#curfew', 'd:01-05'], ['@astana', '#curfew', 'd:01-05'], stats)).toBe(0);
    expect(featureSimilarity(['@almaty', '#curfew', 'd:01-05'], ['@almaty', '#curfew', 'd:01-05'], stats)).toBe(1);
  });
});

interface Report {
  lang: string;
  title: string;
  text: string;
}

const T0 = Date.UTC(2022, 0, 5, 6);
const WINDOW = 72 * 3600_000;

// Other news of the same days, so that the rarity of features is that of a news day.
const NEWS_DAY: Report[] = [
  { lang: 'en', title: 'Protesters rally in Almaty over fuel prices', text: 'Thousands gathered in the main square on Tuesday.' },
  { lang: 'en', title: 'Tokayev meets Putin in Moscow', text: 'The two leaders held talks on trade.' },
  { lang: 'ru', title: 'В Астане прошёл митинг', text: 'Сотни человек вышли на площадь.' },
  { lang: 'kk', title: 'Алматыда наразылық жалғасып жатыр', text: 'Жүздеген адам алаңға жиналды.' },
];

/**
 * Records `stored` (each its own story, numbered from 1, a minute apart) in a ReportIndex, then
 * asks which story `probe` belongs to, with candidates built as the pipeline builds them.
 */
function decide(stored: readonly Report[], probe: Report): { verdict: StoryVerdict | null; stories: StoryVerdict[] } {
  const index = new ReportIndex();
  stored.forEach((report, i) => {
    const print = fingerprint(report.title, report.text, finder);
    index.add({
      storyId: i + 1,
      at: T0 + i * 60_000,
      language: report.lang,
      signature: print.signature,
      bands: print.bands,
      termHashes: print.termHashes,
      entities: print.entities,
      numbers: print.numbers,
      features: print.features,
    });
  });
  const print = fingerprint(probe.title, probe.text, finder);
  const now = T0 + 30 * 60_000;
  const since = now - WINDOW;
  const candidates = {
    similar: index.similar(print.signature, print.bands, print.termHashes, since, DEFAULT_STORY_RULES.threshold),
    withFeatures: index.withFeatures(print.features, since, 64, print.termHashes),
    stats: { reports: index.countSince(since), count: (feature: string) => index.featureCount(feature, since) },
  };
  const asked = { fingerprint: print, language: probe.lang };
  return { verdict: findStory(asked, candidates, now, DEFAULT_STORY_RULES), stories: crossLanguageStories(asked, candidates, now, DEFAULT_STORY_RULES) };
}

const storyOf = (stored: readonly Report[]) => stored.length; // the last stored report's story

describe('findStory across languages', () => {
  it('folds a Russian report of the government resignation into the English one', () => {
    const stored = [
      ...NEWS_DAY,
      {
        lang: 'en',
        title: 'Kazakh government resigns after fuel price protests',
        text: "Kazakhstan's President Tokayev accepted the government's resignation on Wednesday after protests over a fuel price increase.",
      },
    ];
    const { verdict } = decide(stored, {
      lang: 'ru',
      title: 'Токаев принял отставку правительства Казахстана',
      text: 'Президент Казахстана Касым-Жомарт Токаев принял отставку правительства на фоне протестов из-за цен на топливо.',
    });
    expect(verdict).toMatchObject({ storyId: storyOf(stored), how: 'cross-language' });
    expect(verdict?.score).toBeGreaterThanOrEqual(DEFAULT_STORY_RULES.crossLanguageScore);
  });

  it('folds a Russian report of a toll of 225 into the English one', () => {
    const stored = [
      ...NEWS_DAY,
      { lang: 'en', title: 'Kazakhstan says 225 dead in unrest', text: 'Officials said 225 people were killed during the January unrest.' },
    ];
    const { verdict } = decide(stored, {
      lang: 'ru',
      title: 'В Казахстане погибли 225 человек',
      text: 'Генпрокуратура сообщила, что в ходе беспорядков погибли 225 человек.',
    });
    expect(verdict).toMatchObject({ storyId: storyOf(stored), how: 'cross-language' });
  });

  const mayorsOffice: Report = { lang: 'en', title: "Almaty mayor's office set on fire", text: "Protesters set fire to the mayor's office in Almaty." };

  it("does not fold a fire at the presidential residence into a fire at the mayor's office", () => {
    const stored = [...NEWS_DAY, mayorsOffice];
    const { verdict, stories } = decide(stored, {
      lang: 'ru',
      title: 'В Алматы горит резиденция президента',
      text: 'Протестующие подожгли президентскую резиденцию в Алматы.',
    });
    expect(verdict).toBeNull();
    expect(stories.map((s) => s.storyId)).not.toContain(storyOf(stored));
  });

  it("folds a fire at the mayor's office told in Russian into the English report of it", () => {
    const stored = [...NEWS_DAY, mayorsOffice];
    const { verdict } = decide(stored, {
      lang: 'ru',
      title: 'В Алматы горит здание акимата',
      text: 'Протестующие подожгли здание акимата в Алматы.',
    });
    expect(verdict).toMatchObject({ storyId: storyOf(stored), how: 'cross-language' });
  });

  const almatyCurfew: Report = { lang: 'en', title: 'Curfew imposed in Almaty until 19 January', text: 'A curfew was imposed in Almaty until 19 January.' };

  it('does not fold a curfew in Astana into a curfew in Almaty', () => {
    const stored = [...NEWS_DAY, almatyCurfew];
    const { verdict, stories } = decide(stored, {
      lang: 'ru',
      title: 'В Астане введён комендантский час до 19 января',
      text: 'В Астане ввели комендантский час до 19 января.',
    });
    expect(verdict).toBeNull();
    expect(stories.map((s) => s.storyId)).not.toContain(storyOf(stored));
  });

  it('folds a curfew in Almaty told in Russian into the English report of it', () => {
    const stored = [...NEWS_DAY, almatyCurfew];
    const { verdict } = decide(stored, {
      lang: 'ru',
      title: 'В Алматы введён комендантский час до 19 января',
      text: 'В Алматы ввели комендантский час до 19 января.',
    });
    expect(verdict).toMatchObject({ storyId: storyOf(stored), how: 'cross-language' });
  });
});
