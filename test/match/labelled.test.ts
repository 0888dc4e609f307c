// Runs the labelled news items in test/fixtures/match/labelled.yaml: every item against the
// kazakhstan-unrest preset (one test each, plus precision/recall per language printed at the end)
// and the hand-written queries against their own cases.

import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';
import { loadEntities, loadPresets } from '../../src/config/load.js';
import { indexDocument } from '../../src/match/document.js';
import { compileWatchlist, matchWatchlist, type Watchlist } from '../../src/match/matcher.js';

const LANGS = ['ar', 'ru', 'kk', 'en'] as const;
type Lang = (typeof LANGS)[number];

/** The least number of preset cases per language, and overall. */
const MIN_PER_LANG: Record<Lang, number> = { ar: 40, ru: 40, kk: 30, en: 40 };
const MIN_TOTAL = 170;

const PresetCase = z
  .strictObject({
    id: z.string().regex(/^(ar|ru|kk|en)-\d{3}$/u),
    lang: z.enum(LANGS),
    title: z.string().min(1),
    text: z.string(),
    match: z.boolean(),
    note: z.string().optional(),
  })
  .refine((c) => c.id.startsWith(`${c.lang}-`), { message: 'id must start with its lang', path: ['id'] });

const QueryCase = z.strictObject({
  id: z.string().regex(/^q\d+-\d+$/u),
  title: z.string(),
  text: z.string(),
  match: z.boolean(),
  note: z.string().optional(),
});

const Labelled = z
  .strictObject({
    preset: z.array(PresetCase).min(1),
    queries: z.array(
      z.strictObject({
        query: z.string().min(1),
        note: z.string().optional(),
        cases: z.array(QueryCase).min(3).max(6),
      }),
    ),
  })
  .superRefine((data, ctx) => {
    const seen = new Set<string>();
    const ids = [...data.preset.map((c) => c.id), ...data.queries.flatMap((q) => q.cases.map((c) => c.id))];
    for (const id of ids) {
      if (seen.has(id)) ctx.addIssue({ code: 'custom', message: `duplicate id ${id}` });
      seen.add(id);
    }
  });

type PresetCase = z.infer<typeof PresetCase>;

const FIXTURE = new URL('../fixtures/match/labelled.yaml', import.meta.url);
const raw: unknown = parse(readFileSync(FIXTURE, 'utf8'));
const labelled = Labelled.parse(raw);

function caseName(c: { id: string; title: string; match: boolean }): string {
  const title = c.title.length > 70 ? `${c.title.slice(0, 69)}…` : c.title;
  return `${c.id} (${c.match ? 'match' : 'no match'}): ${title}`;
}

function explain(c: { title: string; text: string; note?: string | undefined }): string {
  return [`title: ${c.title}`, `text: ${c.text}`, ...(c.note !== undefined ? [`note: ${c.note}`] : [])].join('\n');
}

let presetWatchlist: Watchlist | undefined;
function preset(): Watchlist {
  presetWatchlist ??= loadPresets().get('kazakhstan-unrest');
  if (!presetWatchlist) throw new Error('no kazakhstan-unrest preset in config/watchlists/');
  return presetWatchlist;
}

interface Outcome {
  lang: Lang;
  expected: boolean;
  got: boolean;
}
const outcomes = new Map<string, Outcome>();

function percent(numerator: number, denominator: number): string {
  return denominator === 0 ? '   n/a' : `${((100 * numerator) / denominator).toFixed(1).padStart(5)}%`;
}

function report(): string {
  const lines = ['kazakhstan-unrest on the labelled set', 'lang    n   tp  fp  fn  tn  precision  recall  accuracy'];
  const rows: [string, Outcome[]][] = [
    ...LANGS.map((lang): [string, Outcome[]] => [lang, [...outcomes.values()].filter((o) => o.lang === lang)]),
    ['all', [...outcomes.values()]],
  ];
  for (const [label, list] of rows) {
    const tp = list.filter((o) => o.expected && o.got).length;
    const fp = list.filter((o) => !o.expected && o.got).length;
    const fn = list.filter((o) => o.expected && !o.got).length;
    const tn = list.filter((o) => !o.expected && !o.got).length;
    const cells = [tp, fp, fn, tn].map((n) => String(n).padStart(3)).join(' ');
    lines.push(
      `${label.padEnd(4)} ${String(list.length).padStart(4)} ${cells}     ${percent(tp, tp + fp)}  ${percent(tp, tp + fn)}    ${percent(tp + tn, list.length)}`,
    );
  }
  const wrong = [...outcomes.entries()].filter(([, o]) => o.expected !== o.got).map(([id]) => id);
  lines.push(`wrong (${wrong.length}): ${wrong.join(' ') || '-'}`);
  return lines.join('\n');
}

