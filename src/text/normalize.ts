// Script-aware normalisation shared by watchlist terms and feed text: both sides must fold the
// same way, or a term written one way never meets the text written another.

import { kazakhForms } from './kazakh.js';

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

// Latin letters with diacritics (precomposed after NFKC) or combining marks that may follow a
// Latin letter: the text needs the decomposing pass below. Most text has none, and decomposing costs.
const NEEDS_LATIN_FOLD = /[\u0300-\u036F\u00C0-\u024F\u1E00-\u1EFF]/u;

/** NFKC, case fold, and Latin diacritics dropped (é → e); Cyrillic й is never decomposed. */
function foldCaseAndLatin(input: string): string {
  const text = input.normalize('NFKC').toLowerCase();
  if (!NEEDS_LATIN_FOLD.test(text)) return text;
  return text.normalize('NFD').replace(LATIN_WITH_MARKS, '$1').normalize('NFC');
}

/** Normalises text for matching: NFKC, case fold, diacritics and letter variants folded. */
export function normalizeText(input: string): string {
  return foldCaseAndLatin(input).replace(FOLDABLE, (ch) => LETTER_FOLDS[ch] ?? '');
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

// What each UTF-16 code unit is to the tokenizer, so the hot loop is one array read per character
// instead of a regular expression. Each unit is classified the first time a text holds it (news
// uses a few hundred characters of the Basic Multilingual Plane's 65,536), not all at start-up.
const SEPARATOR = 0;
const LETTER = 1; // \p{L} or \p{M}: part of a word
const DIGIT = 2; // \p{N}
const DROPPED = 3; // Arabic diacritics and tatweel: removed, the word goes on
const FOLDED = 4; // a capital, or a letter written as another: FOLD_TO holds which letter it is
const SURROGATE = 5; // half of a character outside the BMP: classified when met
const SLOW = 6; // needs the general path: Latin diacritics, a capital that lowers to two letters, Σ
// Added to the class of a unit that NFKC may change, alone or with its neighbours: a text without
// one is its own NFKC form, so `normalize` (a call into ICU and a copy) is skipped for it.
const UNSTABLE = 8;
const UNKNOWN = 0xff; // not classified yet
const CHAR_CLASS = new Uint8Array(0x10000).fill(UNKNOWN);
const FOLD_TO = new Uint16Array(0x10000);
const LETTER_OR_MARK = /[\p{L}\p{M}]/u;
const MARK = /\p{M}/u;
const NUMBER = /\p{N}/u;
const DROPPED_CHAR = new RegExp(`[${ARABIC_DIACRITICS}]`, 'u');

/** Classifies code unit `code` (see CHAR_CLASS), remembers it and returns it. */
function classify(code: number): number {
  let cls = SEPARATOR;
  let stable: boolean;
  if (code >= 0xd800 && code <= 0xdfff) {
    cls = SURROGATE;
    stable = false;
  } else {
    const ch = String.fromCharCode(code);
    // NFKC changes a character that is not its own NFKC form; and it may join a combining mark,
    // or a Hangul vowel or final consonant jamo (the only characters outside \p{M} that compose
    // with the one before them), to the character before it.
    stable = ch.normalize('NFKC') === ch && !MARK.test(ch) && !(code >= 0x1161 && code <= 0x1175) && !(code >= 0x11a8 && code <= 0x11c2);
    const lower = ch.toLowerCase();
    // Σ lowers to σ or ς by its place in the word, which a table cannot know.
    if (lower.length !== 1 || code === 0x03a3 || NEEDS_LATIN_FOLD.test(lower)) {
      cls = SLOW;
    } else {
      const fold = LETTER_FOLDS[lower] ?? (lower !== ch ? lower : undefined);
      if (DROPPED_CHAR.test(lower)) cls = DROPPED;
      else if (fold !== undefined) {
        cls = FOLDED;
        FOLD_TO[code] = fold.charCodeAt(0);
      } else if (LETTER_OR_MARK.test(lower)) cls = LETTER;
      else if (NUMBER.test(lower)) cls = DIGIT;
    }
  }
  if (!stable) cls += UNSTABLE;
  CHAR_CLASS[code] = cls;
  return cls;
}
const ASTRAL_LETTER = /^[\p{L}\p{M}]$/u;
const ASTRAL_DIGIT = /^\p{N}$/u;

/**
 * The words of a text, normalised, as UTF-16 code units in one buffer with a hash per word, so a
 * caller can look words up without first making a string of each. The buffers are reused: the
 * result is valid until the next call of `foldWords`.
 */
export interface FoldedWords {
  readonly count: number;
  /** the folded text; word `i` is `chars[starts[i]] … chars[ends[i] - 1]` */
  readonly chars: Uint16Array;
  readonly starts: Int32Array;
  readonly ends: Int32Array;
  /** `wordHash` of each word */
  readonly hashes: Int32Array;
  /** word `i` as a string */
  word(i: number): string;
}

/** The hash `foldWords` gives a word: computed as its letters are folded, and from a string here. */
export function wordHash(word: string): number {
  let hash = 0;
  for (let i = 0; i < word.length; i++) hash = (Math.imul(hash, 31) + word.charCodeAt(i)) | 0;
  return hash;
}

class WordBuffer implements FoldedWords {
  count = 0;
  chars = new Uint16Array(4096);
  starts = new Int32Array(512);
  ends = new Int32Array(512);
  hashes = new Int32Array(512);
  /** the folded text as a string, made on first need */
  private text: string | null = null;
  private length = 0;

  reset(text: string | null, capacity: number): void {
    if (this.chars.length < capacity) this.chars = new Uint16Array(capacity * 2);
    this.count = 0;
    this.length = 0;
    this.text = text;
  }

  /** Room for one more word; a text of n characters has at most n words. */
  private grow(): void {
    const size = this.starts.length * 2;
    const copy = (from: Int32Array) => {
      const to = new Int32Array(size);
      to.set(from);
      return to;
    };
    this.starts = copy(this.starts);
    this.ends = copy(this.ends);
    this.hashes = copy(this.hashes);
  }

  startWord(at: number): void {
    if (this.count === this.starts.length) this.grow();
    this.starts[this.count] = at;
  }

  endWord(at: number, hash: number): void {
    this.ends[this.count] = at;
    this.hashes[this.count] = hash;
    this.count++;
  }

  /** Marks the folded text as differing from the input, with `length` code units. */
  setFolded(length: number): void {
    this.length = length;
    this.text = null;
  }

  /** Fills the buffer from words already normalised (the general path's result). */
  fromWords(words: string[]): this {
    this.reset(null, words.reduce((n, w) => n + w.length + 1, 0));
    let at = 0;
    for (const word of words) {
      this.startWord(at);
      for (let i = 0; i < word.length; i++) this.chars[at++] = word.charCodeAt(i);
      this.endWord(at, wordHash(word));
      this.chars[at++] = 32;
    }
    this.setFolded(at);
    return this;
  }

  word(i: number): string {
    if (this.text === null) this.text = charsToString(this.chars, this.length);
    return this.text.slice(this.starts[i], this.ends[i]);
  }
}
const wordBuffer = new WordBuffer();

/**
 * Normalises and tokenises in one step: the same tokens as `tokenize(normalizeText(input))`
 * (a property test holds them equal).
 */
export function normalizeTokens(input: string): string[] {
  const words = foldWords(input);
  const tokens = new Array<string>(words.count);
  for (let i = 0; i < words.count; i++) tokens[i] = words.word(i);
  return tokens;
}

/**
 * Normalises and splits a text in one pass that folds case and letters as it goes, through a
 * table of every BMP character; what the table cannot fold takes the general path.
 */
export function foldWords(input: string): FoldedWords {
  return fold(input, false);
}

/** `foldWords` on `text`, known to be its own NFKC form when `normalized`, else found to be or not on the way. */
function fold(text: string, normalized: boolean): FoldedWords {
  const words = wordBuffer;
  words.reset(text, text.length);
  const out = words.chars;
  let length = 0;
  let changed = false; // whether a letter was folded or a mark dropped: else `text` is the result
  let kind = SEPARATOR; // LETTER or DIGIT while inside a word
  let hash = 0;
  for (let i = 0; i < text.length; i++) {
    let code = text.charCodeAt(i);
    let cls = CHAR_CLASS[code] ?? UNKNOWN;
    if (cls >= UNSTABLE) {
      if (cls === UNKNOWN) cls = classify(code);
      if (cls >= UNSTABLE) {
        if (!normalized) return fold(text.normalize('NFKC'), true);
        cls -= UNSTABLE;
      }
    }
    let low = -1; // the second half of a character outside the BMP, which goes out with the first
    // Letters, digits and separators go straight on; the rarer classes are sorted out here.
    if (cls > DIGIT) {
      if (cls === FOLDED) {
        changed = true;
        code = FOLD_TO[code] ?? code;
        cls = LETTER;
      } else if (cls === DROPPED) {
        changed = true;
        continue;
      } else if (cls === SLOW) {
        return words.fromWords(tokenize(normalizeText(text)));
      } else {
        // SURROGATE
        const char = String.fromCodePoint(text.codePointAt(i) ?? code);
        if (char.toLowerCase() !== char) return words.fromWords(tokenize(normalizeText(text)));
        cls = ASTRAL_LETTER.test(char) ? LETTER : ASTRAL_DIGIT.test(char) ? DIGIT : SEPARATOR;
        if (char.length === 2) low = text.charCodeAt(++i);
      }
    }
    if (cls !== kind) {
      if (kind !== SEPARATOR) words.endWord(length, hash);
      if (cls !== SEPARATOR) words.startWord(length);
      kind = cls;
      hash = 0;
    }
    hash = (Math.imul(hash, 31) + code) | 0;
    out[length++] = code;
    if (low !== -1) {
      hash = (Math.imul(hash, 31) + low) | 0;
      out[length++] = low;
    }
  }
  if (kind !== SEPARATOR) words.endWord(length, hash);
  if (changed) words.setFolded(length);
  return words;
}

const utf16 = new TextDecoder('utf-16le');

function charsToString(chars: Uint16Array, length: number): string {
  // Code units as the platform stores them; every platform Node runs on is little-endian.
  return utf16.decode(chars.subarray(0, length));
}

const ARABIC_LETTER = /[\u0621-\u064A]/u;
const CYRILLIC_LETTER = /[\u0430-\u044F]/u;
// Light stemming in the spirit of Larkey's light10, on normalised text (ة→ه, ى→ي already done).
const ARABIC_ARTICLES = ['وال', 'فال', 'بال', 'كال', 'لل', 'ال'];
const ARABIC_CONJUNCTIONS = ['و', 'ف'];
const ARABIC_PREPOSITIONS = ['ب', 'ل', 'ك'];
// light10's suffixes, plus the possessives نا (our) and هم (their): «قواتنا» is still forces.
// And the alef of the accusative tanween (احتجاجاً → احتجاجا, tashkeel already dropped): «protesting» as an adverb.
const ARABIC_SUFFIXES = ['ها', 'ان', 'ات', 'ون', 'ين', 'يه', 'نا', 'هم', 'ه', 'ي', 'ا'];

/**
 * The forms a token may stand for once clitics (Arabic) or inflections (Kazakh, see kazakh.ts) and common suffixes are peeled off
 * («والاحتجاجات» → «احتجاجات», «احتجاج»). A term matches a token when the term is one of these
 * forms, so the term itself is never stemmed: «ألماتي» does not shrink to «مات» (died).
 */
export function tokenForms(token: string): string[] {
  const arabic = ARABIC_LETTER.test(token);
  if (!arabic && !CYRILLIC_LETTER.test(token)) return [token];
  const cached = formsCache.get(token);
  if (cached) return cached;
  // Cyrillic words get the Kazakh endings peeled (a Russian word rarely ends in one that leaves
  // a stem some term is: what a stray form costs is a lookup that finds nothing).
  const forms = arabic ? arabicForms(token) : kazakhForms(token);
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
