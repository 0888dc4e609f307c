import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Item } from '../../src/feeds/item.js';
import { CAPTION_LIMIT, DEFAULT_RENDER, escapeHtml, MESSAGE_LIMIT, renderHtml, renderText, type Alert } from '../../src/summary/render.js';
import { summarize, truncate } from '../../src/summary/summarize.js';
import { loadPresets } from '../../src/config/load.js';
import { indexDocument } from '../../src/match/document.js';
import { matchWatchlist, type Watchlist } from '../../src/match/matcher.js';
import { checkTelegramHtml } from '../support/telegram-html.js';

const SEED = readFileSync(new URL('../fixtures/seed-almaty-ar.txt', import.meta.url), 'utf8');

function item(overrides: Partial<Item>): Item {
  return { id: 'x', feedUrl: 'https://f.test/rss', guid: null, link: null, title: '', text: '', published: null, author: null, language: null, ...overrides };
}

function alert(overrides: Partial<Alert>): Alert {
  return {
    summary: { title: 'Title', sentences: [] },
    source: 'Source',
    link: 'https://example.test/a',
    time: new Date('2022-01-05T10:00:00Z'),
    watchlists: ['kazakhstan-unrest'],
    matchedForms: new Set(),
    language: null,
    ...overrides,
  };
}

describe('summarize', () => {
  it('keeps the seed article to its title and the sentences that carry matched terms, within 600 characters', () => {
    const preset = loadPresets().get('kazakhstan-unrest') as Watchlist;
    const seed = item({ title: 'انفجارات في ألما آتا', text: SEED });
    const match = matchWatchlist(preset, indexDocument(seed.title, seed.text));
    const summary = summarize(seed, match?.forms ?? new Set());
    const length = [...summary.title].length + summary.sentences.reduce((n, s) => n + [...s].length + 1, 0);
    expect(length).toBeLessThanOrEqual(600);
    expect(summary.sentences[0]).toContain('أفادت وسائل إعلام محلية في كازاخستان');
    expect(summary.sentences.length).toBeGreaterThanOrEqual(2);
    // «بدأ الناس يركضون في الفناء» carries no watchlist term: it is left out.
    expect(summary.sentences.join(' ')).not.toContain('بدأ الناس يركضون');
  });

  it('falls back to the lead sentence when only the title matched, and to the title alone when there is no body', () => {
    expect(summarize(item({ title: 'Almaty protest', text: 'Lead sentence. Second.' }), new Set(['zzz'])).sentences).toEqual(['Lead sentence.']);
    expect(summarize(item({ title: 'Almaty protest' }), new Set()).sentences).toEqual([]);
  });

  it('never cuts inside a surrogate pair', () => {
    const cut = truncate('😀'.repeat(50), 10);
    expect([...cut].every((ch) => ch === '😀' || ch === '…')).toBe(true);
  });
});