describe('the labelled set', () => {
  it(`has at least ${MIN_TOTAL} preset cases, enough per language, and both classes in each`, () => {
    expect(labelled.preset.length).toBeGreaterThanOrEqual(MIN_TOTAL);
    for (const lang of LANGS) {
      const cases: PresetCase[] = labelled.preset.filter((c) => c.lang === lang);
      expect(cases.length, lang).toBeGreaterThanOrEqual(MIN_PER_LANG[lang]);
      expect(cases.some((c) => c.match), `${lang} has matching cases`).toBe(true);
      expect(cases.some((c) => !c.match), `${lang} has non-matching cases`).toBe(true);
    }
  });
});

describe('the kazakhstan-unrest preset on the labelled set', () => {
  afterAll(() => {
    if (outcomes.size > 0) console.log(report());
  });

  it.each(labelled.preset.map((c) => [caseName(c), c] as const))('%s', (_name, c) => {
    const got = matchWatchlist(preset(), indexDocument(c.title, c.text)) !== null;
    outcomes.set(c.id, { lang: c.lang, expected: c.match, got });
    expect(got, explain(c)).toBe(c.match);
  });
});

describe.each(labelled.queries)('query $query', ({ query, cases }) => {
  it.each(cases.map((c) => [caseName(c), c] as const))('%s', (_name, c) => {
    const watchlist = compileWatchlist('q', query, loadEntities());
    expect(matchWatchlist(watchlist, indexDocument(c.title, c.text)) !== null, explain(c)).toBe(c.match);
  });
});

// The held-out set was written after the preset was tuned on the set above, and is never tuned
// on: it says how the preset does on news it has not seen. Its floors guard against a preset
// change that loses ground; its misses are findings for the next revision of the preset.
const HeldOut = z.strictObject({
  preset: z.array(
    z.strictObject({ id: z.string().regex(/^ho-(ar|ru|kk|en)-\d{2}$/u), lang: z.enum(LANGS), title: z.string().min(1), text: z.string(), match: z.boolean() }),
  ),
});
const heldOut = HeldOut.parse(parse(readFileSync(new URL('../fixtures/match/held-out.yaml', import.meta.url), 'utf8')));

describe('the kazakhstan-unrest preset on held-out news', () => {
  it('keeps precision ≥ 95% and recall ≥ 80% on news it was not tuned on', () => {
    const results = heldOut.preset.map((c) => ({ ...c, got: matchWatchlist(preset(), indexDocument(c.title, c.text)) !== null }));
    const tp = results.filter((r) => r.match && r.got).length;
    const fp = results.filter((r) => !r.match && r.got).length;
    const fn = results.filter((r) => r.match && !r.got).length;
    const wrong = results.filter((r) => r.match !== r.got).map((r) => r.id);
    console.log(`held-out: ${results.length} items, precision ${percent(tp, tp + fp)}, recall ${percent(tp, tp + fn)}; wrong: ${wrong.join(' ') || '-'}`);
    expect(heldOut.preset.length).toBeGreaterThanOrEqual(40);
    expect(tp / (tp + fp)).toBeGreaterThanOrEqual(0.95);
    expect(tp / (tp + fn)).toBeGreaterThanOrEqual(0.8);
  });
});

// Sets written by someone who had seen neither the preset nor the other sets (issue 19), 40 reports
// per language, scored per language against floors (their measured figures, so that a change that
// loses ground fails):
// - dev-19.yaml and dev-19c.yaml, development sets: the preset's second and third revisions were
//   tuned on them;
// - held-out-19.yaml, written with dev-19, sealed until the first revision was committed;
// - held-out-19c.yaml, written with dev-19c, sealed until the third revision was committed, and
//   never tuned on: it says how the preset does on reports nobody tuned it for.
type Floors = Record<Lang, { precision: number; recall: number }>;

