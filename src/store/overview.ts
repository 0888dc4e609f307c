// The operator page's reads (OverviewStore), written once for both stores: the SQL (each store
// passes its own parameter markers and its way of naming a list of ids) and the rows, checked with
// zod as they leave the database.

import { z } from 'zod';
import { STORY_OVERVIEW_REPORTS, type DeliveryCounts, type SentAlerts, type StoryCursor, type StoryOverview } from './store.js';

/** Before every story. */
export const NEWEST: StoryCursor = { createdAt: Number.MAX_SAFE_INTEGER, id: Number.MAX_SAFE_INTEGER };

/** BIGINTs may come back as strings (PostgreSQL without a type parser), counts as numbers or strings. */
const int = z.union([z.number(), z.string().regex(/^-?\d+$/u)]).transform(Number);
const nullableInt = int.nullable();
const watchlistsJson = z.string().transform((text, ctx) => {
  const parsed = z.array(z.string()).safeParse(JSON.parse(text));
  if (parsed.success) return parsed.data;
  ctx.addIssue({ code: 'custom', message: 'watchlists is not a JSON array of names' });
  return z.NEVER;
});

export function feedItemCountsSql(since: string): string {
  return `SELECT feed_url, COUNT(*) AS n FROM items WHERE first_seen_at >= ${since} AND decision <> 'backlog' GROUP BY feed_url`;
}

const FeedCountRow = z.object({ feed_url: z.string(), n: int });

export function feedItemCountsOf(rows: unknown[]): Map<string, number> {
  return new Map(z.array(FeedCountRow).parse(rows).map((row) => [row.feed_url, row.n]));
}

const SENT_ALERTS = (since: string) => `FROM outbox o WHERE o.kind = 'alert' AND o.status = 'sent' AND o.sent_at >= ${since}`;

export function sentAlertsSql(since: string): string {
  return `SELECT o.sent_at AS at, o.chat, o.story_id ${SENT_ALERTS(since)} ORDER BY o.sent_at, o.id`;
}

/** A story's watchlists are those of the report that started it (else of its first that matched): read once a story, not once an alert. */
export function sentStoryWatchlistsSql(since: string): string {
  return `SELECT story_id, watchlists FROM (
      SELECT i.story_id, i.watchlists,
        ROW_NUMBER() OVER (PARTITION BY i.story_id ORDER BY CASE WHEN i.decision = 'alerted' THEN 0 ELSE 1 END, i.first_seen_at) AS position
      FROM items i WHERE i.decision <> 'no-match' AND i.story_id IN (SELECT DISTINCT o.story_id ${SENT_ALERTS(since)})) w
    WHERE position = 1`;
}

const SentAlertRow = z.object({ at: int, chat: z.string(), story_id: int });
const StoryWatchlistsRow = z.object({ story_id: int, watchlists: watchlistsJson });

export function sentAlertsOf(alerts: unknown[], watchlists: unknown[]): SentAlerts {
  return {
    alerts: z
      .array(SentAlertRow)
      .parse(alerts)
      .map((row) => ({ at: row.at, chat: row.chat, storyId: row.story_id })),
    watchlists: new Map(z.array(StoryWatchlistsRow).parse(watchlists).map((row) => [row.story_id, row.watchlists])),
  };
}

export function deliveryCountsSql(since: string): string {
  return `SELECT
      COALESCE(SUM(CASE WHEN status = 'sent' THEN 1 ELSE 0 END), 0) AS sent,
      COALESCE(SUM(CASE WHEN (status <> 'pending' AND attempts > 1) OR (status = 'pending' AND attempts > 0) THEN 1 ELSE 0 END), 0) AS retried,
      COALESCE(SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END), 0) AS failed,
      COALESCE(SUM(CASE WHEN rate_limits > 0 THEN 1 ELSE 0 END), 0) AS rate_limited,
      (SELECT COUNT(*) FROM outbox WHERE status = 'pending') AS pending
    FROM outbox WHERE created_at >= ${since}`;
}