describe('renderHtml', () => {
  it('escapes every piece of feed text, so Telegram can always parse the message', () => {
    const html = renderHtml(
      alert({ summary: { title: 'Prices < wages & <b>unrest</b>', sentences: ['a > b', '"quoted" <script>'] }, source: 'A&B <News>' }),
    );
    const check = checkTelegramHtml(html);
    expect(check).toMatchObject({ ok: true });
    if (check.ok) expect(check.text).toContain('Prices < wages & <b>unrest</b>');
  });

  it('links only to http(s)', () => {
    expect(renderHtml(alert({ link: 'javascript:alert(1)' }))).not.toContain('javascript');
    expect(renderHtml(alert({ link: 'https://example.test/a?x=1&y="2"' }))).toContain('<a href="https://example.test/a?x=1&amp;y=%222%22">example.test</a>');
  });

  it('shows title, summary, source, relative and absolute time, link and watchlist hashtag', () => {
    const text = renderText(alert({ summary: { title: 'В Алматы митинг', sentences: ['Люди вышли на площадь.'] } }), { ...DEFAULT_RENDER, now: new Date('2022-01-05T10:12:00Z') });
    expect(text).toBe('В Алматы митинг\nЛюди вышли на площадь.\n\nSource · 12 min ago · 2022-01-05 10:00 UTC\nhttps://example.test/a\n#kazakhstan_unrest');
  });

  it('gives the time in the configured time zone', () => {
    const options = { ...DEFAULT_RENDER, timeZone: 'Asia/Almaty', now: new Date('2022-01-05T13:00:00Z') };
    expect(renderText(alert({}), options)).toContain('3 h ago · 2022-01-05 16:00 GMT+6');
  });

  it('puts the matched words of the summary in bold', () => {
    const html = renderHtml(alert({ summary: { title: 'T', sentences: ['Protesters gathered in Алматы, police said.'] }, matchedForms: new Set(['алматы', 'protesters']) }));
    expect(html).toContain('<b>Protesters</b> gathered in <b>Алматы</b>, police said.');
  });

  it('isolates Latin names and numbers inside Arabic text, so they do not scramble', () => {
    const html = renderHtml(alert({ summary: { title: 'انفجار في Almaty', sentences: ['وصل 2500 جندي من CSTO إلى المدينة.'] }, language: 'ar' }));
    expect(html).toContain('انفجار في \u2068Almaty\u2069');
    expect(html).toContain('وصل \u20682500\u2069 جندي من \u2068CSTO\u2069 إلى');
    // Not in text that reads left to right.
    expect(renderHtml(alert({ summary: { title: 'Blast in Almaty 2022', sentences: [] } }))).not.toContain('\u2068');
  });

  it('compact: title and a link named after the source', () => {
    const html = renderHtml(alert({ summary: { title: 'Взрыв', sentences: ['Долгий текст.'] } }), { ...DEFAULT_RENDER, template: 'compact' });
    expect(html).toBe('<b>Взрыв</b>\n<a href="https://example.test/a">Source</a>');
  });

  it('never links anything but http(s)', () => {
    expect(renderHtml(alert({ link: 'javascript:alert(1)' }))).not.toContain('href');
  });

  it('escapes quotes for attributes', () => {
    expect(escapeHtml(`<a href="x">&`)).toBe('&lt;a href=&quot;x&quot;&gt;&amp;');
  });
});

describe('any feed text', () => {
  // Titles, bodies and links as hostile as feeds get: markup, entities, RTL marks, emoji, long.
  const nasty = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 300 }),
    fc.constantFrom('<b>', '</b>', '<a href="x">', '&amp;', '&', '<', '>', '"', '\u202e', '\u200f', '😀', '\ud83d', 'ألماتي', 'Алматы', 'x'.repeat(5000)),
  );
  const text = fc.array(nasty, { maxLength: 12 }).map((parts) => parts.join(' '));
  const link = fc.oneof(fc.webUrl(), fc.constant('javascript:alert(1)'), fc.constant('https://x.test/?a=<b>&c="d"'), fc.string());

  it('renders valid Telegram HTML within the message and caption limits, in both templates', () => {
    fc.assert(
      fc.property(text, fc.array(text, { maxLength: 5 }), link, fc.boolean(), fc.constantFrom(MESSAGE_LIMIT, CAPTION_LIMIT), (title, sentences, href, compact, limit) => {
        const options = { ...DEFAULT_RENDER, template: compact ? ('compact' as const) : ('full' as const), maxLength: limit };
        const html = renderHtml(alert({ summary: { title, sentences }, link: href, source: title.slice(0, 30), matchedForms: new Set(['алматы', 'x']) }), options);
        const check = checkTelegramHtml(html);
        expect(check.ok, html.slice(0, 200)).toBe(true);
        if (check.ok) expect(check.text.length).toBeLessThanOrEqual(limit);
      }),
      { numRuns: 300 },
    );
  });

  it('fits a 100 KB body into one message by shortening the summary, never by cutting tags', () => {
    const body = 'Протест в Алматы. '.repeat(6000);
    const summary = summarize(item({ title: 'Митинг', text: body }), new Set(['алматы']), 100_000);
    const html = renderHtml(alert({ summary, matchedForms: new Set(['алматы']) }));
    const check = checkTelegramHtml(html);
    expect(check.ok).toBe(true);
    if (check.ok) expect(check.text.length).toBeLessThanOrEqual(MESSAGE_LIMIT);
    expect(html).toContain('#kazakhstan_unrest');
  });
});