function perLanguageSet(name: string, file: string, ids: RegExp, floors: Floors): void {
  const Set19 = z.strictObject({
    preset: z.array(z.strictObject({ id: z.string().regex(ids), lang: z.enum(LANGS), title: z.string().min(1), text: z.string(), match: z.boolean() })),
  });
  const set = Set19.parse(parse(readFileSync(new URL(`../fixtures/match/${file}`, import.meta.url), 'utf8')));
  const counts = (lang: Lang | 'all') => {
    const list = set.preset.filter((c) => lang === 'all' || c.lang === lang).map((c) => ({ ...c, got: matchWatchlist(preset(), indexDocument(c.title, c.text)) !== null }));
    const count = (match: boolean, got: boolean) => list.filter((r) => r.match === match && r.got === got).length;
    return { n: list.length, tp: count(true, true), fp: count(false, true), fn: count(true, false), tn: count(false, false), wrong: list.filter((r) => r.match !== r.got).map((r) => r.id) };
  };
  describe(`the kazakhstan-unrest preset on ${name}, per language`, () => {
    afterAll(() => {
      const lines = [`${name}: lang    n   tp  fp  fn  tn  precision  recall`];
      for (const lang of [...LANGS, 'all'] as const) {
        const { n, tp, fp, fn, tn } = counts(lang);
        lines.push(`  ${lang.padEnd(4)} ${String(n).padStart(4)} ${[tp, fp, fn, tn].map((x) => String(x).padStart(3)).join(' ')}     ${percent(tp, tp + fp)}  ${percent(tp, tp + fn)}`);
      }
      lines.push(`  wrong: ${counts('all').wrong.join(' ') || '-'}`);
      console.log(lines.join('\n'));
    });
    it('has 40 reports per language, both labels in each', () => {
      for (const lang of LANGS) {
        const cases = set.preset.filter((c) => c.lang === lang);
        expect(cases, lang).toHaveLength(40);
        expect(new Set(cases.map((c) => c.match)).size, lang).toBe(2);
      }
    });
    it.each(LANGS)('%s keeps its floors', (lang) => {
      const { tp, fp, fn } = counts(lang);
      expect(tp / (tp + fp), `${lang} precision`).toBeGreaterThanOrEqual(floors[lang].precision);
      expect(tp / (tp + fn), `${lang} recall`).toBeGreaterThanOrEqual(floors[lang].recall);
    });
  });
}

perLanguageSet('dev-19', 'dev-19.yaml', /^dv-(ar|ru|kk|en)-\d{2}$/u, {
  ar: { precision: 0.95, recall: 0.95 },
  ru: { precision: 0.95, recall: 0.95 },
  kk: { precision: 0.95, recall: 0.95 },
  en: { precision: 0.95, recall: 0.9 },
});
perLanguageSet('dev-19c', 'dev-19c.yaml', /^dw-(ar|ru|kk|en)-\d{2}$/u, {
  ar: { precision: 0.95, recall: 0.95 },
  ru: { precision: 0.95, recall: 0.9 },
  kk: { precision: 0.95, recall: 0.9 },
  en: { precision: 0.95, recall: 0.95 },
});
// Measured once after the second revision (precision / recall): ar 95.0 / 79.2, ru 91.7 / 91.7,
// kk 95.2 / 83.3, en 100 / 79.2. Its misses were then read (to report them), so the third
// revision, tuned on dev-19c, is no longer blind to it: held-out-19c below is the blind measure.
perLanguageSet('held-out-19', 'held-out-19.yaml', /^ho2-(ar|ru|kk|en)-\d{2}$/u, {
  ar: { precision: 0.95, recall: 0.9 },
  ru: { precision: 0.95, recall: 0.9 },
  kk: { precision: 0.95, recall: 0.9 },
  en: { precision: 0.95, recall: 0.85 },
});
// Measured once, blind, after the third revision: ar 100 / 100, ru 100 / 95.8, kk 100 / 95.8,
// en 100 / 95.8 (precision / recall). Its misses are findings, not cases to tune on.
perLanguageSet('held-out-19c', 'held-out-19c.yaml', /^ho3-(ar|ru|kk|en)-\d{2}$/u, {
  ar: { precision: 0.95, recall: 0.95 },
  ru: { precision: 0.95, recall: 0.95 },
  kk: { precision: 0.95, recall: 0.95 },
  en: { precision: 0.95, recall: 0.95 },
});
