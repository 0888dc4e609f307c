// The operator page's HTML: the overview (status, feeds, alerts per hour, delivery, latest
// stories), the stories page and the "why (not)?" answer, in the operator's language. Everything
// from feeds, the store or the config reaches the markup through `html`, which escapes it.

import { LOCALES, translator, type Locale, type MessageKey, type MessageParams } from '../i18n/i18n.js';
import type { DeliveryCounts, StoryOverview } from '../store/store.js';
import { plainText } from '../summary/render.js';
import { html, httpHref, trusted, type SafeHtml } from './html.js';
import { OTHER, storyDelivery, SUBSCRIBERS, type Destinations, type FeedRow, type Volume } from './overview.js';
import { seriesColour, volumePlot } from './plot.js';

/** What every page is rendered with. */
export interface PageView {
  locale: Locale;
  /** the time zone times are shown in (summary.time_zone) */
  timeZone: string;
  now: number;
  version: string;
  /** the path and query of this page, for the language links */
  path: string;
  query: URLSearchParams;
}

/** The worker's state in brief, as /readyz tells it. */
export interface WorkerSummary {
  ready: boolean;
  reasons: string[];
  lastCycleFinishedAt: number | null;
  roles: string[];
}

export interface OverviewData {
  worker: WorkerSummary;
  chats: { active: number; inactive: number };
  feeds: FeedRow[];
  volume: Volume;
  delivery: { day: DeliveryCounts; week: DeliveryCounts };
  stories: StoryOverview[];
  destinations: Destinations;
}

/** A catalog message (escaped by the catalog) as markup. */
function say(view: PageView, key: MessageKey, params?: MessageParams): SafeHtml {
  return trusted(translator(view.locale)(key, params));
}

/** A catalog message as plain text, for attributes and the plot's tooltips. */
function sayText(view: PageView, key: MessageKey, params?: MessageParams): string {
  return plainText(translator(view.locale)(key, params));
}

