// Script-aware normalisation shared by watchlist terms and feed text: both sides must fold the
// same way, or a term written one way never meets the text written another.

const ARABIC_DIACRITICS = '\u0610-\u061A\u064B-\u065F\u0670\u06D6-\u06ED\u0640'; // tashkeel, Quranic marks, tatweel
const LATIN_WITH_MARKS = /(\p{Script=Latin})\p{M}+/gu;

const LETTER_FOLDS: Record<string, string> = {
  // Arabic letter forms that writers use interchangeably.
  'أ': 'ا', 'إ': 'ا', 'آ': 'ا', 'ٱ': 'ا',
  'ى': 'ي', 'ئ': 'ي', 'ی': 'ي', 'ې': 'ي',
  'ة': 'ه', 'ؤ': 'و', 'ک': 'ك', 'ڪ': 'ك',
  // Cyrillic.
  'ё': 'е',
  // Kazakh letters as Russian-language outlets spell them (Тоқаев → Токаев), so one term finds both.
  'қ': 'к', 'ң': 'н', 'ғ': 'г', 'ү': 'у', 'ұ': 'у', 'ө': 'о', 'ә': 'а', 'і': 'и', 'һ': 'х',
};
// Diacritics to drop and letters to fold, in one pass over the text.
const FOLDABLE = new RegExp(`[${ARABIC_DIACRITICS}${Object.keys(LETTER_FOLDS).join('')}]`, 'gu');

/** Normalises text for matching: NFKC, case fold, diacritics and letter variants folded. */
export function normalizeText(input: string): string {
  let text = input.normalize('NFKC').toLowerCase();
  // Latin diacritics (é → e) only: decomposing Cyrillic would turn й into и. After NFKC they are
  // precomposed letters in these blocks; most text has none, and decomposing costs.
  if (/[\u00C0-\u024F\u1E00-\u1EFF]/u.test(text)) {
    text = text.normalize('NFD').replace(LATIN_WITH_MARKS, '$1').normalize('NFC');
  }
  return text.replace(FOLDABLE, (ch) => LETTER_FOLDS[ch] ?? '');
}

// Letters (with their marks) and digits are separate tokens, so «3انفجارات» is 3 + انفجارات.
const WORD = /[\p{L}\p{M}]+|\p{N}+/gu;

/** Splits normalised text into word tokens (runs of letters, or of digits; everything else separates). */
export function tokenize(normalized: string): string[] {
  return normalized.match(WORD) ?? [];
}

/**
 * The words of the text as written (NFKC only), one per normalised token: normalisation folds
 * letters and drops marks but never moves a word boundary, so indexes line up.
 */
export function surfaceTokens(input: string): string[] {
  return input.normalize('NFKC').match(WORD) ?? [];
}

/** Normalises and tokenises in one step. */
export function normalizeTokens(input: string): string[] {
  return tokenize(normalizeText(input));
}

const ARABIC_LETTER = /[\u0621-\u064A]/u;
// Light stemming in the spirit of Larkey's light10, on normalised text (ة→ه, ى→ي already done).
const ARABIC_ARTICLES = ['وال', 'فال', 'بال', 'كال', 'لل', 'ال'];
const ARABIC_CONJUNCTIONS = ['و', 'ف'];
const ARABIC_PREPOSITIONS = ['ب', 'ل', 'ك'];
// light10's suffixes, plus the possessives نا (our) and هم (their): «قواتنا» is still forces.
const ARABIC_SUFFIXES = ['ها', 'ان', 'ات', 'ون', 'ين', 'يه', 'نا', 'هم', 'ه', 'ي'];

/**
 * The forms a token may stand for once clitics and common suffixes are peeled off
 * («والاحتجاجات» → «احتجاجات», «احتجاج»). A term matches a token when the term is one of these
 * forms, so the term itself is never stemmed: «ألماتي» does not shrink to «مات» (died).
 */
export function tokenForms(token: string): string[] {
  if (!ARABIC_LETTER.test(token)) return [token];
  const cached = formsCache.get(token);
  if (cached) return cached;
  const forms = arabicForms(token);
  // News vocabulary repeats; a bounded cache keeps the common words cheap without growing forever.
  if (formsCache.size >= FORMS_CACHE_LIMIT) formsCache.clear();
  formsCache.set(token, forms);
  return forms;
}

const FORMS_CACHE_LIMIT = 50_000;
const formsCache = new Map<string, string[]>();

function arabicForms(token: string): string[] {
  const forms = new Set<string>([token]);
  const withoutPrefixes = new Set<string>([token]);
  for (const conj of ['', ...ARABIC_CONJUNCTIONS]) {
    if (conj && !(token.startsWith(conj) && token.length - conj.length >= 3)) continue;
    const rest = token.slice(conj.length);
    withoutPrefixes.add(rest);
    for (const prefix of [...ARABIC_ARTICLES, ...ARABIC_PREPOSITIONS]) {
      if (rest.startsWith(prefix) && rest.length - prefix.length >= 2) withoutPrefixes.add(rest.slice(prefix.length));
    }
  }
  for (const base of withoutPrefixes) {
    forms.add(base);
    for (const suffix of ARABIC_SUFFIXES) {
      if (base.endsWith(suffix) && base.length - suffix.length >= 3) forms.add(base.slice(0, -suffix.length));
    }
  }
  return [...forms];
}
