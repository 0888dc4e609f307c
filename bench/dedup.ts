// Near-duplicate lookup + insert per report (issue 5): the LSH index over MinHash signatures with
// 10k, 100k and 1M stored reports, against a naive scan comparing the report with every stored one;
// beside it the same step as the worker takes it, through the store-backed StoryIndex over a
// SqliteStore (catch up, look up, commit). Then the cross-language step per matched item: the
// fingerprint with its language-free features, and the story decision over the candidates.

import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { parse } from 'yaml';
import { loadEntities, loadEvents } from '../src/config/load.js';
import { FeatureFinder } from '../src/dedup/features.js';
import { fingerprint, jaccard, minHash, termHashes, type Fingerprint } from '../src/dedup/fingerprint.js';
import { ReportIndex, type IndexedReport, type SimilarReport } from '../src/dedup/report-index.js';
import { StoryIndex } from '../src/dedup/story-index.js';
import { crossLanguageStories, DEFAULT_STORY_RULES, featureSimilarity, findStory, type Candidates, type FeatureStats } from '../src/dedup/story.js';
import { SqliteStore } from '../src/store/sqlite.js';
import type { FeedBatch } from '../src/store/store.js';

const LANGUAGES = ['en', 'ru', 'kk', 'ar'];

/**
 * Synthetic reports: 12–20 terms from a large vocabulary, some reports rewrites of earlier ones.
 * `rich` adds a language and language-free features drawn from small vocabularies (names, events,
 * numbers), so that feature lookups have work; without it the stream is today's, number for number.
 */
function reportMaker(seed: number, rich = false): (storyId: number, at: number) => IndexedReport {
  let state = seed;
  const next = () => (state = (state * 48271) % 2147483647);
  const vocabulary = 200_000;
  const recent: Array<{ terms: string[]; language: string; features: string[] }> = [];
  return (storyId, at) => {
    let terms: string[];
    let language = 'en';
    let features: string[] = [];
    const base = recent.length > 0 && next() % 4 === 0 ? recent[next() % recent.length] : undefined;
    if (base) {
      // A rewrite: most of an earlier report's terms, a few of its own.
      terms = base.terms.filter(() => next() % 5 !== 0);
      for (let i = 0; i < 3; i++) terms.push(`t${next() % vocabulary}`);
      if (rich) {
        language = base.language;
        features = base.features.filter(() => next() % 4 !== 0);
      }
    } else {
      terms = Array.from({ length: 12 + (next() % 9) }, () => `t${Math.floor(Math.sqrt(next() % (vocabulary * vocabulary)))}`);
      if (rich) {
        language = LANGUAGES[next() % LANGUAGES.length] ?? 'en';
        features = [`^@e${next() % 300}`, `@e${next() % 300}`, `^#ev${next() % 40}`, `n:${next() % 2000}`];
        if (next() % 3 === 0) features.push(`d:01-${String(1 + (next() % 28)).padStart(2, '0')}`);
      }
    }
    recent.push({ terms, language, features });
    if (recent.length > 1000) recent.shift();
    const entities = features.filter((f) => f.includes('@')).map((f) => f.replace(/^\^?@/u, ''));
    const numbers = features.filter((f) => f.startsWith('n:')).map((f) => f.slice(2));
    return { storyId, at, language, ...minHash(terms), termHashes: termHashes(terms), entities, numbers, features };
  };
}

function microseconds(run: () => void, count: number): number {
  const start = process.hrtime.bigint();
  run();
  return Number(process.hrtime.bigint() - start) / 1000 / count;
}

async function microsecondsAsync(run: () => Promise<void>, count: number): Promise<number> {
  const start = process.hrtime.bigint();
  await run();
  return Number(process.hrtime.bigint() - start) / 1000 / count;
}

const median = (values: number[]): number => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)] ?? 0;

interface InMemoryFigures {
  ours: number;
  naive: number;
  folded: number;
  measured: number;
  typedPerReport: number;
  perReport: number;
}

