// `explain --jsonl` throughput (issue 20): the built CLI spawned on 100,000 news-length items of
// mixed length and language, process start included, beside a naive substring loop over the same
// lines in its own process; and the matcher alone on the same items, beside the same naive loop
// in this process.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { loadEntities, loadPresets } from '../src/config/load.js';
import type { Matcher as SourceMatcher, Watchlist } from '../src/match/matcher.js';
import { queryTerms } from '../src/match/query.js';
import { measure, printTable, type Measurement } from './measure.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const CLI = join(ROOT, 'dist/cli.js');
const ITEMS = 100_000;

export interface ExplainItem {
  id: number;
  title: string;
  text: string;
}

/** Every title and text of the labelled matching sets: ~1,000 short reports in ar/ru/kk/en. */
function reports(): Array<{ title: string; text: string }> {
  const found: Array<{ title: string; text: string }> = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node !== null && typeof node === 'object') {
      const { title, text } = node as { title?: unknown; text?: unknown };
      if (typeof title === 'string' && typeof text === 'string') found.push({ title, text });
      else Object.values(node).forEach(walk);
    }
  };
  for (const set of ['labelled', 'dev-19', 'dev-19c', 'held-out-19', 'held-out-19c', 'held-out']) {
    walk(parse(readFileSync(join(ROOT, `test/fixtures/match/${set}.yaml`), 'utf8')));
  }
  return found;
}

/**
 * `count` items in a fixed pseudo-random order: one in sixteen the seed article cut to ~3,000
 * characters, the rest a labelled report, half of them with a second report's text after it
 * (mean ~420 characters).
 */
export function explainCorpus(count: number): ExplainItem[] {
  const pool = reports();
  const seed = readFileSync(join(ROOT, 'test/fixtures/seed-almaty-ar.txt'), 'utf8');
  const long = seed.slice(0, seed.lastIndexOf('.', 3000) + 1);
  let state = 42;
  const next = () => (state = (state * 48271) % 2147483647); // MINSTD: exact in doubles
  const pick = () => pool[next() % pool.length] ?? { title: '', text: '' };
  const items: ExplainItem[] = [];
  for (let id = 1; id <= count; id++) {
    if (id % 16 === 0) {
      items.push({ id, title: 'انفجارات في ألما آتا', text: long });
      continue;
    }
    const { title, text } = pick();
    items.push({ id, title, text: next() % 2 === 0 ? `${text} ${pick().text}` : text });
  }
  return items;
}

/** The preset's terms as plain lower-case strings (phrases joined by a space, prefixes without *). */
function naiveTerms(preset: Watchlist): string[] {
  return [...new Set(queryTerms(preset.ast, { excluded: true }).map((term) => term.tokens.join(' ')))];
}

// The naive baseline as its own program: read the lines, parse each, lower-case it and look for
// any of the terms as a substring (no AND, no exclusions, no clitics, no folding); one write.
const NAIVE_PROGRAM = `
const { readFileSync } = require('node:fs');
const terms = JSON.parse(readFileSync(process.argv[1], 'utf8'));
const lines = readFileSync(process.argv[2], 'utf8').split('\\n');
const out = [];
let matched = 0;
for (const line of lines) {
  if (line === '') continue;
  const { id, title, text } = JSON.parse(line);
  const hay = (title + '\\n' + text).toLowerCase();
  const match = terms.some((t) => hay.includes(t));
  if (match) matched++;
  out.push(JSON.stringify({ id, match }));
}
process.stdout.write(out.join('\\n') + '\\n');
process.exitCode = matched > 0 ? 0 : 1;
`;

/** Runs a process `runs` times (stdout to /dev/null); the median wall time. */
function timeProcess(args: string[], units: number, runs = 5): Measurement {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = process.hrtime.bigint();
    const result = spawnSync(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env.PATH, HOME: process.env.HOME } });
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
    if (result.status !== 0 && result.status !== 1) throw new Error(`${args.join(' ')}: exit ${String(result.status)}: ${result.stderr.toString()}`);
  }
  times.sort((a, b) => a - b);
  const medianMs = times[Math.floor(times.length / 2)] ?? 0;
  return { medianMs, perSecond: units / (medianMs / 1000) };
}

export async function benchExplain(): Promise<void> {
  if (!existsSync(CLI)) {
    process.stdout.write('\nexplain: dist/cli.js missing, run `npm run build` first\n');
    return;
  }
  const items = explainCorpus(ITEMS);
  const preset = loadPresets(loadEntities()).get('kazakhstan-unrest') as Watchlist;
  const terms = naiveTerms(preset);
  const dir = mkdtempSync(join(tmpdir(), 'steppewatch-explain-'));
  try {
    const file = join(dir, 'items.jsonl');
    writeFileSync(file, `${items.map((item) => JSON.stringify(item)).join('\n')}\n`);
    const termsFile = join(dir, 'terms.json');
    writeFileSync(termsFile, JSON.stringify(terms));
    const chars = Math.round(items.reduce((n, i) => n + i.title.length + i.text.length, 0) / items.length);
    const long = items.filter((i) => i.text.length >= 2000).length;

    const ours = timeProcess([CLI, 'explain', '--watchlist', 'kazakhstan-unrest', '--jsonl', file], items.length);
    const naive = timeProcess(['-e', NAIVE_PROGRAM, termsFile, file], items.length);
    printTable(
      `explain --jsonl: ${items.length.toLocaleString('en')} items (ar/ru/kk/en, avg ${chars} chars, ${long.toLocaleString('en')} of ~3,000), preset kazakhstan-unrest, process start included (median of 5 runs)`,
      [
        { name: 'steppewatch explain --jsonl FILE', ...ours, note: 'target: ≥ 50,000 items/s' },
        { name: 'naive (node, substring per term)', ...naive, note: `${terms.length} terms lower-cased, any hit: no AND, exclusions, clitics or hits` },
      ],
    );

    // The matcher alone, on the same items, in this process: the built one, which the CLI runs.
    const { Matcher } = (await import(join(ROOT, 'dist/match/matcher.js'))) as { Matcher: typeof SourceMatcher };
    const sample = items.slice(0, 20_000);
    const matcher = new Matcher([preset]);
    let matched = 0;
    const alone = measure(() => {
      matched = 0;
      for (const item of sample) if (matcher.match(item.title, item.text).length > 0) matched++;
    }, sample.length, 5);
    let naiveMatched = 0;
    const naiveAlone = measure(() => {
      naiveMatched = 0;
      for (const item of sample) {
        const hay = `${item.title}\n${item.text}`.toLowerCase();
        if (terms.some((t) => hay.includes(t))) naiveMatched++;
      }
    }, sample.length, 5);
    printTable(`matcher alone (dist/): new Matcher([preset]).match(title, text), the first ${sample.length.toLocaleString('en')} of those items`, [
      { name: 'steppewatch Matcher', ...alone, note: `${matched} matched; target: ≥ 100,000 items/s` },
      { name: 'naive (substring per term)', ...naiveAlone, note: `${naiveMatched} "matched"` },
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await benchExplain();