const formats = new Map<string, Intl.DateTimeFormat>();
function format(locale: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${locale} ${JSON.stringify(options)}`;
  let formatter = formats.get(key);
  if (!formatter) formats.set(key, (formatter = new Intl.DateTimeFormat(locale, options)));
  return formatter;
}

/** "2026-12-07 14:03" in the page's time zone: one form in every language, sortable by eye. */
export function timeText(view: PageView, ms: number): string {
  return format('sv-SE', { timeZone: view.timeZone, dateStyle: 'short', timeStyle: 'short' }).format(new Date(ms));
}

const relativeFormats = new Map<string, Intl.RelativeTimeFormat>();
function relativeText(view: PageView, ms: number): string {
  const seconds = Math.round((ms - view.now) / 1000);
  const units: Array<[Intl.RelativeTimeFormatUnit, number]> = [
    ['day', 86_400],
    ['hour', 3_600],
    ['minute', 60],
  ];
  let rtf = relativeFormats.get(view.locale);
  if (!rtf) relativeFormats.set(view.locale, (rtf = new Intl.RelativeTimeFormat(view.locale, { numeric: 'auto', style: 'short' })));
  for (const [unit, size] of units) if (Math.abs(seconds) >= size) return rtf.format(Math.trunc(seconds / size), unit);
  return rtf.format(seconds, 'second');
}

/** A time with how long ago (or how soon) it is. */
function when(view: PageView, ms: number | null, none: SafeHtml | string = '—'): SafeHtml {
  if (ms === null) return html`<span class="muted">${none}</span>`;
  return html`<time datetime="${new Date(ms).toISOString()}">${timeText(view, ms)}</time> <span class="muted">(${relativeText(view, ms)})</span>`;
}

function hrefWith(view: PageView, path: string, params: Record<string, string | null> = {}): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== null) query.set(name, value);
  query.set('lang', view.locale);
  return `${path}?${query.toString()}`;
}

function layout(view: PageView, title: string, current: 'overview' | 'stories' | 'why', body: SafeHtml): SafeHtml {
  const link = view.query.get('link') ?? '';
  const languages = LOCALES.map((locale) => {
    const query = new URLSearchParams(view.query);
    query.set('lang', locale);
    const name = translator(locale)('language.name');
    return locale === view.locale ? html`<span class="current" lang="${locale}">${name}</span>` : html`<a href="${`${view.path}?${query.toString()}`}" lang="${locale}" hreflang="${locale}">${name}</a>`;
  });
  const navLink = (page: typeof current, path: string, key: MessageKey) =>
    page === current ? html`<span class="current">${say(view, key)}</span>` : html`<a href="${hrefWith(view, path)}">${say(view, key)}</a>`;
  return html`<!doctype html>
<html lang="${view.locale}" dir="${view.locale === 'ar' ? 'rtl' : 'ltr'}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title}</title>
<link rel="stylesheet" href="/page.css">
</head>
<body>
<header>
<h1>steppewatch</h1>
<nav>${navLink('overview', '/', 'page.nav.overview')}${navLink('stories', '/stories', 'page.nav.stories')}</nav>
<span class="languages" aria-label="${sayText(view, 'page.nav.language')}">${languages}</span>
<form class="search" action="/why" method="get" role="search">
<label for="why-link">${say(view, 'page.why.label')}</label>
<input id="why-link" type="url" name="link" required placeholder="https://" value="${link}" dir="ltr">
<input type="hidden" name="lang" value="${view.locale}">
<button type="submit">${say(view, 'page.why.button')}</button>
</form>
</header>
<main>
${body}
</main>
<footer>steppewatch ${view.version} · ${say(view, 'page.asOf', { time: timeText(view, view.now), zone: view.timeZone })} · <a href="/metrics">/metrics</a> · <a href="/readyz">/readyz</a></footer>
</body>
</html>
`;
}

function statusSection(view: PageView, data: OverviewData): SafeHtml {
  const { worker } = data;
  const ready = worker.ready ? html`<span class="ready">${say(view, 'page.ready')}</span>` : html`<span class="not-ready">${say(view, 'page.notReady', { reasons: worker.reasons.join('; ') })}</span>`;
  const cycle = worker.lastCycleFinishedAt === null ? say(view, 'page.noCycle') : html`${say(view, 'page.lastCycle', { time: timeText(view, worker.lastCycleFinishedAt) })}`;
  const roles = worker.roles.length === 0 ? say(view, 'page.rolesNone') : say(view, 'page.roles', { roles: worker.roles.join(', ') });
  return html`<section class="status" id="status">${ready}<span>${cycle}</span><span>${roles}</span><span>${say(view, 'page.chats', data.chats)}</span></section>`;
}

function perDayText(perDay: number | null): string {
  if (perDay === null) return '—';
  return perDay >= 10 ? String(Math.round(perDay)) : perDay.toFixed(1);
}

function feedsSection(view: PageView, feeds: readonly FeedRow[]): SafeHtml {
  const counts = { ok: 0, failing: 0, new: 0 };
  for (const feed of feeds) counts[feed.health]++;
  const rows = feeds.map((feed) => {
    const state =
      feed.health === 'failing'
        ? say(view, 'page.feeds.failing', { time: feed.failingSince === null ? '?' : timeText(view, feed.failingSince) })
        : feed.health === 'ok'
          ? say(view, 'page.feeds.ok')
          : say(view, 'page.feeds.new');
    const next = feed.nextPollAt === null ? html`<span class="muted">${say(view, 'page.feeds.nextTick')}</span>` : when(view, feed.nextPollAt);
    return html`<tr class="feed ${feed.health}" data-health="${feed.health}">
<td><span class="name" dir="auto">${feed.name}</span><br><span class="url" dir="ltr">${feed.url}</span></td>
<td class="state-${feed.health}">${state}</td>
<td>${when(view, feed.lastSuccessAt, say(view, 'page.feeds.never'))}</td>
<td class="number">${feed.failures}</td>
<td class="error" dir="auto">${feed.lastError ?? ''}</td>
<td>${next}</td>
<td class="number">${perDayText(feed.perDay)}</td>
</tr>`;
  });
  return html`<section id="feeds">
<h2>${say(view, 'page.feeds.title')}</h2>
<p class="muted">${say(view, 'page.feeds.summary', counts)}</p>
<div class="wrap"><table>
<thead><tr><th>${say(view, 'page.feeds.name')}</th><th>${say(view, 'page.feeds.state')}</th><th>${say(view, 'page.feeds.lastSuccess')}</th><th class="number">${say(view, 'page.feeds.failures')}</th><th>${say(view, 'page.feeds.lastError')}</th><th>${say(view, 'page.feeds.nextPoll')}</th><th class="number">${say(view, 'page.feeds.perDay')}</th></tr></thead>
<tbody>${rows}</tbody>
</table></div>
</section>`;
}

function seriesLabel(view: PageView, name: string): string {
  if (name === SUBSCRIBERS) return sayText(view, 'page.volume.subscribers');
  if (name === OTHER) return sayText(view, 'page.volume.unexplained');
  return name;
}

function swatch(index: number): SafeHtml {
  return html`<svg class="swatch" viewBox="0 0 10 10" aria-hidden="true"><rect width="10" height="10" fill="${seriesColour(index)}"/></svg>`;
}

/** The plot, then its legend (with each series' totals) beside the delivery figures. */
function volumeSection(view: PageView, volume: Volume, delivery: SafeHtml): SafeHtml {
  const title = sayText(view, 'page.volume.title');
  if (volume.series.length === 0) return html`<section id="volume"><h2>${title}</h2><p class="muted">${say(view, 'page.volume.none')}</p>${delivery}</section>`;
  const dayStart = format('en-GB', { timeZone: view.timeZone, hour: '2-digit', hourCycle: 'h23' });
  const dayName = format(view.locale, { timeZone: view.timeZone, weekday: 'short', day: 'numeric' });
  const plot = volumePlot(volume, {
    title,
    seriesLabel: (name) => seriesLabel(view, name),
    pointLabel: (series, hourStart, count) => sayText(view, 'page.volume.point', { series, time: timeText(view, hourStart), count }),
    dayLabel: (hourStart) => (dayStart.format(new Date(hourStart)) === '00' ? dayName.format(new Date(hourStart)) : null),
  });
  const legend = volume.series.map(
    (series, index) => html`<tr data-series="${series.name}"><td>${swatch(index)}<span dir="auto">${seriesLabel(view, series.name)}</span></td><td class="number">${series.lastDay}</td><td class="number">${series.total}</td></tr>`,
  );
  return html`<section id="volume">
<h2>${title}</h2>
${plot}
<div class="columns">
<div>
<table class="legend">
<thead><tr><th>${say(view, 'page.volume.watchlist')}</th><th class="number">${say(view, 'page.volume.day')}</th><th class="number">${say(view, 'page.volume.week')}</th></tr></thead>
<tbody>${legend}</tbody>
</table>
<p class="note">${say(view, 'page.volume.note')}</p>
</div>
${delivery}
</div>
</section>`;
}

function deliverySection(view: PageView, delivery: OverviewData['delivery']): SafeHtml {
  const row = (key: MessageKey, name: keyof DeliveryCounts) =>
    html`<tr data-count="${name}"><td>${say(view, key)}</td><td class="number">${delivery.day[name]}</td><td class="number">${delivery.week[name]}</td></tr>`;
  return html`<div id="delivery">
<h3>${say(view, 'page.delivery.title')}</h3>
<table>
<thead><tr><th></th><th class="number">${say(view, 'page.volume.day')}</th><th class="number">${say(view, 'page.volume.week')}</th></tr></thead>
<tbody>
${row('page.delivery.sent', 'sent')}
${row('page.delivery.retried', 'retried')}
${row('page.delivery.failed', 'failed')}
${row('page.delivery.rateLimited', 'rateLimited')}
<tr data-count="pending"><td>${say(view, 'page.delivery.pending')}</td><td class="number" colspan="2">${delivery.week.pending}</td></tr>
</tbody>
</table>
<p class="note">${say(view, 'page.delivery.note')}</p>
</div>`;
}

function linkCell(link: string | null): SafeHtml {
  const href = httpHref(link);
  if (href === null) return html`<span class="muted">—</span>`;
  return html`<a href="${href}" rel="noopener noreferrer nofollow" dir="ltr">${new URL(href).hostname}</a>`;
}

function storyArticle(view: PageView, story: StoryOverview, destinations: Destinations): SafeHtml {
  const href = httpHref(story.link);
  const title = href === null ? html`<span dir="auto">${story.title}</span>` : html`<a href="${href}" rel="noopener noreferrer nofollow" dir="auto">${story.title}</a>`;
  const reports = story.reports.map(
    (report) => html`<tr class="report"><td dir="auto">${report.source}</td><td>${report.language ?? '—'}</td><td>${when(view, report.at)}</td><td>${linkCell(report.link)}</td></tr>`,
  );
  const delivery = storyDelivery(story, destinations);
  const went: SafeHtml[] = delivery.named.map((d) =>
    d.status === 'sent'
      ? say(view, 'page.stories.sent', { to: d.label, time: d.sentAt === null ? '?' : timeText(view, d.sentAt) })
      : say(view, d.status === 'pending' ? 'page.stories.pending' : 'page.stories.failed', { to: d.label }),
  );
  const { subscribers } = delivery;
  if (subscribers.sent + subscribers.pending + subscribers.failed > 0) went.push(say(view, 'page.stories.subscribers', subscribers));
  if (delivery.digests > 0) went.push(say(view, 'page.stories.digests', { count: delivery.digests }));
  if (went.length === 0) went.push(say(view, 'page.stories.nowhere'));
  return html`<article class="story" id="story-${story.id}" data-story="${story.id}">
<h3>${title}${story.breakingAt === null ? '' : html`<span class="badge">${say(view, 'page.stories.breaking')}</span>`}</h3>
<p class="muted">${say(view, 'page.stories.meta', { id: story.id, time: timeText(view, story.createdAt), count: story.reportCount })}</p>
<div class="wrap"><table class="reports">
<thead><tr><th>${say(view, 'page.stories.outlet')}</th><th>${say(view, 'page.stories.language')}</th><th>${say(view, 'page.stories.time')}</th><th>${say(view, 'page.stories.link')}</th></tr></thead>
<tbody>${reports}</tbody>
</table></div>
${story.reportCount > story.reports.length ? html`<p class="note">${say(view, 'page.stories.shown', { shown: story.reports.length, count: story.reportCount })}</p>` : ''}
<p>${say(view, 'page.stories.went')}</p>
<ul class="went">${went.map((line) => html`<li>${line}</li>`)}</ul>
</article>`;
}

function storiesList(view: PageView, stories: readonly StoryOverview[], destinations: Destinations): SafeHtml {
  if (stories.length === 0) return html`<p class="muted">${say(view, 'page.stories.none')}</p>`;
  return html`${stories.map((story) => storyArticle(view, story, destinations))}`;
}

export function overviewPage(view: PageView, data: OverviewData): SafeHtml {
  const body = html`${statusSection(view, data)}
${feedsSection(view, data.feeds)}
${volumeSection(view, data.volume, deliverySection(view, data.delivery))}
<section id="stories">
<h2>${say(view, 'page.stories.title')}</h2>
${storiesList(view, data.stories, data.destinations)}
<p><a href="${hrefWith(view, '/stories')}">${say(view, 'page.stories.all')}</a></p>
</section>`;
  return layout(view, sayText(view, 'page.title'), 'overview', body);
}

/** The stories page: `stories` newest first; `older` where the next page goes on from ("time-id"), if there are more. */
export function storiesPage(view: PageView, stories: readonly StoryOverview[], destinations: Destinations, older: string | null): SafeHtml {
  const body = html`<section id="stories">
<h2>${say(view, 'page.stories.title')}</h2>
${storiesList(view, stories, destinations)}
${older === null ? '' : html`<p><a rel="next" href="${hrefWith(view, '/stories', { before: older })}">${say(view, 'page.stories.older')}</a></p>`}
</section>`;
  return layout(view, `${sayText(view, 'page.stories.title')} · steppewatch`, 'stories', body);
}

/** The answer to "why (not)?" for a link: `answer` in lines of plain text, or null when the link is not one. */
export function whyPage(view: PageView, link: string, answer: string[] | null): SafeHtml {
  const result =
    answer === null
      ? html`<p class="error">${say(view, 'page.why.notLink')}</p>`
      : html`<div class="decision" dir="auto">${answer.map((line) => html`<p>${line}</p>`)}</div>`;
  const body = html`<section id="why">
<h2>${say(view, 'page.why.title')}</h2>
<p class="url" dir="ltr">${link}</p>
${result}
</section>`;
  return layout(view, `${sayText(view, 'page.why.title')} · steppewatch`, 'why', body);
}

/** The 401 page's text. */
export function authText(locale: Locale): string {
  return `${translator(locale)('page.auth')}\n`;
}