/** Today's figure: lookup + insert in the in-process ReportIndex, and the naive scan beside it. */
function inMemory(stored: number): InMemoryFigures {
  const make = reportMaker(7);
  const index = new ReportIndex(1024);
  const all: IndexedReport[] = [];
  const heapBefore = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
  for (let i = 0; i < stored; i++) {
    const report = make(i, i);
    index.add(report);
    all.push(report);
  }
  const heapAfter = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
  const probes = Array.from({ length: 6000 }, (_, i) => make(stored + i, stored + i));
  const since = 0;
  let folded = 0;
  const lookUpAndInsert = (batch: IndexedReport[]) => {
    for (const probe of batch) {
      const best = index.similar(probe.signature, probe.bands, probe.termHashes, since, 0.35)[0];
      if (best && best.similarity >= 0.35) folded++;
      index.add(probe);
    }
  };
  lookUpAndInsert(probes.slice(0, 1000)); // warm-up: the JIT's optimising tier
  folded = 0;
  const measured = probes.slice(1000);
  // Five rounds of 1000, the median: the machine's noise comes in bursts.
  const rounds = [0, 1, 2, 3, 4].map((r) => {
    const round = measured.slice(r * 1000, (r + 1) * 1000);
    return microseconds(() => lookUpAndInsert(round), round.length);
  });
  const ours = median(rounds);
  // The naive scan costs the stored count per report: time it on a few.
  const sample = probes.slice(0, stored >= 1_000_000 ? 5 : stored >= 100_000 ? 20 : 200);
  const naive = microseconds(() => {
    for (const probe of sample) {
      let best = 0;
      for (const report of all) best = Math.max(best, jaccard(probe.termHashes, report.termHashes));
      all.push(probe);
    }
  }, sample.length);
  return {
    ours,
    naive,
    folded,
    measured: measured.length,
    typedPerReport: index.typedBytes / index.size,
    perReport: (heapAfter - heapBefore) / stored,
  };
}

interface StoreFigures {
  perReport: number;
  coldMs: number;
  fillMs: number;
  dbBytesPerReport: number;
  folded: number;
  measured: number;
  /** mean µs per report in refresh, lookup (similar + withFeatures + stats), findStory, commit */
  phaseUs: [number, number, number, number];
  /** candidates per report (similar + withFeatures) */
  candidates: number;
}

const WINDOW_MS = 72 * 3600_000; // the default dedup window
const FEED = 'https://bench.example/feed';

/**
 * The worker's step through the store: a SqliteStore on a temp file holding `stored` reports (one
 * story per three), a StoryIndex over it read cold, then per report refresh + lookup + commit.
 */
