// Stage 3, story: is the item another report of a story we have (in the store, or started by
// this batch), or a new story? Exact keys first (canonical URL, title), then a near-duplicate or
// rewrite in its language, then a report of the same event in another language; an embeddings
// endpoint, when configured, confirms folds across languages and finds those the offline
// signature misses. The report joins the batch, and the story's breaking state is kept.

import type { Config } from '../../config/load.js';
import { cosine } from '../../dedup/embeddings.js';
import { fingerprint, type Fingerprint } from '../../dedup/fingerprint.js';
import { storyKeys } from '../../dedup/identity.js';
import { crossLanguageStories, findStory, type Candidates, type StoryVerdict } from '../../dedup/story.js';
import type { KnownReport, StoryMatch } from '../../store/store.js';
import type { FeedContext } from './context.js';
import type { BatchStory, ReportLookup } from './story-book.js';
import type { NewItem } from './fresh.js';

// Least cosine similarity of two reports' embeddings for the endpoint to confirm an offline fold
// across languages, and to make one the offline signature was unsure of (multilingual models put
// translations and close rewrites above 0.8, same-topic different events around 0.5–0.7).
const CONFIRM_COSINE = 0.55;
const FIND_COSINE = 0.82;
/** Offline scores worth asking the endpoint about: below the rule's threshold, above this. */
const ASK_BELOW_SCORE = 0.2;

/** The text an embedding is made of: the headline and the lead. */
function embeddingText(title: string, text: string): string {
  return `${title}\n${text.slice(0, 400)}`;
}

/** Whether a report forms a burst: `reports` reports from `outlets` outlets within `withinMs`. */
export function isBurst(reports: KnownReport[], now: number, burst: Config['dedup']['burst']): boolean {
  const recent = reports.filter((r) => r.at >= now - burst.withinMs);
  return recent.length >= burst.reports && new Set(recent.map((r) => r.source)).size >= burst.outlets;
}

/** The probe's candidates in one index. */
function candidatesIn(index: ReportLookup, print: Fingerprint, since: number, threshold: number, stats: Candidates['stats']): Candidates {
  return {
    similar: index.similar(print.signature, print.bands, print.termHashes, since, threshold),
    withFeatures: index.withFeatures(print.features, since, print.termHashes),
    stats,
  };
}

/** The embeddings endpoint's word on the offline verdict: confirmed, vetoed, or a fold it found. */
async function askEmbeddings(ctx: FeedContext, entry: NewItem, verdict: StoryVerdict | null, candidates: Candidates, print: Fingerprint): Promise<StoryMatch | null | undefined> {
  const embedder = ctx.embedder;
  if (!embedder) return undefined;
  const probe = { fingerprint: print, language: entry.item.language };
  const asked = verdict ? [verdict] : crossLanguageStories(probe, candidates, ctx.now, ctx.rules).filter((v) => v.score >= ASK_BELOW_SCORE).slice(0, 3);
  if (asked.length === 0) return undefined;
  const stories = (await Promise.all(asked.map((v) => ctx.store.getStory(v.storyId)))).filter((s): s is StoryMatch => s !== null);
  const vectors = await embedder.embed([embeddingText(entry.item.title, entry.item.text), ...stories.map((s) => s.title)]);
  if (!vectors) return undefined; // the endpoint failed: the offline verdict stands
  const [mine, ...theirs] = vectors;
  if (!mine) return undefined;
  let found: { story: StoryMatch; similarity: number } | null = null;
  for (const [i, story] of stories.entries()) {
    const vector = theirs[i];
    const similarity = vector ? cosine(mine, vector) : 0;
    if (similarity > (found?.similarity ?? -1)) found = { story, similarity };
  }
  if (!found) return undefined;
  ctx.log?.debug({ title: entry.item.title, story: found.story.id, cosine: found.similarity, offline: verdict?.score ?? null }, 'embeddings checked a fold across languages');
  if (verdict) return found.similarity >= CONFIRM_COSINE ? found.story : null;
  return found.similarity >= FIND_COSINE ? found.story : undefined;
}

/** The item's story, and what its report changes about it. */
export interface StoryStep {
  story: BatchStory;
  /** another outlet than those that reported it before */
  newOutlet: boolean;
  /** numbers or names the story's reports had not carried */
  addsSomething: boolean;
  becameBreaking: boolean;
}

/** Finds or starts the item's story and records its report in the batch. */
export async function assignStory(ctx: FeedContext, entry: NewItem): Promise<StoryStep> {
  const { item } = entry;
  const { book, batch, store, now, rules } = ctx;
  const since = now - ctx.config.dedup.windowMs;
  const keys = storyKeys(item);
  const print = entry.print ?? fingerprint(item.title, item.text, ctx.finder);
  const probe = { fingerprint: print, language: item.language };
  const stats = ctx.stories.stats(since);

  let story = keys.map((k) => book.byKey.get(k)).find((s) => s !== undefined);
  if (!story) {
    const existing = await store.findStory(keys, since);
    if (existing) story = book.fromStore(existing);
  }
  if (!story) {
    const local = findStory(probe, candidatesIn(book.localLookup, print, since, rules.threshold, stats), now, rules);
    if (local) story = book.local[local.storyId];
  }
  if (!story) {
    const candidates = candidatesIn(ctx.stories, print, since, rules.threshold, stats);
    const verdict = findStory(probe, candidates, now, rules);
    const semantic = verdict === null || verdict.how === 'cross-language' ? await askEmbeddings(ctx, entry, verdict, candidates, print) : undefined;
    const match = semantic !== undefined ? semantic : verdict ? await store.getStory(verdict.storyId) : null;
    if (match) story = book.fromStore(match);
  }
  if (!story) {
    batch.newStories.push({ title: item.title, link: item.link, keys });
    story = { ref: { newIndex: batch.newStories.length - 1 }, title: item.title, destinations: new Set(), alerts: [], newAlerts: new Map(), reports: [], breaking: false };
  } else if ('id' in story.ref) {
    for (const k of keys) batch.storyKeys.push({ storyId: story.ref.id, key: k });
  }
  for (const k of keys) book.byKey.set(k, story);
  entry.record.story = story.ref;

  const report = { at: now, source: ctx.source, link: item.link, language: item.language, entities: print.entities, numbers: print.numbers };
  const known = story.reports;
  const addsSomething =
    known.length > 0 && (print.numbers.some((n) => !known.some((r) => r.numbers.includes(n))) || print.entities.some((e) => !known.some((r) => r.entities.includes(e))));
  const newOutlet = known.length > 0 && !known.some((r) => r.source === ctx.source);
  story.reports.push(report);
  batch.reports.push({ story: story.ref, title: item.title, signature: print.signature, bands: print.bands, termHashes: print.termHashes, features: print.features, ...report });
  book.localIndex.add({ storyId: book.localNumber(story), at: now, language: item.language, signature: print.signature, bands: print.bands, termHashes: print.termHashes, entities: print.entities, numbers: print.numbers, features: print.features });
  const becameBreaking = !story.breaking && isBurst(story.reports, now, ctx.config.dedup.burst);
  if (becameBreaking) {
    story.breaking = true;
    batch.breaking.push(story.ref);
  }
  return { story, newOutlet, addsSomething, becameBreaking };
}
