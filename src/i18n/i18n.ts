// The bot's words in English, Russian, Kazakh and Arabic: plain JSON catalogs (locales/), one
// key per message, `{name}` placeholders, plural forms as `key.one`/`key.few`/… chosen by
// Intl.PluralRules. Messages are Telegram HTML; values are escaped unless marked as HTML. Arabic
// messages get their Latin runs (commands, names, numbers) isolated so they read right to left.

import ar from './locales/ar.json' with { type: 'json' };
import en from './locales/en.json' with { type: 'json' };
import kk from './locales/kk.json' with { type: 'json' };
import ru from './locales/ru.json' with { type: 'json' };
import type { ChatSettings } from '../store/store.js';
import { escapeHtml } from '../summary/render.js';
import { primaryLanguage } from '../text/language.js';

export const LOCALES = ['en', 'ru', 'kk', 'ar'] as const;
export type Locale = (typeof LOCALES)[number];

type Catalog = Readonly<Record<string, string>>;
export const CATALOGS: Readonly<Record<Locale, Catalog>> = { en, ru, kk, ar };

type PluralSuffix = 'zero' | 'one' | 'two' | 'few' | 'many' | 'other';
type Base<K extends string> = K extends `${infer B}.${PluralSuffix}` ? B : K;
/** A message's key; a plural message by its base (`digest.header`, with `count`). */
export type MessageKey = Base<keyof typeof en>;

/** HTML that goes into a message as it is (already escaped, or built of escaped parts). */
export class Html {
  constructor(readonly html: string) {}
}
export const html = (text: string): Html => new Html(text);

export type MessageParams = Readonly<Record<string, string | number | Html>>;

/** The locale for a Telegram `language_code` ("ru", "kk-KZ", …); English when we do not speak it. */
export function localeOf(code: string | null | undefined): Locale {
  const primary = primaryLanguage(code ?? '');
  return isLocale(primary) ? primary : 'en';
}

/** The language the bot speaks to a chat: its /lang, else the sender's app (`languageCode`), else the app language last seen there. */
export function chatLocale(record: Pick<ChatSettings, 'language' | 'appLanguage'> | null | undefined, languageCode: string | null = null): Locale {
  return localeOf(record?.language ?? languageCode ?? record?.appLanguage ?? null);
}

export function isLocale(code: string): code is Locale {
  return (LOCALES as readonly string[]).includes(code);
}

const plurals = new Map<Locale, Intl.PluralRules>();
function pluralOf(locale: Locale, count: number): string {
  let rules = plurals.get(locale);
  if (!rules) plurals.set(locale, (rules = new Intl.PluralRules(locale)));
  return rules.select(count);
}

const PLACEHOLDER = /\{(\w+)\}/gu;
// The message's markup and entities, which direction isolates must not go inside.
const MARKUP = /(<[^>]*>|&[a-z]+;|&#\d+;)/u;
// A run of Latin words and numbers, a command with its arguments (slash included), a query or a
// link; it ends on a letter, digit or closing mark, so the sentence's own full stop stays outside.
const LTR_RUN = /\/?[\p{Script=Latin}\p{N}](?:[\p{Script=Latin}\p{N}\p{M}\s'’.,:;%/_@?=&#*()"|-]*[\p{Script=Latin}\p{N}*)"])?/gu;
const FSI = '\u2068';
const PDI = '\u2069';

/** Wraps the Latin runs of the message's text (not of its tags) in isolates, once. */
function rightToLeft(message: string): string {
  return message
    .split(MARKUP)
    .map((part, i) => (i % 2 === 1 ? part : part.replace(LTR_RUN, (run: string, at: number, whole: string) => (whole[at - 1] === FSI ? run : isolate(run)))))
    .join('');
}

/** A run in isolates; a closing bracket it did not open stays outside, with the one that opened it ("(429)" not "((429"). */
function isolate(run: string): string {
  const unopened = run.endsWith(')') && run.split('(').length < run.split(')').length;
  return unopened ? `${FSI}${run.slice(0, -1)}${PDI})` : `${FSI}${run}${PDI}`;
}

/** The message `key` in `locale` with its placeholders filled (falling back to English for a missing key). */
export function t(locale: Locale, key: MessageKey, params: MessageParams = {}): string {
  const catalog = CATALOGS[locale];
  const count = params.count;
  const pluralKey = typeof count === 'number' ? `${key}.${pluralOf(locale, count)}` : null;
  const template = (pluralKey !== null ? (catalog[pluralKey] ?? catalog[`${key}.other`]) : undefined) ?? catalog[key] ?? en[key as keyof typeof en] ?? key;
  const filled = template.replace(PLACEHOLDER, (whole, name: string) => {
    const value = params[name];
    if (value === undefined) return whole;
    return value instanceof Html ? value.html : escapeHtml(String(value));
  });
  return locale === 'ar' ? rightToLeft(filled) : filled;
}

/** A translator bound to one locale. */
export type Translate = (key: MessageKey, params?: MessageParams) => string;
export function translator(locale: Locale): Translate {
  return (key, params) => t(locale, key, params);
}
