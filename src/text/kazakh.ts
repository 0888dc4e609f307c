// Kazakh inflection peeled off a word, so that one term finds its forms: «жарылыстан» (from the
// explosion) and «жарылды» (exploded) are forms of «жарылыс» / «жарыл», «Арыстағы» (in Arys) of
// «Арыс». Kazakh is agglutinative: a noun takes plural, possessive and case endings in that order,
// each in several variants by vowel harmony and the sound before it (-да/-де/-та/-те).
//
// This works on normalised text, where Kazakh letters are folded to Russian ones (қ→к, ғ→г, ң→н,
// ө→о, ү/ұ→у, ә→а, і→и), so the suffixes below are written folded and both harmony variants are
// always tried: the fold loses which one the word takes. Stripping is conservative so that a
// folded stem does not meet an unrelated word: stems keep at least three letters (four for
// verbs), the bare dative -а/-е and accusative -н are only taken after a possessive (where Kazakh
// puts them: «ортасына»), never from a bare stem («орта», middle, is not «өрт», fire, + -а).

/** One layer of endings, outermost first; a word is peeled from its end inwards. */
interface Layer {
  suffixes: readonly string[];
  /** endings of this layer that Kazakh only puts after a possessive ending */
  afterPossessive?: readonly string[];
  /** the least length of what remains */
  minStem: number;
}

const POSSESSIVE = ['ымыз', 'имиз', 'ыныз', 'иниз', 'мыз', 'миз', 'ныз', 'низ', 'сы', 'си', 'ым', 'им', 'ын', 'ин', 'ы', 'и'];

const LAYERS: readonly Layer[] = [
  // «Алматыдағы» (the one in Almaty), «облысындағы».
  { suffixes: ['дагы', 'деги', 'тагы', 'теги'], afterPossessive: ['ндагы', 'ндеги'], minStem: 3 },
  // Case: genitive, dative, accusative, locative, ablative, instrumental.
  {
    suffixes: ['нын', 'нин', 'дын', 'дин', 'тын', 'тин', 'га', 'ге', 'ка', 'ке', 'ны', 'ни', 'ды', 'ди', 'ты', 'ти', 'да', 'де', 'та', 'те', 'дан', 'ден', 'тан', 'тен', 'мен', 'бен', 'пен'],
    afterPossessive: ['нда', 'нде', 'нан', 'нен', 'на', 'не', 'а', 'е', 'н'],
    minStem: 3,
  },
  { suffixes: POSSESSIVE, minStem: 3 },
  { suffixes: ['лар', 'лер', 'дар', 'дер', 'тар', 'тер'], minStem: 3 },
  // Nouns of belonging and adjectives: «атыраулықтар» (people of Atyrau), «семейлік» (from Semey).
  { suffixes: ['лык', 'лик', 'дык', 'дик', 'тык', 'тик'], minStem: 4 },
  // Verbs: past tense with its persons (жарылды, ұсталдық), participles (ұсталған), converbs
  // (өртеніп), the progressive (жүргізілуде), the verbal noun (жарылу), the habitual (болатын).
  {
    suffixes: [
      'дыныз', 'диниз', 'тыныз', 'тиниз', 'дык', 'дик', 'тык', 'тик', 'дым', 'дим', 'тым', 'тим', 'дын', 'дин', 'тын', 'тин',
      'ды', 'ди', 'ты', 'ти', 'ган', 'ген', 'кан', 'кен', 'ып', 'ип', 'уда', 'уде', 'атын', 'етин', 'йтын', 'йтин', 'у',
    ],
    minStem: 4,
  },
];

const VOWELS = 'аеиоуыэюя';

/** At most this many forms per word: enough for four layers, bounded for odd input. */
const MAX_FORMS = 16;

/**
 * The word and its stems with Kazakh endings peeled off, outermost first
 * («жарылыстардың» → «жарылыстардын», «жарылыстар», «жарылыс»). `token` is normalised Cyrillic.
 */
export function kazakhForms(token: string): string[] {
  const forms = [token];
  if (token.length < 5) return forms;
  peel(token, 0, forms);
  return forms;
}

/** Each layer's endings by their last letter: a word is only tried against endings it can have. */
interface Ending {
  suffix: string;
  needsPossessive: boolean;
}
const BY_LAST_LETTER: ReadonlyArray<ReadonlyMap<string, readonly Ending[]>> = LAYERS.map(({ suffixes, afterPossessive = [] }) => {
  const map = new Map<string, Ending[]>();
  for (const [list, needsPossessive] of [
    [suffixes, false],
    [afterPossessive, true],
  ] as const) {
    for (const suffix of list) {
      const last = suffix.at(-1) ?? '';
      map.set(last, [...(map.get(last) ?? []), { suffix, needsPossessive }]);
    }
  }
  return map;
});

function peel(word: string, fromLayer: number, forms: string[]): void {
  const last = word.at(-1) ?? '';
  for (let layer = fromLayer; layer < LAYERS.length; layer++) {
    const endings = BY_LAST_LETTER[layer]?.get(last);
    if (!endings) continue;
    const { minStem } = LAYERS[layer] as Layer;
    for (const { suffix, needsPossessive } of endings) tryStrip(word, suffix, minStem, layer, needsPossessive, forms);
  }
}

function tryStrip(word: string, suffix: string, minStem: number, layer: number, needsPossessive: boolean, forms: string[]): void {
  if (forms.length >= MAX_FORMS || !word.endsWith(suffix)) return;
  const stem = word.slice(0, -suffix.length);
  if (stem.length < minStem) return;
  if (needsPossessive && !POSSESSIVE.some((p) => stem.endsWith(p) && stem.length - p.length >= 3)) return;
  if (!forms.includes(stem)) forms.push(stem);
  // Before a vowel a final к or п is voiced (наразылық → наразылығы, кітап → кітабы): the
  // dictionary form is given too.
  if (VOWELS.includes(suffix[0] ?? '') && /[гб]$/u.test(stem)) {
    const voiceless = `${stem.slice(0, -1)}${stem.endsWith('г') ? 'к' : 'п'}`;
    if (!forms.includes(voiceless) && forms.length < MAX_FORMS) forms.push(voiceless);
  }
  // A verb ending is the last layer; nouns go on inwards (case, then possessive, then plural),
  // and a participle may itself carry noun endings («ұсталғандардың»), which were peeled first.
  if (layer < LAYERS.length - 1) peel(stem, layer + 1, forms);
}