const DeliveryRow = z.object({ sent: int, retried: int, failed: int, rate_limited: int, pending: int });

export function deliveryCountsOf(row: unknown): DeliveryCounts {
  const counts = DeliveryRow.parse(row);
  return { sent: counts.sent, retried: counts.retried, failed: counts.failed, rateLimited: counts.rate_limited, pending: counts.pending };
}

/** Stories of one batch share their creation time: the id orders them within it. */
export function latestStoriesSql(beforeAt: string, beforeId: string, limit: string): string {
  return `SELECT id, title, link, created_at, breaking_at FROM stories
    WHERE created_at < ${beforeAt} OR (created_at = ${beforeAt} AND id < ${beforeId})
    ORDER BY created_at DESC, id DESC LIMIT ${limit}`;
}

/** The reports of the stories `ids` names, at most STORY_OVERVIEW_REPORTS of each, with each story's count. */
export function storyReportsSql(ids: string): string {
  return `SELECT story_id, at, source, link, title, language, total FROM (
      SELECT story_id, at, source, link, title, language, id,
        ROW_NUMBER() OVER (PARTITION BY story_id ORDER BY at, id) AS position,
        COUNT(*) OVER (PARTITION BY story_id) AS total
      FROM story_reports WHERE story_id IN ${ids}) r
    WHERE position <= ${STORY_OVERVIEW_REPORTS} ORDER BY story_id, at, id`;
}

export function storyMessagesSql(ids: string): string {
  return `SELECT story_id, chat, thread_id, kind, status, sent_at FROM outbox WHERE story_id IN ${ids} ORDER BY story_id, id`;
}

export function storyDigestsSql(ids: string): string {
  return `SELECT story_id, chat, queued_at FROM digest_items WHERE story_id IN ${ids} ORDER BY story_id, id`;
}

const StoryRow = z.object({ id: int, title: z.string(), link: z.string().nullable(), created_at: int, breaking_at: nullableInt });
const ReportRow = z.object({ story_id: int, at: int, source: z.string(), link: z.string().nullable(), title: z.string(), language: z.string().nullable(), total: int });
const MessageRow = z.object({
  story_id: int,
  chat: z.string(),
  thread_id: int,
  kind: z.enum(['alert', 'edit', 'reply', 'digest']),
  status: z.enum(['pending', 'sent', 'failed']),
  sent_at: nullableInt,
});
const DigestLineRow = z.object({ story_id: int, chat: z.string(), queued_at: nullableInt });

/** The ids of latestStoriesSql's rows, to read their reports, messages and digest lines. */
export function storyIdsOf(rows: unknown[]): number[] {
  return z.array(StoryRow).parse(rows).map((row) => row.id);
}

/** Stories with their reports, messages and digest lines, from the four reads above. */
export function storyOverviewsOf(stories: unknown[], reports: unknown[], messages: unknown[], digests: unknown[]): StoryOverview[] {
  const byStory = new Map<number, StoryOverview>();
  const overviews = z
    .array(StoryRow)
    .parse(stories)
    .map((row) => {
      const story: StoryOverview = { id: row.id, title: row.title, link: row.link, createdAt: row.created_at, breakingAt: row.breaking_at, reports: [], reportCount: 0, messages: [], digests: [] };
      byStory.set(row.id, story);
      return story;
    });
  for (const row of z.array(ReportRow).parse(reports)) {
    const story = byStory.get(row.story_id);
    if (!story) continue;
    story.reports.push({ at: row.at, source: row.source, link: row.link, title: row.title, language: row.language });
    story.reportCount = row.total;
  }
  for (const row of z.array(MessageRow).parse(messages)) {
    byStory.get(row.story_id)?.messages.push({ chat: row.chat, threadId: row.thread_id === 0 ? null : row.thread_id, kind: row.kind, status: row.status, sentAt: row.sent_at });
  }
  for (const row of z.array(DigestLineRow).parse(digests)) byStory.get(row.story_id)?.digests.push({ chat: row.chat, queuedAt: row.queued_at });
  return overviews;
}
