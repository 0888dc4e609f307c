// Latency (issue 21): from an item's publication to its alert accepted by the (fake) Bot API, for
// WebSub push, adaptive polling and a fixed schedule, side by side. The built CLI `run` against
// local sources that publish at known times (bench/latency-farm.ts): RSS feeds, a stand-in for a
// Telegram channel's web preview and a WebSub hub.
//
// Time-scaled where waiting is the point: the fixed "every 5 minutes" schedule runs every 30 s and
// adaptive polling's bounds are 1/10 of the defaults (6 s – 12 min, rate window 10 min), so the
// polling rows read as minutes ÷ 10. Push is not scaled: its latency is the pipeline's own.
// Runs alone too: `npx tsx bench/latency.ts [push|adaptive|fixed]…` (after `npm run build`).

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { followCli, freePort } from '../test/support/cli.js';
import { FAKE_TOKEN, FakeTelegram } from '../test/support/fake-telegram.js';
import { keywordOf, LatencyFarm, type SourcePlan } from './latency-farm.js';

interface Mode {
  name: string;
  note: string;
  plans: SourcePlan[];
  publishSeconds: number;
  /** after the last publication: time for its alert */
  graceSeconds: number;
  config: (farm: LatencyFarm, httpPort: number) => string;
}

interface ModeResult {
  mode: Mode;
  latenciesMs: number[];
  /** per source, sorted */
  bySource: Map<string, number[]>;
  published: number;
  missing: number;
  /** per source: the shortest gap between two of its requests, and its max-age */
  politeness: Array<{ name: string; minGapMs: number; medianGapMs: number; maxAgeSeconds: number | undefined; requests: number }>;
  deliveries: number;
}

const quantile = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;

/**
 * The sources, and a watchlist and a chat for each: Telegram lets a chat take about 20 messages a
 * minute, and one chat for every source would measure the sender's pacing instead of the source's.
 */
function sourcesYaml(farm: LatencyFarm, plans: SourcePlan[]): string {
  const feeds = plans.map((plan) => (plan.kind === 'rss' ? `  - url: ${farm.urlOf(plan)}\n` : `  - telegram: ${plan.name}\n`)).join('');
  const watchlists = plans.map((plan) => `  ${plan.name}: "${keywordOf(plan.name)}"\n`).join('');
  const chats = plans.map((plan) => `  - chat: "@bench_${plan.name}"\n    watchlists: [${plan.name}]\n    template: compact\n`).join('');
  return `feeds:\n${feeds}watchlists:\n${watchlists}channels:\n${chats}backlog:\n  max_items: 0\n`;
}

const POLLED: SourcePlan[] = [
  { name: 'busy', kind: 'rss', everySeconds: 8 },
  { name: 'steady', kind: 'rss', everySeconds: 20 },
  { name: 'quiet', kind: 'rss', everySeconds: 45 },
  { name: 'cached', kind: 'rss', everySeconds: 10, maxAgeSeconds: 20 },
  { name: 'almaty_channel', kind: 'channel', everySeconds: 15 },
];

const MODES: Mode[] = [
  {
    name: 'WebSub push',
    note: 'hub pushes signed content; safety poll every 30 s tick stays on',
    plans: [
      { name: 'pushed_a', kind: 'rss', everySeconds: 6, hub: true },
      { name: 'pushed_b', kind: 'rss', everySeconds: 9, hub: true },
    ],
    publishSeconds: 45,
    graceSeconds: 8,
    config: (farm, port) => `schedule: "*/30 * * * * *"\n${sourcesYaml(farm, MODES[0]?.plans ?? [])}http:\n  public_url: http://127.0.0.1:${port}\n`,
  },
  {
    name: 'adaptive polling',
    note: 'tick every 1 s; bounds 6 s – 12 min (1 min – 2 h ÷ 10)',
    plans: POLLED,
    publishSeconds: 120,
    graceSeconds: 15,
    config: (farm) => `schedule: "* * * * * *"\n${sourcesYaml(farm, POLLED)}polling:\n  min: 6s\n  max: 12m\n  window: 10m\n`,
  },
  {
    name: 'fixed schedule',
    note: 'every 30 s (every 5 min ÷ 10), every feed every tick',
    plans: POLLED,
    publishSeconds: 90,
    graceSeconds: 35,
    config: (farm) => `schedule: "*/30 * * * * *"\n${sourcesYaml(farm, POLLED)}polling:\n  adaptive: false\n`,
  },
];