async function storeBacked(stored: number): Promise<StoreFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'steppewatch-bench-'));
  const file = join(dir, 'bench.db');
  const store = new SqliteStore(file); // creates the schema
  try {
    // Reports spread over 90% of the window, oldest first, as the store would have them.
    const t0 = Date.UTC(2024, 0, 1);
    const step = Math.max(1, Math.floor((WINDOW_MS * 0.9) / stored));
    const make = reportMaker(11, true);
    // The bulk fill goes around the store (its API commits a feed poll per call): rows straight
    // into the same file with one prepared statement per table, in large transactions.
    const fillStart = process.hrtime.bigint();
    const bulk = new Database(file);
    bulk.pragma('synchronous = OFF');
    const insertStory = bulk.prepare('INSERT INTO stories (id, created_at, title, link) VALUES (?, ?, ?, NULL)');
    const insertReport = bulk.prepare(
      `INSERT INTO story_reports (id, story_id, at, source, link, title, language, signature, bands, term_hashes, entities, numbers, features)
       VALUES (?, ?, ?, 'bench', NULL, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const bytes = (values: Uint32Array) => Buffer.from(values.buffer, values.byteOffset, values.byteLength);
    const chunk = 50_000;
    const fill = bulk.transaction((from: number, to: number) => {
      for (let i = from; i < to; i++) {
        const at = t0 + i * step;
        const storyId = Math.floor(i / 3) + 1;
        if (i % 3 === 0) insertStory.run(storyId, at, `story ${storyId}`);
        const r = make(storyId, at);
        insertReport.run(
          i + 1,
          storyId,
          at,
          `report ${i}`,
          r.language,
          bytes(r.signature),
          r.bands,
          bytes(r.termHashes),
          JSON.stringify(r.entities),
          JSON.stringify(r.numbers),
          JSON.stringify(r.features),
        );
      }
    });
    for (let from = 0; from < stored; from += chunk) fill(from, Math.min(stored, from + chunk));
    bulk.pragma('wal_checkpoint(TRUNCATE)');
    bulk.close();
    const fillMs = Number(process.hrtime.bigint() - fillStart) / 1e6;
    const dbBytesPerReport = statSync(file).size / stored;

    let now = t0 + stored * step;
    const index = new StoryIndex(store, { windowMs: WINDOW_MS });
    const coldStart = process.hrtime.bigint();
    await index.refresh(now);
    const coldMs = Number(process.hrtime.bigint() - coldStart) / 1e6;

    const rules = DEFAULT_STORY_RULES;
    let folded = 0;
    let candidatesRead = 0;
    let item = 0;
    // Where the time goes, summed over the measured rounds: refresh, lookup, decision, commit.
    const phases = [0n, 0n, 0n, 0n];
    const probes = Array.from({ length: 1200 }, () => make(0, 0));
    const lookUpAndCommit = async (batch: IndexedReport[]) => {
      for (const probe of batch) {
        now += step;
        const t0 = process.hrtime.bigint();
        await index.refresh(now);
        const t1 = process.hrtime.bigint();
        const since = now - WINDOW_MS;
        const candidates: Candidates = {
          similar: index.similar(probe.signature, probe.bands, probe.termHashes, since, rules.threshold),
          withFeatures: index.withFeatures(probe.features, since, probe.termHashes),
          stats: index.stats(since),
        };
        const t2 = process.hrtime.bigint();
        const verdict = findStory({ fingerprint: { features: [...probe.features] }, language: probe.language }, candidates, now, rules);
        const t3 = process.hrtime.bigint();
        if (verdict) folded++;
        candidatesRead += candidates.similar.length + candidates.withFeatures.length;
        const story = verdict ? { id: verdict.storyId } : { newIndex: 0 };
        const key = `bench-${item++}`;
        const commit: FeedBatch = {
          feedUrl: FEED,
          at: now,
          items: [{ key, title: key, link: null, publishedAt: null, decision: verdict ? 'folded' : 'alerted', watchlists: [], story, contentHash: key }],
          newStories: verdict ? [] : [{ title: key, link: null, keys: [key] }],
          storyKeys: [],
          reports: [
            {
              story,
              at: now,
              source: 'bench',
              link: null,
              title: key,
              language: probe.language,
              signature: probe.signature,
              bands: probe.bands,
              termHashes: probe.termHashes,
              entities: [...probe.entities],
              numbers: [...probe.numbers],
              features: [...probe.features],
            },
          ],
          outbox: [],
          outboxRewrites: [],
          breaking: [],
          digestItems: [],
          fetch: { etag: null, lastModified: null },
        };
        await store.commitFeedBatch(commit);
        const t4 = process.hrtime.bigint();
        phases[0] = (phases[0] ?? 0n) + t1 - t0;
        phases[1] = (phases[1] ?? 0n) + t2 - t1;
        phases[2] = (phases[2] ?? 0n) + t3 - t2;
        phases[3] = (phases[3] ?? 0n) + t4 - t3;
      }
    };
    await lookUpAndCommit(probes.slice(0, 200)); // warm-up
    folded = 0;
    candidatesRead = 0;
    phases.fill(0n);
    const measured = probes.slice(200);
    const rounds: number[] = [];
    for (let r = 0; r < 5; r++) {
      const round = measured.slice(r * 200, (r + 1) * 200);
      rounds.push(await microsecondsAsync(() => lookUpAndCommit(round), round.length));
    }
    const phaseUs = phases.map((ns) => Number(ns) / 1000 / measured.length) as [number, number, number, number];
    return { perReport: median(rounds), coldMs, fillMs, dbBytesPerReport, folded, measured: measured.length, phaseUs, candidates: candidatesRead / measured.length };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

interface FixtureReport {
  lang: string;
  title: string;
  text: string;
}

/** The development set's reports (stories, then unrelated items), each with its story's number. */
function fixtureReports(): Array<FixtureReport & { story: number }> {
  const set = parse(readFileSync(new URL('../test/fixtures/dedup/clusters.yaml', import.meta.url), 'utf8')) as {
    stories: Array<{ reports: FixtureReport[] }>;
    unrelated: FixtureReport[];
  };
  return [
    ...set.stories.flatMap((story, s) => story.reports.map((r) => ({ ...r, story: s + 1 }))),
    ...set.unrelated.map((r, u) => ({ ...r, story: set.stories.length + 1 + u })),
  ];
}

/** The cross-language step per matched item: fingerprinting with features, and deciding over candidates. */
function benchCrossLanguage(): void {
  const finderStart = process.hrtime.bigint();
  const finder = new FeatureFinder(loadEntities(), loadEvents());
  const finderMs = Number(process.hrtime.bigint() - finderStart) / 1e6;
  const reports = fixtureReports();
  // ~40 probes spread over the set, so every language is among them.
  const stride = Math.max(1, Math.floor(reports.length / 40));
  const probes = reports.filter((_, i) => i % stride === 0).slice(0, 40);
  const langs = new Set(probes.map((p) => p.lang));
  const cycled = Array.from({ length: 400 }, (_, i) => probes[i % probes.length] as FixtureReport);
  const perItem = (run: (r: FixtureReport) => void): number => {
    for (const r of cycled) run(r); // warm-up
    return median([0, 1, 2, 3, 4].map(() => microseconds(() => cycled.forEach(run), cycled.length)));
  };
  let sink = 0;
  const withFeatures = perItem((r) => (sink += fingerprint(r.title, r.text, finder).features.length));
  const wordsOnly = perItem((r) => (sink += fingerprint(r.title, r.text, null).terms.length));

  // A 10k window over the last 11 hours: synthetic reports (their own features) with the set's
  // reports spread among them, so a probe's features meet its story and the set's near misses.
  const now = Date.UTC(2024, 0, 10);
  const windowSize = 10_000;
  const prints = reports.map((r) => ({ report: r, print: fingerprint(r.title, r.text, finder) }));
  const make = reportMaker(13, true);
  const index = new ReportIndex(windowSize);
  const window: IndexedReport[] = [];
  const every = Math.floor(windowSize / prints.length);
  let fixture = 0;
  for (let j = 0; j < windowSize; j++) {
    const at = now - (windowSize - j) * 4000;
    const real = j % every === every - 1 ? prints[fixture++] : undefined;
    const report: IndexedReport = real
      ? { storyId: real.report.story, at, language: real.report.lang, ...real.print }
      : make(100_000 + j, at);
    index.add(report);
    window.push(report);
  }
  const since = now - WINDOW_MS;
  const stats: FeatureStats = { reports: index.countSince(since), count: (f) => index.featureCount(f, since) };
  const rules = DEFAULT_STORY_RULES;
  const probeOf = (p: Fingerprint, language: string) => ({ fingerprint: p, language });

  // ~50 candidates per probe: the set's reports around it (its story's among them), not itself.
  const pool: Array<{ probe: ReturnType<typeof probeOf>; candidates: Candidates }> = probes.map((p) => {
    const at = reports.indexOf(p);
    const print = prints[at]?.print ?? fingerprint(p.title, p.text, finder);
    const near = Array.from({ length: 51 }, (_, k) => prints[(at - 25 + k + prints.length) % prints.length]).filter((c) => c && c.report !== p);
    const withFeaturesFound: SimilarReport[] = near.slice(0, 50).map((c, k) => ({
      storyId: c?.report.story ?? 0,
      at: now - k * 60_000,
      language: c?.report.lang ?? null,
      similarity: c ? jaccard(print.termHashes, c.print.termHashes) : 0,
      entities: c?.print.entities ?? [],
      numbers: c?.print.numbers ?? [],
      features: c?.print.features ?? [],
    }));
    return { probe: probeOf(print, p.lang), candidates: { similar: [], withFeatures: withFeaturesFound, stats } };
  });
  const cycledPool = Array.from({ length: 400 }, (_, i) => pool[i % pool.length] as (typeof pool)[number]);
  const perDecision = (run: (entry: (typeof pool)[number]) => void): number => {
    for (const entry of cycledPool) run(entry);
    return median([0, 1, 2, 3, 4].map(() => microseconds(() => cycledPool.forEach(run), cycledPool.length)));
  };
  const crossOnly = perDecision((e) => (sink += crossLanguageStories(e.probe, e.candidates, now, rules).length));
  const decision = perDecision((e) => (sink += findStory(e.probe, e.candidates, now, rules)?.storyId ?? 0));
  let candidatesSeen = 0;
  const throughIndex = perDecision((e) => {
    const found = index.withFeatures(e.probe.fingerprint.features, since, 64, e.probe.fingerprint.termHashes);
    candidatesSeen += found.length;
    sink += crossLanguageStories(e.probe, { similar: [], withFeatures: found, stats }, now, rules).length;
  });
  const meanCandidates = candidatesSeen / (cycledPool.length * 6);
  // The naive baseline: the probe's features against every report of the window.
  const naiveSample = pool.slice(0, 20);
  const naive = microseconds(() => {
    for (const e of naiveSample) {
      let best = 0;
      for (const report of window) best = Math.max(best, featureSimilarity(e.probe.fingerprint.features, report.features, stats));
      sink += best;
    }
  }, naiveSample.length);
  if (sink < 0) process.stdout.write('');

  const row = (label: string, us: number, note = '') => process.stdout.write(`  ${label.padEnd(64)}  ${`${us.toFixed(1)} µs`.padStart(12)}  ${note}\n`);
  process.stdout.write(
    `\ndedup: cross-language step per matched item, ${probes.length} reports of the development set (${[...langs].sort().join('/')}) cycled; FeatureFinder built once in ${finderMs.toFixed(0)} ms\n`,
  );
  process.stdout.write(`  ${'step'.padEnd(64)}  ${'per item'.padStart(12)}\n`);
  row('fingerprint with the finder (words + language-free features)', withFeatures);
  row('fingerprint with a null finder (words only)', wordsOnly);
  row('  the language-free features alone (entities, events, dates)', withFeatures - wordsOnly, `${Math.round((100 * (withFeatures - wordsOnly)) / withFeatures)}% of the fingerprint`);
  row('crossLanguageStories over 50 candidates', crossOnly);
  row('findStory over 50 candidates (rewrites, then across languages)', decision);
  row(`withFeatures + crossLanguageStories in a ${windowSize / 1000}k window`, throughIndex, `~${Math.round(meanCandidates)} candidates read`);
  row(`naive: featureSimilarity with all ${windowSize / 1000}k reports of the window`, naive, `${Math.round(naive / throughIndex)}× the indexed lookup`);
  process.stdout.write('  target: features + decision ≤ 100 µs per matched item, ≥ 10× under the naive scan of a 10k window\n');
}

export async function benchDedup(): Promise<void> {
  process.stdout.write(
    '\ndedup: story lookup + insert per report, LSH over MinHash in memory, the same through the store-backed index, and a naive scan of every stored report\n',
  );
  process.stdout.write(
    `  ${'stored'.padStart(9)}  ${'in-memory'.padStart(10)}  ${'store-backed'.padStart(12)}  ${'naive scan'.padStart(12)}  ${'speed-up'.padStart(13)}  ` +
      `${'cold start'.padStart(10)}  ${'bulk fill'.padStart(9)}  memory per stored report\n`,
  );
  const notes: string[] = [];
  for (const stored of [10_000, 100_000, 1_000_000]) {
    const mem = inMemory(stored);
    const db = await storeBacked(stored);
    const speedUp = `${Math.round(mem.naive / mem.ours)}×/${Math.round(mem.naive / db.perReport)}×`;
    process.stdout.write(
      `  ${stored.toLocaleString('en').padStart(9)}  ${`${mem.ours.toFixed(1)} µs`.padStart(10)}  ${`${db.perReport.toFixed(1)} µs`.padStart(12)}  ` +
        `${`${mem.naive.toFixed(0)} µs`.padStart(12)}  ${speedUp.padStart(13)}  ${`${(db.coldMs / 1000).toFixed(2)} s`.padStart(10)}  ` +
        `${`${(db.fillMs / 1000).toFixed(1)} s`.padStart(9)}  ` +
        `${Math.round(mem.typedPerReport)} B in the index's arrays, ~${Math.round(mem.perReport)} B with the bench's own copies, ${Math.round(db.dbBytesPerReport)} B on disk\n`,
    );
    notes.push(
      `${stored.toLocaleString('en')}: in memory ${mem.folded} of ${mem.measured} folded; store-backed ${db.folded} of ${db.measured} folded, ` +
        `${db.phaseUs.map((us, i) => `${['refresh', 'lookup', 'findStory', 'commit'][i]} ${us.toFixed(0)}`).join(' + ')} µs (mean), ` +
        `~${Math.round(db.candidates)} candidates; cold start ${Math.round(stored / (db.coldMs / 1000)).toLocaleString('en')} reports/s`,
    );
  }
  process.stdout.write(
    '  in-memory: similar + add in a ReportIndex; store-backed: refresh (catch up) + similar + withFeatures + findStory with stats + commitFeedBatch of one item;\n' +
      '  cold start: the first refresh, reading the whole window from the store; speed-up: naive scan over in-memory / over store-backed\n',
  );
  for (const note of notes) process.stdout.write(`  ${note}\n`);
  process.stdout.write('  target: ≤ 20 µs per report at 1M in memory, ≤ 150 µs through the store, both flat across sizes; cold start of a 1M window ≤ 15 s\n');
  benchCrossLanguage();
}
