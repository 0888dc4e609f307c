import { describe, expect, it } from 'vitest';
import { CATALOGS, LOCALES, localeOf, t } from '../../src/i18n/i18n.js';

const PLURAL = /\.(zero|one|two|few|many|other)$/u;
const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/gu)].map((m) => m[1]).sort();
const tags = (text: string) => [...text.matchAll(/<\/?[a-z]+>/gu)].map((m) => m[0]);
const commands = (text: string) => [...text.matchAll(/\/[a-z_]+/gu)].map((m) => m[0]).sort();

/** A catalog's messages by base key, plural forms gathered under it. */
function bases(catalog: Readonly<Record<string, string>>): Map<string, string[]> {
  const byBase = new Map<string, string[]>();
  for (const [key, text] of Object.entries(catalog)) {
    const base = key.replace(PLURAL, '');
    byBase.set(base, [...(byBase.get(base) ?? []), text]);
  }
  return byBase;
}

describe('message catalogs', () => {
  const english = bases(CATALOGS.en);

  it.each(LOCALES)('%s has every message, with the same placeholders, markup and commands as English', (locale) => {
    const catalog = bases(CATALOGS[locale]);
    expect([...catalog.keys()].sort()).toEqual([...english.keys()].sort());
    for (const [key, [source = '']] of english) {
      for (const text of catalog.get(key) ?? []) {
        expect(placeholders(text), `${locale} ${key}`).toEqual(placeholders(source));
        expect(tags(text), `${locale} ${key}`).toEqual(tags(source));
        // What the user must type stays as it is, whatever the language.
        expect(commands(text.replace(/<[^>]*>/gu, '')), `${locale} ${key}`).toEqual(commands(source.replace(/<[^>]*>/gu, '')));
      }
    }
  });

  it.each(LOCALES)('%s has exactly the plural forms its language uses', (locale) => {
    const categories = new Intl.PluralRules(locale).resolvedOptions().pluralCategories.slice().sort();
    const plural = Object.keys(CATALOGS[locale]).filter((k) => PLURAL.test(k));
    const forms = new Map<string, string[]>();
    for (const key of plural) forms.set(key.replace(PLURAL, ''), [...(forms.get(key.replace(PLURAL, '')) ?? []), key.match(PLURAL)?.[1] ?? '']);
    expect(forms.size).toBeGreaterThan(0);
    for (const [, found] of forms) expect(found.sort()).toEqual(categories);
  });

  it('fills placeholders escaped, picks plural forms, and isolates Latin runs in Arabic', () => {
    expect(t('en', 'subscribe.unknown', { name: '<b>x', list: '' })).toBe('No preset named “&lt;b&gt;x”. Presets: .');
    expect(t('en', 'digest.header', { count: 1 })).toBe('Digest · 1 story');
    expect(t('ru', 'digest.header', { count: 3 })).toContain('3');
    expect(t('ru', 'digest.header', { count: 3 })).not.toBe(t('ru', 'digest.header', { count: 5 }));
    const arabic = t('ar', 'watch.done', { query: 'almaty AND protest*' });
    expect(arabic).toContain('\u2068almaty AND protest*\u2069');
    // Isolates go around text, never inside a tag.
    expect(arabic).toMatch(/<code>[^<]*<\/code>/u);
    expect(t('ar', 'help')).toContain('\u2068/presets\u2069');
    // A bracket opened outside a Latin run is closed outside it too, so it is not drawn twice.
    expect(t('ar', 'page.delivery.rateLimited')).toContain('(\u2068429\u2069)');
    expect(t('ar', 'page.asOf', { time: '2026-12-07 18:52', zone: 'Asia/Almaty' })).toContain('\u20682026-12-07 18:52 (Asia/Almaty)\u2069');
  });

  it('maps Telegram language codes to the languages it speaks, English otherwise', () => {
    expect(localeOf('ru')).toBe('ru');
    expect(localeOf('kk-KZ')).toBe('kk');
    expect(localeOf('AR')).toBe('ar');
    expect(localeOf('de')).toBe('en');
    expect(localeOf(null)).toBe('en');
  });
});
