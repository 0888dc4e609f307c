// The near-duplicate index of the dedup window, as one process sees it. The in-process index is
// only a cache: the store is the truth, and every process on the same database commits reports
// to it. So refresh before each decision: it reads what any process committed since the last
// refresh (by report id, in batches), and forgets what has left the window.

import { ReportIndex, type IndexedReport, type SimilarReport } from './report-index.js';
import type { FeatureStats } from './story.js';

/** A report as the store keeps it: its id orders reports by commit. */
export interface StoredReport extends IndexedReport {
  id: number;
}

/** What the index reads from: the store. */
export interface ReportSource {
  /** the reports with id > `afterId` recorded at or after `since`, by id, at most `limit` */
  reportsAfter(afterId: number, since: number, limit: number): Promise<StoredReport[]>;
}

export interface StoryIndexOptions {
  /** how far back reports are kept: the widest window any lookup asks about */
  windowMs: number;
  /** reports read per query while catching up */
  batch?: number;
}

export class StoryIndex {
  private readonly index = new ReportIndex();
  private readonly windowMs: number;
  private readonly batch: number;
  /** the newest report read: the next refresh reads after it */
  private lastId = 0;
  /** one refresh at a time: two at once would read the same reports twice */
  private refreshing: Promise<void> = Promise.resolve();

  constructor(
    private readonly source: ReportSource,
    options: StoryIndexOptions,
  ) {
    this.windowMs = options.windowMs;
    this.batch = Math.max(1, options.batch ?? 5000);
  }

  /** Catch up with the reports any process committed since the last refresh; forget those older than now - windowMs. */
  refresh(now: number): Promise<void> {
    const run = this.refreshing.then(() => this.catchUp(now - this.windowMs));
    // A failed refresh must not fail the next one: it starts again from `lastId`.
    this.refreshing = run.catch(() => undefined);
    return run;
  }

  private async catchUp(since: number): Promise<void> {
    for (;;) {
      const reports = await this.source.reportsAfter(this.lastId, since, this.batch);
      for (const report of reports) {
        this.index.add(report);
        this.lastId = Math.max(this.lastId, report.id);
      }
      if (reports.length < this.batch) break;
    }
    this.index.prune(since);
  }

  /** Recent reports like this fingerprint (see ReportIndex.similar). */
  similar(signature: Uint32Array, bands: number, termHashes: Uint32Array, since: number, minSimilarity: number): SimilarReport[] {
    return this.index.similar(signature, bands, termHashes, since, minSimilarity);
  }

  /** Recent reports sharing one of `features` (see ReportIndex.withFeatures), with their term similarity to `termHashes`. */
  withFeatures(features: readonly string[], since: number, termHashes?: Uint32Array): SimilarReport[] {
    return this.index.withFeatures(features, since, 64, termHashes);
  }

  /** How often each feature occurs among the reports recorded at or after `since`. */
  stats(since: number): FeatureStats {
    return { reports: this.index.countSince(since), count: (feature) => this.index.featureCount(feature, since) };
  }

  /** Reports held: those of the window read so far. */
  get size(): number {
    return this.index.size;
  }
}
