// What a report says that does not depend on the language it is written in: the names (entities,
// already one across scripts), the kind of event (config/events.yaml), the numbers and the dates.
// Two reports of one story by outlets writing in Arabic and Russian share no words, but they
// name the same city, the same kind of event, the same toll and the same day.

import type { EntityTable } from '../match/entities.js';
import { normalizeTokens, tokenForms } from '../text/normalize.js';
import { EntityFinder } from './entity-finder.js';

/** Language-free features, each a string: `@entity`, `#event`, `n:164`, `d:01-19`. */
export interface StoryFeatures {
  entities: string[];
  events: string[];
  /** numbers as digits, thousands separators dropped (2,500 = 2 500 = ٢٥٠٠ = 2500) */
  numbers: string[];
  /** month-day dates named in the text, as `MM-DD` */
  dates: string[];
  /** the word forms that named an entity (so they are not counted again as words) */
  entityForms: ReadonlySet<string>;
  /** which of the tagged features (see featureList) the title carries: the headline says what the story is */
  inTitle: ReadonlySet<string>;
}

// Arabic-Indic and Persian digits, and the Arabic thousands separator.
const EASTERN_DIGIT = /[\u0660-\u0669\u06F0-\u06F9]/gu;
// A thousands group: "2,500", "2 500" (also no-break and thin spaces), "2.500", "٢٬٥٠٠"; a comma
// followed by a space is a list ("8, 317"), not a group.
const THOUSANDS = /(?<![\p{N}.,])(\d{1,3})((?:(?:,|\.|\u066C|[ \u00A0\u202F\u2009])\d{3})+)(?![\p{N}]|[.,]\d)/gu;
const GROUP_SEPARATOR = /[,.\u066C \u00A0\u202F\u2009]/gu;

// «86 тысяч», «86 мың», «86 ألف», «86 thousand», «1,2 млн»: a count written with a word for its size.
const SCALED = /(?<![\p{N}.,])(\d+)(?:[.,](\d{1,3}))?[ \u00A0]?(thousand|тысяч[а-яё]*|тыс\.|мың|الف|ألف|آلاف|million|millions|млн\.?|миллион[а-яё]*|миллион|миллиона|миллионов|млн|مليون|ملايين)(?![\p{L}])/giu;
const SCALE: Record<string, number> = { thousand: 1e3, мың: 1e3, الف: 1e3, ألف: 1e3, آلاف: 1e3, million: 1e6, millions: 1e6, مليون: 1e6, ملايين: 1e6 };

function scaleOf(word: string): number {
  const lower = word.toLowerCase();
  if (SCALE[lower] !== undefined) return SCALE[lower];
  return lower.startsWith('тыс') ? 1e3 : 1e6; // тысяч…, млн, миллион…
}

/** The text with numbers written one way: Western digits, no thousands separators, sizes multiplied out. */
export function normalizeNumbers(text: string): string {
  if (!/[\p{N}]/u.test(text)) return text;
  const western = text.replace(EASTERN_DIGIT, (digit) => String((digit.codePointAt(0) ?? 0) & 0xf));
  const grouped = western.replace(THOUSANDS, (_, head: string, groups: string) => head + groups.replace(GROUP_SEPARATOR, ''));
  return grouped.replace(SCALED, (_, whole: string, fraction: string | undefined, word: string) => {
    const value = Math.round(Number(`${whole}.${fraction ?? '0'}`) * scaleOf(word));
    return Number.isSafeInteger(value) ? String(value) : `${whole} ${word}`;
  });
}

// Month names by their normalised beginnings (Russian and Kazakh cases, Arabic with and
// without the Levantine names), so «5 января», «5 қаңтарда», «5 يناير», «Jan. 5» meet.
const MONTH_PREFIXES: Array<[number, string[]]> = [
  [1, ['january', 'jan', 'январ', 'кантар', 'يناير', 'كانون الثاني']],
  [2, ['february', 'feb', 'феврал', 'акпан', 'فبراير', 'شباط']],
  [3, ['march', 'mar', 'март', 'наурыз', 'مارس', 'اذار']],
  [4, ['april', 'apr', 'апрел', 'сауир', 'ابريل', 'نيسان']],
  [5, ['may', 'мая', 'май', 'мамыр', 'مايو', 'ايار']],
  [6, ['june', 'jun', 'июн', 'маусым', 'يونيو', 'حزيران']],
  [7, ['july', 'jul', 'июл', 'шилде', 'يوليو', 'تموز']],
  [8, ['august', 'aug', 'август', 'тамыз', 'اغسطس', 'اب']],
  [9, ['september', 'sept', 'sep', 'сентябр', 'кыркуйек', 'سبتمبر', 'ايلول']],
  [10, ['october', 'oct', 'октябр', 'казан', 'اكتوبر', 'تشرين الاول']],
  [11, ['november', 'nov', 'ноябр', 'караша', 'نوفمبر', 'تشرين الثاني']],
  [12, ['december', 'dec', 'декабр', 'желтоксан', 'ديسمبر', 'كانون الاول']],
];
// Latin abbreviations and Arabic names are whole words; Cyrillic names are word beginnings.
const MONTH_WORDS = new Map<string, number>();
const MONTH_STEMS: Array<[string, number]> = [];
const MONTH_PAIRS = new Map<string, number>();
for (const [month, names] of MONTH_PREFIXES) {
  for (const name of normalizeTokensList(names)) {
    if (name.includes(' ')) MONTH_PAIRS.set(name, month);
    else if (/[\u0400-\u04FF]/u.test(name) && name.length >= 4) MONTH_STEMS.push([name, month]);
    else MONTH_WORDS.set(name, month);
  }
}

