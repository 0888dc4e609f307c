// A deterministic mixed-language corpus of news-like items for benchmarks.

export interface BenchItem {
  title: string;
  text: string;
  /** whether the kazakhstan-unrest preset should match it */
  unrest: boolean;
}

// [text, is it unrest in Kazakhstan?]
const SNIPPETS: Array<[string, boolean]> = [
  ['В Алматы прошёл митинг против роста цен на газ. Полиция задержала несколько человек.', true],
  ['Жаңаөзенде наразылық акциясы жалғасуда. Президент Тоқаев үкіметті отставкаға жіберді.', true],
  ['CSTO peacekeeping troops took control of Almaty airport on Friday, the ministry said.', true],
  ['The tenge traded flat on Monday as the Kazakhstan Stock Exchange reopened after the holiday.', false],
  ['Футбольный матч в Астане завершился победой хозяев; болельщики устроили шествие.', false],
  ['Thousands protest in Paris over pension reform as police use tear gas.', false],
  ['يستقبل مهرجان التفاح في ألماتي آلاف الزوار هذا الأسبوع.', false],
  ['Алдағы күндері Алматыда күн ашық, жауын-шашынсыз болады деп күтілуде.', false],
];

/** `count` items: one in ten the seed article, the rest snippets in a fixed pseudo-random order. */
export function corpus(seed: string, count: number): BenchItem[] {
  const items: BenchItem[] = [];
  let state = 42;
  const next = () => (state = (state * 48271) % 2147483647); // MINSTD: exact in doubles
  for (let i = 0; i < count; i++) {
    if (i % 10 === 0) {
      items.push({ title: 'انفجارات في ألما آتا', text: seed, unrest: true });
      continue;
    }
    const [text, unrest] = SNIPPETS[next() % SNIPPETS.length] ?? ['', false];
    items.push({ title: text.split('.')[0] ?? '', text, unrest });
  }
  return items;
}
