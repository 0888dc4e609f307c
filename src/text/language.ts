// A cheap language guess from the script of the text, for items whose feed declares none.
// One pass over character codes: it runs on every item of every feed.

const KAZAKH_ONLY = new Set('әғқңөұүһіӘҒҚҢӨҰҮҺІ'.split('').map((ch) => ch.charCodeAt(0)));
const SAMPLE = 2000;

/** Guesses ar / kk / ru / en from letters; null when the text has too few letters to say. */
export function guessLanguage(text: string): string | null {
  let arabic = 0;
  let cyrillic = 0;
  let kazakh = 0;
  let latin = 0;
  const end = Math.min(text.length, SAMPLE);
  for (let i = 0; i < end; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x41) continue;
    if (code <= 0x7a) {
      if (code <= 0x5a || code >= 0x61) latin++;
    } else if (code >= 0xc0 && code <= 0x24f) {
      if (code !== 0xd7 && code !== 0xf7) latin++;
    } else if (code >= 0x400 && code <= 0x4ff) {
      cyrillic++;
      if (KAZAKH_ONLY.has(code)) kazakh++;
    } else if (code >= 0x600 && code <= 0x6ff) {
      arabic++;
    }
  }
  if (arabic + cyrillic + latin < 3) return null;
  if (arabic >= cyrillic && arabic >= latin) return 'ar';
  // Kazakh-specific letters are frequent in Kazakh prose and absent from Russian.
  if (cyrillic >= latin) return kazakh / cyrillic > 0.01 ? 'kk' : 'ru';
  return 'en';
}

/** "ru-RU" → "ru": the part of a language tag destinations are chosen by. */
export function primaryLanguage(tag: string): string {
  return (tag.toLowerCase().split(/[-_]/u)[0] ?? '').trim();
}

/** Whether an item in `language` may alert a destination that takes `accepted` (null: every language). */
export function acceptsLanguage(accepted: readonly string[] | null | undefined, language: string | null): boolean {
  // An item whose language cannot be told is let through: a missed alert is the worse failure.
  if (!accepted || language === null) return true;
  return accepted.includes(primaryLanguage(language));
}
