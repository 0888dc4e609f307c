// Matching throughput (issue 4): normalise + index + match with the kazakhstan-unrest preset, and
// with 1, 100 and 10,000 watchlists compiled together, against a naive loop of one
// case-insensitive regex per term over the raw text.

import { readFileSync } from 'node:fs';
import { loadEntities, loadPresets } from '../src/config/load.js';
import { compileWatchlist, Matcher, type Watchlist } from '../src/match/matcher.js';
import { queryTerms, type QueryNode } from '../src/match/query.js';
import { normalizeTokens } from '../src/text/normalize.js';
import { corpus, type BenchItem } from './corpus.js';
import { measure, printTable } from './measure.js';

/** Every term of the watchlist, as the naive loop searches for it. */
function termsOf(node: QueryNode): string[] {
  return queryTerms(node, { excluded: true }).map((term) => term.tokens.join(' '));
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/gu, '\\$&');

/** The naive baseline: does any term of the watchlist occur (no AND, no exclusions, no clitics)? */
function naiveMatcher(watchlists: Watchlist[]): (item: BenchItem) => number {
  const compiled = watchlists.map((w) => termsOf(w.ast).map((term) => new RegExp(escape(term), 'iu')));
  return (item) => {
    const text = `${item.title}\n${item.text}`;
    let matched = 0;
    for (const regexes of compiled) if (regexes.some((re) => re.test(text))) matched++;
    return matched;
  };
}

/** `count` watchlists like users write them: a place or topic AND one of two terms, minus one. */
function syntheticWatchlists(count: number, items: BenchItem[]): Watchlist[] {
  const seen = new Set<string>();
  for (const item of items.slice(0, 200)) for (const token of normalizeTokens(`${item.title} ${item.text}`)) if (token.length > 3) seen.add(token);
  // Real words from the news plus made-up ones: a large vocabulary, most of it absent from any item.
  const letters = (n: number): string => (n < 26 ? String.fromCharCode(97 + n) : letters(Math.floor(n / 26) - 1) + letters(n % 26));
  const vocabulary = [...seen, ...Array.from({ length: 20_000 }, (_, i) => `term${letters(i)}`)];
  let state = 7;
  const pick = () => vocabulary[(state = (state * 48271) % 2147483647) % vocabulary.length] ?? 'x';
  return Array.from({ length: count }, (_, i) => compileWatchlist(`w${i}`, `${pick()} (${pick()} OR ${pick()}*) -${pick()}`));
}

export function benchMatch(): void {
  const items = corpus(readFileSync(new URL('../test/fixtures/seed-almaty-ar.txt', import.meta.url), 'utf8'), 2000);
  const preset = loadPresets(loadEntities()).get('kazakhstan-unrest') as Watchlist;
  const expected = items.filter((i) => i.unrest).length;
  const avgChars = Math.round(items.reduce((n, i) => n + i.text.length, 0) / items.length);

  let ours = 0;
  const presetMatcher = new Matcher([preset]);
  const oursResult = measure(() => {
    ours = 0;
    for (const item of items) if (presetMatcher.match(item.title, item.text).length > 0) ours++;
  }, items.length);
  const naivePreset = naiveMatcher([preset]);
  let baseline = 0;
  const naiveResult = measure(() => {
    baseline = 0;
    for (const item of items) baseline += naivePreset(item);
  }, items.length);
  printTable(`match: ${items.length} items (ar/ru/kk/en, avg ${avgChars} chars), preset kazakhstan-unrest (${termsOf(preset.ast).length} terms)`, [
    { name: 'steppewatch (normalise+index+match)', ...oursResult, note: `${ours} matched (${expected} should)` },
    { name: 'naive (regex per term, any hit)', ...naiveResult, note: `${baseline} "matched": no AND, no exclusions, no clitics` },
  ]);

  process.stdout.write(`\nmatch: many watchlists compiled together, same ${items.length} items\n`);
  process.stdout.write(`  ${'watchlists'.padStart(10)}  ${'steppewatch'.padStart(14)}  ${'naive'.padStart(14)}  ${'speed-up'.padStart(8)}  cost vs 1\n`);
  let single = 0;
  for (const count of [1, 100, 10_000]) {
    const watchlists = syntheticWatchlists(count, items);
    const matcher = new Matcher(watchlists);
    const ourRun = measure(() => {
      for (const item of items) matcher.match(item.title, item.text);
    }, items.length, 5);
    // The naive loop is slow at 10,000 watchlists: time it on fewer items.
    const sample = items.slice(0, count >= 10_000 ? 50 : count >= 100 ? 500 : items.length);
    const naive = naiveMatcher(watchlists);
    const naiveRun = measure(() => {
      for (const item of sample) naive(item);
    }, sample.length, 3);
    if (count === 1) single = ourRun.perSecond;
    process.stdout.write(
      `  ${String(count).padStart(10)}  ${`${Math.round(ourRun.perSecond).toLocaleString('en')} items/s`.padStart(14)}  ` +
        `${`${Math.round(naiveRun.perSecond).toLocaleString('en')} items/s`.padStart(14)}  ${`${(ourRun.perSecond / naiveRun.perSecond).toFixed(1)}×`.padStart(8)}  ` +
        `${(single / ourRun.perSecond).toFixed(2)}×\n`,
    );
  }
  process.stdout.write('  targets: ≥ 50,000 items/s with the preset; 10,000 watchlists cost ≤ 3× one; ≥ 20× the naive loop at 10,000\n');
}
