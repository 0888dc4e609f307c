// A cheap language guess from the script of the text, for items whose feed declares none.

const ARABIC = /[\u0600-\u06FF]/gu;
const CYRILLIC = /[\u0400-\u04FF]/gu;
const KAZAKH_ONLY = /[әғқңөұүһіӘҒҚҢӨҰҮҺІ]/gu;
const LATIN = /[A-Za-z\u00C0-\u024F]/gu;

function count(text: string, pattern: RegExp): number {
  return text.match(pattern)?.length ?? 0;
}

/** Guesses ar / kk / ru / en from letters; null when the text has too few letters to say. */
export function guessLanguage(text: string): string | null {
  const sample = text.slice(0, 4000);
  const arabic = count(sample, ARABIC);
  const cyrillic = count(sample, CYRILLIC);
  const latin = count(sample, LATIN);
  const total = arabic + cyrillic + latin;
  if (total < 3) return null;
  if (arabic >= cyrillic && arabic >= latin) return 'ar';
  if (cyrillic >= latin) {
    // Kazakh-specific letters are frequent in Kazakh prose and absent from Russian.
    return count(sample, KAZAKH_ONLY) / cyrillic > 0.01 ? 'kk' : 'ru';
  }
  return 'en';
}
