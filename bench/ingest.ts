// Ingestion benchmark (issue 3): 1,000 local feeds × 50 items served on loopback hosts by a
// separate process. One full cycle and one unchanged cycle of steppewatch against a naive
// baseline (rss-parser parseURL per feed, in sequence, no conditional GET), in the same run.

import { startPeer, type Peer } from './ipc.js';

interface FarmStats {
  bytes: number;
  requests: number;
  notModified: number;
  maxConnections: number;
}
interface PhaseResult {
  phase: string;
  ms: number;
  items: number;
  failed?: number;
  alerts?: number;
  bytes: number;
  requests: number;
  notModified: number;
}

const start = (file: string, args: string[], env?: NodeJS.ProcessEnv, nodeFlags?: string[]): Peer => startPeer(new URL(file, import.meta.url), args, env, nodeFlags);

async function stats(farm: Peer): Promise<FarmStats> {
  farm.process.send({ type: 'stats' });
  return farm.mail.next<FarmStats>('stats');
}

interface Retained {
  heapMb: number;
  arrayBuffersMb: number;
}

async function runSide(mode: 'naive' | 'ours', urls: string[], farm: Peer): Promise<{ phases: PhaseResult[]; peakRssMb: number; baselineRssMb: number; retained: Retained | null }> {
  const child = start('./ingest-worker.ts', [mode], process.env, mode === 'ours' ? ['--expose-gc'] : []);
  child.process.send({ type: 'urls', urls });
  const baselineRssMb = mode === 'ours' ? (await child.mail.next<{ rssMb: number }>('baseline')).rssMb : 0;
  const phases: PhaseResult[] = [];
  for (let i = 0; i < (mode === 'naive' ? 1 : 2); i++) {
    const before = await stats(farm);
    child.process.send({ type: 'go' });
    const { phase, ms, items, failed, alerts } = await child.mail.next<Omit<PhaseResult, 'bytes' | 'requests' | 'notModified'>>('result');
    const after = await stats(farm);
    phases.push({
      phase,
      ms,
      items,
      ...(failed !== undefined ? { failed } : {}),
      ...(alerts !== undefined ? { alerts } : {}),
      bytes: after.bytes - before.bytes,
      requests: after.requests - before.requests,
      notModified: after.notModified - before.notModified,
    });
  }
  const retained = mode === 'ours' ? await child.mail.next<Retained>('retained') : null;
  const { peakRssMb } = await child.mail.next<{ peakRssMb: number }>('done');
  return { phases, peakRssMb, baselineRssMb, retained };
}

// Big outlets publish many feeds from one host; 100 hosts × 10 feeds is a plausible mix.
const HOSTS = 100;

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/**
 * 1,000 feeds × 50 items on `hosts` loopback hosts answering after `latencyMs`. The naive baseline
 * polls them one after another; on one host it polls the first `naiveFeeds` only (all 1,000 in
 * sequence would take minutes), and its time is shown as measured.
 */
export async function benchIngest(latencyMs: number, hosts = HOSTS, naiveFeeds = 1000): Promise<void> {
  const farm = start('./feed-farm.ts', [], {
    ...process.env,
    FARM_HOSTS: String(hosts),
    FARM_FEEDS_PER_HOST: String(1000 / hosts),
    FARM_ITEMS: '50',
    FARM_LATENCY_MS: String(latencyMs),
  });
  const { urls } = await farm.mail.next<{ urls: string[] }>('ready');
  try {
    const naive = await runSide('naive', urls.slice(0, naiveFeeds), farm);
    const ours = await runSide('ours', urls, farm);
    const { maxConnections } = await stats(farm);
    const [naiveFull] = naive.phases;
    const [full, unchanged] = ours.phases;
    if (!naiveFull || !full || !unchanged) throw new Error('missing benchmark phase');
    process.stdout.write(
      `\ningest: ${urls.length} feeds × 50 items on ${hosts === 1 ? 'one loopback host' : `${hosts} loopback hosts`} (a separate process), ` +
        `${latencyMs > 0 ? `${latencyMs} ms to first byte per response, as a news site over the network` : 'answered at once (no network latency)'}\n`,
    );
    const row = (name: string, r: PhaseResult, rss: number, note: string) =>
      process.stdout.write(
        `  ${name.padEnd(44)} ${(r.ms / 1000).toFixed(2).padStart(6)} s  ${mb(r.bytes).padStart(9)}  ${String(r.requests).padStart(5)} req  ${String(r.notModified).padStart(5)}×304  peak RSS ${rss} MB  ${note}\n`,
      );
    const naiveName = naiveFeeds < urls.length ? `naive: parseURL per feed, in sequence (${naiveFeeds})` : 'naive: parseURL per feed, in sequence';
    const naivePerFeed = naiveFull.ms / naiveFeeds;
    row(naiveName, naiveFull, naive.peakRssMb, `${naiveFull.items} items${naiveFeeds < urls.length ? `; ${(naivePerFeed * urls.length / 1000).toFixed(0)} s at that pace for all ${urls.length}` : ''}`);
    row('steppewatch: full cycle (fetch→…→store)', full, ours.peakRssMb, `${full.items} items, ${full.alerts ?? 0} alerts queued, ${((naivePerFeed * urls.length) / full.ms).toFixed(1)}× naive`);
    row('steppewatch: cycle with nothing changed', unchanged, ours.peakRssMb, `${((unchanged.bytes / Math.max(1, full.bytes)) * 100).toFixed(1)}% of the full cycle's bytes`);
    process.stdout.write(`  steppewatch's process before its first cycle (runtime, config, matcher, store; built code, as npm start runs it): ${ours.baselineRssMb} MB RSS; the cycles added ${ours.peakRssMb - ours.baselineRssMb} MB at their peak\n`);
    if (ours.retained) process.stdout.write(`  alive after both cycles and a full GC: heap ${ours.retained.heapMb} MB, array buffers ${ours.retained.arrayBuffersMb} MB (the rest of the peak was garbage awaiting collection)\n`);
    process.stdout.write(`  connections one host had open at once: at most ${maxConnections} (fetch.per_host: 6 by default)\n`);
    process.stdout.write(
      hosts === 1
        ? '  targets (issue 20): full and unchanged ≤ 20 s, no more connections than the per-host limit\n'
        : latencyMs >= 100
          ? '  targets (issue 20): full ≤ 6 s, unchanged ≤ 1 s, peak RSS ≤ 150 MB\n'
          : '  targets: full ≤ 10 s and ≥ 3× naive; unchanged ≤ 2 s with ≤ 5% of the bytes\n',
    );
  } finally {
    farm.process.send({ type: 'stop' });
  }
}
