// Sentence splitting for summaries in ar/ru/kk/en, on text cleaned by ingestion.
//
// A sentence ends at . ! ? … or the Arabic question mark ؟ and full stop ۔ when whitespace follows
// (so 3.5 and U.S.-led never split), optionally after closing quotes or brackets; and at a line
// break. It does not end after a known abbreviation («т.е.», «г.», «U.S.», «Mr.»), after a single
// capital letter (an initial: «К. Токаев»), or when the next word starts in lower case. The Arabic
// comma ، and semicolon ؛ join clauses and never split.

const TERMINATOR = /[.!?…؟۔]+["'»”’)\]]*(?=\s)/gu;

// Lower-cased, without the final period; multi-part ones («т.е.») as written inside.
const ABBREVIATIONS = new Set([
  // English
  'mr', 'mrs', 'ms', 'dr', 'prof', 'st', 'sr', 'jr', 'gen', 'col', 'lt', 'sgt', 'gov', 'sen', 'rep', 'rev', 'vs', 'etc', 'inc',
  'ltd', 'co', 'corp', 'no', 'jan', 'feb', 'mar', 'apr', 'jun', 'jul', 'aug', 'sep', 'sept', 'oct', 'nov', 'dec', 'approx',
  'u.s', 'u.k', 'u.n', 'e.g', 'i.e', 'a.m', 'p.m',
  // Russian and Kazakh
  'т.е', 'т.д', 'т.п', 'т.к', 'т.н', 'др', 'пр', 'г', 'гг', 'в', 'вв', 'им', 'ул', 'пр-т', 'пл', 'д', 'кв', 'обл', 'р-н', 'с',
  'пос', 'млн', 'млрд', 'тыс', 'руб', 'тг', 'проф', 'акад', 'ген', 'см', 'стр', 'рис', 'мин', 'сек', 'ж', 'жж', 'көш',
]);
const LETTER = /\p{L}/u;
const LOWER_START = /^\s*["'«“(]*\p{Ll}/u;
const SINGLE_CAPITAL = /(?:^|[\s(«"])\p{Lu}$/u;

/** Whether the text before a period ends in an abbreviation or an initial. */
function endsInAbbreviation(before: string): boolean {
  if (SINGLE_CAPITAL.test(before)) return true;
  const word = /([\p{L}.-]+)$/u.exec(before)?.[1]?.toLowerCase();
  return word !== undefined && ABBREVIATIONS.has(word);
}

/** Splits cleaned text into trimmed, non-empty sentences in their original order. */
export function splitSentences(text: string): string[] {
  const sentences: string[] = [];
  for (const paragraph of text.split(/\n+/u)) {
    let start = 0;
    for (const match of paragraph.matchAll(TERMINATOR)) {
      const end = match.index + match[0].length;
      const before = paragraph.slice(start, match.index);
      const rest = paragraph.slice(end);
      // Only a plain period can belong to an abbreviation; ?, ! and … always end a sentence.
      if (match[0].startsWith('.') && !match[0].startsWith('..') && endsInAbbreviation(before)) continue;
      if (LOWER_START.test(rest) && LETTER.test(rest)) continue;
      sentences.push(paragraph.slice(start, end));
      start = end;
    }
    sentences.push(paragraph.slice(start));
  }
  return sentences.map((s) => s.replace(/\s+/gu, ' ').trim()).filter((s) => s.length > 0);
}
