// What a report says, reduced to a set of terms and a MinHash signature of that set, so that two
// reports of one story (a wire copy, a rewrite) can be recognised by how many terms they share.
//
// Terms are the content words of the title and lead, folded as the matcher folds them, with
// function words dropped and inflection cut back (Arabic clitics peeled, Cyrillic and Latin words
// cut to their first five letters: «акимата» and «акимат», «protesters» and «protest» meet),
// plus the numbers, plus one term per entity named (so «Almaty» and «Алматы» meet across scripts).

import { normalizeTokens, tokenForms } from '../text/normalize.js';
import { featureList, normalizeNumbers, type FeatureFinder } from './features.js';

/** Number of MinHash values in a signature. */
export const SIGNATURE_SIZE = 64;
/** Words of the body read after the title: the lead carries the story, the rest wanders. */
const LEAD_WORDS = 40;
/** Words read for names, events, numbers and dates: a second paragraph often has the toll. */
const FEATURE_WORDS = 80;
const STEM_LENGTH = 5;

// Function words and newsroom boilerplate in the four languages, normalised as text is.
const STOPWORDS = new Set(
  normalizeTokens(`
    a an the of in on at to for from by with as and or but is are was were be been has have had it its this that these those
    he she they we you i his her their our not no than then there after before over under into about amid said says say will
    would could also more most new news update live video photo during across down up show shows told
    и в во на с со к ко по о об от до из за для при про у же ли не ни но а или что как это этот эта эти его её их
    был была были было будет быть уже также после перед над под между через около сообщили сообщил сообщает заявил
    передаёт словам который которая которые время год года году
    және мен бен пен да де та те бұл осы ол олар деп үшін бойынша туралы кейін дейін арқылы жылы
    في من على إلى الى عن مع أن ان إن هذا هذه ذلك التي الذي الذين كان كانت قد لقد ثم أو او بعد قبل حتى عند بين كما
    وقال قال قالت أعلن اعلن بحسب وفق وفقا خلال منذ نحو
  `),
);

/** A report reduced for comparison. */
export interface Fingerprint {
  /** the distinct terms (see the top of this file) */
  terms: string[];
  /** entity names the report mentions */
  entities: string[];
  /** numbers the report mentions */
  numbers: string[];
  /** what the report says that no language changes (see features.ts): `@entity #event n:164 d:01-19` */
  features: string[];
  /** MinHash of `terms` */
  signature: Uint32Array;
  /** which LSH bands carry more than one term (see MinHash) */
  bands: number;
  /** a 32-bit hash of each term, sorted: the exact similarity, cheaply */
  termHashes: Uint32Array;
}

/** The leading words of a text, so a long body costs no more than its lead. */
function lead(text: string, count: number): string {
  let words = 0;
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) === 32 && ++words >= count) return text.slice(0, i);
  }
  return text;
}

const ARABIC = /[\u0600-\u06FF]/u;
const DIGITS = /^\p{N}+$/u;

/** A word cut back to what its inflections share. */
function stem(token: string): string {
  if (ARABIC.test(token)) {
    // The shortest form light stemming allows, of at least three letters: «والاحتجاجات» → «احتجاج».
    let best = token;
    for (const form of tokenForms(token)) if (form.length >= 3 && form.length < best.length) best = form;
    return best;
  }
  return token.length > STEM_LENGTH ? token.slice(0, STEM_LENGTH) : token;
}

/**
 * The terms of a title and body (see the top of this file). The words that name an entity count
 * once, as the entity: else every report naming Tokayev would share a term for each of his names.
 */
export function reportTerms(
  title: string,
  text: string,
  entities: readonly string[],
  entityForms: ReadonlySet<string> = new Set(),
): { terms: string[]; numbers: string[] } {
  const terms = new Set<string>();
  const numbers = new Set<string>();
  for (const token of normalizeTokens(`${title}\n${lead(text, LEAD_WORDS)}`)) {
    if (DIGITS.test(token)) {
      numbers.add(token);
      terms.add(token);
    } else if (token.length >= 2 && !STOPWORDS.has(token) && !tokenForms(token).some((form) => entityForms.has(form))) terms.add(stem(token));
  }
  for (const entity of entities) terms.add(`@${entity}`);
  return { terms: [...terms], numbers: [...numbers] };
}

// Hash functions for MinHash: one 32-bit hash per term, then SIGNATURE_SIZE cheap remixes of it.
function termHash(term: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < term.length; i++) hash = Math.imul(hash ^ term.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}
const SEEDS = Array.from({ length: SIGNATURE_SIZE }, (_, i) => Math.imul(i + 1, 0x9e3779b1) >>> 0);
function remix(hash: number, seed: number): number {
  let h = (hash ^ seed) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Signature values per LSH band (see report-index.ts). */
export const BAND_ROWS = 2;

export interface MinHash {
  /** position i holds the least of the i-th hash over the terms */
  signature: Uint32Array;
  /**
   * bit b set when band b's values come from different terms. A band whose values one term gave
   * says only that the term is shared, and one shared common word («Kazakhstan») is no sign of
   * one story: such bands are not used to find candidates.
   */
  bands: number;
}

/** MinHash of a set of terms. */
export function minHash(terms: readonly string[]): MinHash {
  const signature = new Uint32Array(SIGNATURE_SIZE).fill(0xffffffff);
  const argmin = new Int32Array(SIGNATURE_SIZE).fill(-1);
  terms.forEach((term, t) => {
    const hash = termHash(term);
    for (let i = 0; i < SIGNATURE_SIZE; i++) {
      const h = remix(hash, SEEDS[i] ?? 0);
      if (h < (signature[i] ?? 0)) {
        signature[i] = h;
        argmin[i] = t;
      }
    }
  });
  let bands = 0;
  for (let b = 0; b < SIGNATURE_SIZE / BAND_ROWS; b++) {
    const first = argmin[b * BAND_ROWS] ?? -1;
    for (let r = 1; r < BAND_ROWS; r++) {
      if ((argmin[b * BAND_ROWS + r] ?? -1) !== first) {
        bands |= 1 << b;
        break;
      }
    }
  }
  return { signature, bands: bands >>> 0 };
}

/** The sorted, distinct hashes of a set of terms. */
export function termHashes(terms: readonly string[]): Uint32Array {
  return Uint32Array.from(new Set(terms.map(termHash))).sort();
}

/** Jaccard similarity of two sorted hash sets: shared over all. */
export function jaccard(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let i = 0;
  let j = 0;
  let shared = 0;
  while (i < a.length && j < b.length) {
    const x = a[i] ?? 0;
    const y = b[j] ?? 0;
    if (x === y) {
      shared++;
      i++;
      j++;
    } else if (x < y) i++;
    else j++;
  }
  const all = a.length + b.length - shared;
  return all === 0 ? 0 : shared / all;
}

/** A report's fingerprint; `finder` null compares words alone (no entities, events or dates). */
export function fingerprint(title: string, text: string, finder: FeatureFinder | null): Fingerprint {
  const cleanTitle = normalizeNumbers(title);
  const body = normalizeNumbers(lead(text, FEATURE_WORDS));
  const found = finder ? finder.find(cleanTitle, body) : null;
  const { terms, numbers } = reportTerms(cleanTitle, body, found?.entities ?? [], found?.entityForms);
  return {
    terms,
    entities: found?.entities ?? [],
    numbers: found?.numbers ?? numbers,
    features: found ? featureList(found) : numbers.map((n) => `n:${n}`),
    ...minHash(terms),
    termHashes: termHashes(terms),
  };
}
