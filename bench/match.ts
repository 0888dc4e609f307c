// Matching throughput: our normalise + index + match with the kazakhstan-unrest preset, against
// a naive baseline (one case-insensitive regex per preset term, tested on the raw text).

import { readFileSync } from 'node:fs';
import { loadPresets } from '../src/config/load.js';
import { indexDocument } from '../src/match/document.js';
import { matchWatchlist, type Watchlist } from '../src/match/matcher.js';
import type { QueryNode } from '../src/match/query.js';
import { corpus } from './corpus.js';
import { measure, printTable } from './measure.js';

function termsOf(node: QueryNode): string[] {
  switch (node.kind) {
    case 'term':
      return [node.tokens.join(' ')];
    case 'not':
      return termsOf(node.child);
    case 'near':
      return [...termsOf(node.left), ...termsOf(node.right)];
    default:
      return node.children.flatMap(termsOf);
  }
}

export function benchMatch(): void {
  const preset = loadPresets().get('kazakhstan-unrest') as Watchlist;
  const items = corpus(readFileSync(new URL('../test/fixtures/seed-almaty-ar.txt', import.meta.url), 'utf8'), 2000);
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/gu, '\\$&');
  const naive = termsOf(preset.ast).map((term) => new RegExp(escape(term), 'iu'));

  const expected = items.filter((i) => i.unrest).length;
  let ours = 0;
  let baseline = 0;
  const oursResult = measure(() => {
    ours = 0;
    for (const item of items) if (matchWatchlist(preset, indexDocument(item.title, item.text))) ours++;
  }, items.length);
  const naiveResult = measure(() => {
    baseline = 0;
    for (const item of items) {
      const text = `${item.title}\n${item.text}`;
      if (naive.some((re) => re.test(text))) baseline++;
    }
  }, items.length);

  printTable(`match: ${items.length} items (ar/ru/kk/en, avg ${Math.round(items.reduce((n, i) => n + i.text.length, 0) / items.length)} chars), preset kazakhstan-unrest (${naive.length} terms)`, [
    { name: 'steppewatch (normalise+index+match)', ...oursResult, note: `${ours} matched (${expected} should)` },
    { name: 'naive (regex per term, any hit)', ...naiveResult, note: `${baseline} "matched": no AND, no exclusions, no clitics` },
  ]);
}