function normalizeTokensList(names: string[]): string[] {
  return names.map((name) => normalizeTokens(name).join(' '));
}

/** The month a word (or a two-word Levantine name) names, or 0. */
function monthOf(token: string, next: string | undefined): number {
  if (next !== undefined) {
    const pair = MONTH_PAIRS.get(`${token} ${next}`);
    if (pair !== undefined) return pair;
  }
  for (const form of tokenForms(token)) {
    const month = MONTH_WORDS.get(form);
    if (month !== undefined) return month;
  }
  if (token.length >= 4) for (const [stem, month] of MONTH_STEMS) if (token.startsWith(stem)) return month;
  return 0;
}

const DAY = /^\d{1,2}$/u;
const pad = (n: number) => String(n).padStart(2, '0');

/** Dates written as «19 January», «January 19», «19 января», «19 қаңтар», «19 يناير». */
export function datesIn(tokens: readonly string[]): string[] {
  const dates = new Set<string>();
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] ?? '';
    if (!DAY.test(token)) continue;
    const day = Number(token);
    if (day < 1 || day > 31) continue;
    // «3 may have died»: English «may» counts as a month only before the day («May 3»).
    const next = tokens[i + 1] ?? '';
    const after = next === 'may' ? 0 : monthOf(next, tokens[i + 2]);
    const before = i > 0 ? monthOf(tokens[i - 1] ?? '', token) : 0;
    const month = after || before;
    if (month) dates.add(`${pad(month)}-${pad(day)}`);
  }
  return [...dates];
}

const DIGITS = /^\d+$/u;

/** Finds the language-free features of a report; built once per config (it compiles every spelling). */
export class FeatureFinder {
  private readonly entityFinder: EntityFinder;
  private readonly eventFinder: EntityFinder;

  constructor(entities: EntityTable, events: EntityTable | null = null) {
    this.entityFinder = new EntityFinder(entities);
    this.eventFinder = new EntityFinder(events ?? { variants: new Map(), byVariant: new Map() });
  }

  /** `title` and `text` with numbers already normalised (see normalizeNumbers). */
  find(title: string, text: string): StoryFeatures {
    const entities = this.entityFinder.find(title, text);
    const events = this.eventFinder.find(title, text);
    const tokens = normalizeTokens(`${title}\n${text}`);
    const numbers = new Set<string>();
    for (const token of tokens) if (DIGITS.test(token)) numbers.add(token.replace(/^0+(?=\d)/u, ''));
    const dates = datesIn(tokens);
    // The day of a date is the date: «until 19 January» is not also a count of 19.
    for (const date of dates) numbers.delete(String(Number(date.slice(3))));
    const titleTokens = normalizeTokens(title);
    // The matcher says which field each name was found in: the title needs no pass of its own.
    const inTitle = new Set([
      ...[...entities.inTitle].map((e) => `@${e}`),
      ...[...events.inTitle].map((e) => `#${e}`),
      ...titleTokens.filter((t) => DIGITS.test(t)).map((n) => `n:${n.replace(/^0+(?=\d)/u, '')}`),
      ...datesIn(titleTokens).map((d) => `d:${d}`),
    ]);
    return { entities: entities.names, events: events.names, numbers: [...numbers], dates, entityForms: entities.forms, inTitle };
  }
}

/** A feature the title carries is written with this mark before it. */
export const TITLE_MARK = '^';

/** The features as one list of tagged strings, as the store keeps them; the title's marked (TITLE_MARK). */
export function featureList(features: Pick<StoryFeatures, 'entities' | 'events' | 'numbers' | 'dates' | 'inTitle'>): string[] {
  const tagged = [
    ...features.entities.map((e) => `@${e}`),
    ...features.events.map((e) => `#${e}`),
    ...features.numbers.map((n) => `n:${n}`),
    ...features.dates.map((d) => `d:${d}`),
  ];
  return tagged.map((f) => (features.inTitle.has(f) ? `${TITLE_MARK}${f}` : f));
}

/** A tagged feature without its title mark. */
export function plainFeature(feature: string): string {
  return feature.startsWith(TITLE_MARK) ? feature.slice(1) : feature;
}
