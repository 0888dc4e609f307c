// The stories one feed's batch has touched: from the store or started by the batch, found by
// story key, by id, and through the batch's own reports (so two reports in one feed fold too).

import { ReportIndex } from '../../dedup/report-index.js';
import type { StoryIndex } from '../../dedup/story-index.js';
import type { KnownReport, OutboxMessage, StoryAlert, StoryMatch, StoryRef } from '../../store/store.js';

/** An index of reports as a lookup asks it: the shared story index, or the batch's own. */
export type ReportLookup = Pick<StoryIndex, 'similar' | 'withFeatures'>;

/** A story as this batch knows it: from the store, or created by the batch. */
export interface BatchStory {
  ref: StoryRef;
  title: string;
  destinations: Set<string>;
  /** its alerts from earlier polls (rows in the outbox) */
  alerts: StoryAlert[];
  /** its alerts created by this batch, by destination, with their text as first rendered: rewritten in place */
  newAlerts: Map<string, { message: OutboxMessage; base: { html: string; text: string }; language: string | null }>;
  reports: KnownReport[];
  breaking: boolean;
}

/** The stories a batch has touched, by story key and by id, and its own reports, so two reports in one feed fold too. */
export class StoryBook {
  readonly byKey = new Map<string, BatchStory>();
  private readonly byId = new Map<number, BatchStory>();
  /** the batch's reports, indexed like the store's: their story is a position in `local` */
  readonly localIndex = new ReportIndex(64);
  readonly local: BatchStory[] = [];
  readonly localLookup: ReportLookup = {
    similar: (...args) => this.localIndex.similar(...args),
    withFeatures: (features, since, termHashes) => this.localIndex.withFeatures(features, since, 64, termHashes),
  };

  fromStore(match: StoryMatch): BatchStory {
    const known = this.byId.get(match.id);
    if (known) return known;
    const story: BatchStory = {
      ref: { id: match.id },
      title: match.title,
      destinations: match.destinations,
      alerts: match.alerts,
      newAlerts: new Map(),
      reports: match.reports,
      breaking: match.breakingAt !== null,
    };
    this.byId.set(match.id, story);
    return story;
  }

  localNumber(story: BatchStory): number {
    let n = this.local.indexOf(story);
    if (n === -1) n = this.local.push(story) - 1;
    return n;
  }
}