async function runMode(mode: Mode): Promise<ModeResult> {
  const farm = new LatencyFarm(mode.plans);
  await farm.start();
  const telegram = await new FakeTelegram().start();
  const accepted = new Map<string, number>();
  telegram.onDelivered = (message) => {
    for (const token of message.text.match(/t\d+x[0-9a-f]{6}/gu) ?? []) if (!accepted.has(token)) accepted.set(token, Date.now());
  };
  const dir = mkdtempSync(join(tmpdir(), 'steppewatch-latency-'));
  const httpPort = await freePort();
  writeFileSync(join(dir, 'steppewatch.yaml'), mode.config(farm, httpPort));
  const cli = followCli(['run', '--config', join(dir, 'steppewatch.yaml')], {
    DATABASE_URL: `sqlite:${join(dir, 'bench.db')}`,
    TELEGRAM_BOT_TOKEN: FAKE_TOKEN,
    TELEGRAM_API_ROOT: telegram.apiRoot,
    TELEGRAM_PREVIEW_ROOT: farm.base,
    HTTP_PORT: String(httpPort),
    LOG_LEVEL: 'info',
  });
  try {
    // The first cycle records each source's backlog; publications start after it (and, for push,
    // once the hub holds every subscription).
    await cli.waitForLog((line) => line.msg === 'cycle finished');
    const hubbed = mode.plans.filter((p) => p.hub).length;
    for (let waited = 0; farm.subscriptions.size < hubbed; waited += 100) {
      if (waited > 20_000) throw new Error(`push: the hub has ${farm.subscriptions.size} of ${hubbed} subscriptions after 20 s`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await farm.publishFor(mode.publishSeconds);
    await new Promise((resolve) => setTimeout(resolve, mode.graceSeconds * 1000));
  } finally {
    cli.child.kill('SIGTERM');
    await cli.exited;
    await telegram.stop();
    await farm.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const latenciesMs: number[] = [];
  const bySource = new Map<string, number[]>();
  let missing = 0;
  for (const item of farm.published) {
    const at = accepted.get(item.token);
    if (at === undefined) {
      missing++;
      continue;
    }
    latenciesMs.push(at - item.publishedAt);
    bySource.set(item.source, [...(bySource.get(item.source) ?? []), at - item.publishedAt]);
  }
  for (const list of bySource.values()) list.sort((a, b) => a - b);
  const politeness = mode.plans.map((plan) => {
    const times = farm.requests.get(plan.name) ?? [];
    const gaps = times.slice(1).map((t, i) => t - (times[i] ?? 0)).sort((a, b) => a - b);
    return { name: plan.name, minGapMs: gaps[0] ?? Number.NaN, medianGapMs: quantile(gaps, 0.5), maxAgeSeconds: plan.maxAgeSeconds, requests: times.length };
  });
  return { mode, latenciesMs: latenciesMs.sort((a, b) => a - b), bySource, published: farm.published.length, missing, politeness, deliveries: farm.deliveries };
}

/** `only`: the modes to run, by a word of their name (all when empty). */
export async function benchLatency(only: string[] = []): Promise<void> {
  process.stdout.write('\nlatency: item published → alert accepted by the fake Bot API (built CLI `run`, local sources; polling rows time-scaled ÷ 10)\n');
  const results: ModeResult[] = [];
  for (const mode of MODES) {
    if (only.length === 0 || only.some((word) => mode.name.toLowerCase().includes(word.toLowerCase()))) results.push(await runMode(mode));
  }
  for (const { mode, latenciesMs, published, missing, deliveries } of results) {
    const p = (q: number) => `${(quantile(latenciesMs, q) / 1000).toFixed(2)} s`.padStart(8);
    const pushed = mode.plans.some((plan) => plan.hub) ? ` (${deliveries} signed deliveries)` : '';
    process.stdout.write(`  ${mode.name.padEnd(18)} p50 ${p(0.5)}  p95 ${p(0.95)}  max ${p(1)}  ${String(published).padStart(3)} items${pushed}, ${missing} without an alert   ${mode.note}\n`);
  }
  const adaptive = results.find((r) => r.mode.name === 'adaptive polling');
  if (adaptive) {
    process.stdout.write('  adaptive polling per source: its interval (the median gap between its requests, at the source), latency p95, shortest gap\n');
    for (const source of adaptive.politeness) {
      const plan = adaptive.mode.plans.find((p) => p.name === source.name);
      const p95 = quantile(adaptive.bySource.get(source.name) ?? [], 0.95);
      const within = p95 <= source.medianGapMs + 1000 ? 'within' : 'OVER';
      const cache = source.maxAgeSeconds !== undefined ? `; max-age ${source.maxAgeSeconds} s, ${source.minGapMs >= source.maxAgeSeconds * 1000 ? 'never polled sooner' : 'POLLED SOONER'}` : '';
      process.stdout.write(
        `    ${source.name.padEnd(15)} publishes every ${String(plan?.everySeconds ?? '?').padStart(2)} s  interval ${(source.medianGapMs / 1000).toFixed(1).padStart(5)} s  p95 ${(p95 / 1000).toFixed(2).padStart(6)} s (${within} interval + 1 s)  shortest gap ${(source.minGapMs / 1000).toFixed(1)} s${cache}\n`,
      );
    }
  }
  process.stdout.write('  targets (issue 21): push p95 ≤ 5 s; adaptive p95 ≤ the feed\'s own interval + 1 s; no feed polled more often than its cache headers allow\n');
}

if (import.meta.url === `file://${process.argv[1] ?? ''}`) await benchLatency(process.argv.slice(2));
