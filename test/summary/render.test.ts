import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Item } from '../../src/feeds/item.js';
import {
  BREAKING_PREFIX,
  CAPTION_LIMIT,
  DEFAULT_RENDER,
  escapeHtml,
  MESSAGE_LIMIT,
  renderHtml,
  renderStoryUpdate,
  renderText,
  UPDATE_ROOM,
  visibleLength,
  type Alert,
  type OtherReport,
} from '../../src/summary/render.js';
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

describe('renderStoryUpdate', () => {
  const base = { html: '<b>Title</b>', text: 'Title' };
  const tengri: OtherReport = { source: 'Tengrinews', link: 'https://tengrinews.kz/a', language: 'ru' };
  const reuters: OtherReport = { source: 'Reuters', link: 'https://reuters.test/b', language: 'en' };
  const many = (n: number): OtherReport[] => Array.from({ length: n }, (_, i) => ({ source: `Outlet ${i + 1}`, link: `https://o${i + 1}.test/x`, language: 'kk' }));
  const visible = (html: string) => {
    const check = checkTelegramHtml(html);
    expect(check, html).toMatchObject({ ok: true });
    return check.ok ? check.text : '';
  };

  it('lists the other outlets and their languages in Russian for a Russian alert', () => {
    const update = renderStoryUpdate(base, false, [tengri, reuters], 'ru');
    expect(visible(update.html)).toBe('Title\n\nТакже сообщают: Tengrinews (ru), Reuters (en)');
    expect(update.html).toContain('<a href="https://tengrinews.kz/a">Tengrinews</a> (ru), <a href="https://reuters.test/b">Reuters</a> (en)');
    expect(update.text).toBe('Title\n\nТакже сообщают: Tengrinews (ru) (https://tengrinews.kz/a), Reuters (en) (https://reuters.test/b)');
  });

  it('speaks English for an English alert, for an unknown language and for callers that pass none', () => {
    const expected = 'Title\n\nAlso reported by: Tengrinews (ru), Reuters (en)';
    expect(visible(renderStoryUpdate(base, false, [tengri, reuters], 'en').html)).toBe(expected);
    expect(visible(renderStoryUpdate(base, false, [tengri, reuters], 'de').html)).toBe(expected);
    expect(visible(renderStoryUpdate(base, false, [tengri, reuters], null).html)).toBe(expected);
    expect(visible(renderStoryUpdate(base, false, [tengri, reuters]).html)).toBe(expected);
  });

  it('speaks Kazakh for a Kazakh alert, choosing by the first two letters', () => {
    expect(visible(renderStoryUpdate(base, false, [tengri], 'kk-KZ').html)).toBe('Title\n\nСондай-ақ хабарлады: Tengrinews (ru)');
  });

  it('isolates each Latin «Source (xx)» in an Arabic alert, so right-to-left text does not scramble', () => {
    const update = renderStoryUpdate(base, false, [tengri, reuters, { source: 'الجزيرة', link: null, language: 'ar' }], 'ar');
    expect(visible(update.html)).toBe('Title\n\nأفادت به أيضًا: \u2068Tengrinews (ru)\u2069, \u2068Reuters (en)\u2069, \u2068الجزيرة (ar)\u2069');
    expect(update.html).toContain('\u2068<a href="https://tengrinews.kz/a">Tengrinews</a> (ru)\u2069');
    expect(update.text).toContain('\u2068Tengrinews (ru) (https://tengrinews.kz/a)\u2069');
    // Not in alerts that read left to right.
    expect(renderStoryUpdate(base, false, [tengri], 'ru').html).not.toContain('\u2068');
  });

  it('counts the reports past the twelfth, in the alert\'s language', () => {
    const tail = (language: string | null) => visible(renderStoryUpdate(base, false, many(15), language).html).split(', ').at(-1);
    expect(tail('en')).toBe('Outlet 12 (kk) and 3 more');
    expect(tail('ru')).toBe('Outlet 12 (kk) и ещё 3');
    expect(tail('kk')).toBe('Outlet 12 (kk) және тағы 3');
    expect(tail('ar')).toBe('\u2068Outlet 12 (kk)\u2069 و3 أخرى');
    expect(renderStoryUpdate(base, false, many(15), 'ru').text).toMatch(/Outlet 12 \(kk\) \(https:\/\/o12\.test\/x\) и ещё 3$/u);
    expect(visible(renderStoryUpdate(base, false, many(12)).html)).not.toContain('more');
  });

  it('shows no parentheses for a report of unknown language', () => {
    const update = renderStoryUpdate(base, false, [{ source: 'Vlast', link: null, language: null }, { source: 'KazTAG', link: null, language: '<script>' }]);
    expect(update.html).toBe('<b>Title</b>\n\nAlso reported by: Vlast, KazTAG');
    expect(update.text).toBe('Title\n\nAlso reported by: Vlast, KazTAG');
  });

  it('escapes hostile source names and links only to http(s)', () => {
    const update = renderStoryUpdate(base, true, [{ source: '<b>&"', link: 'javascript:alert(1)', language: 'ru' }, reuters], 'ru');
    expect(update.html).toBe(
      `<b>${BREAKING_PREFIX}</b>\n<b>Title</b>\n\nТакже сообщают: &lt;b&gt;&amp;&quot; (ru), <a href="https://reuters.test/b">Reuters</a> (en)`,
    );
    expect(update.html).not.toContain('javascript');
    expect(visible(update.html)).toContain('Также сообщают: <b>&" (ru), Reuters (en)');
  });

  it('keeps a long list of long names within the room the alert left, and the message within 4096', () => {
    const longBase = { html: `<b>${'x'.repeat(MESSAGE_LIMIT - UPDATE_ROOM)}</b>`, text: 'x'.repeat(MESSAGE_LIMIT - UPDATE_ROOM) };
    expect(visibleLength(longBase.html)).toBe(MESSAGE_LIMIT - UPDATE_ROOM);
    const hostile = Array.from({ length: 40 }, (_, i) => ({ source: `${i}&<>"`.repeat(40), link: `https://o.test/${'&'.repeat(2000)}`, language: 'ru' }));
    for (const language of ['en', 'ru', 'kk', 'ar', null]) {
      const update = renderStoryUpdate(longBase, true, hostile, language);
      expect(visible(update.html).length).toBeLessThanOrEqual(MESSAGE_LIMIT);
      expect(visibleLength(update.html)).toBeLessThanOrEqual(MESSAGE_LIMIT);
      expect(update.text.length).toBeLessThanOrEqual(MESSAGE_LIMIT);
      expect(update.html).toMatch(/\d+ (more|أخرى)|ещё \d+|тағы \d+|و\d+ أخرى$/u);
    }
  });
});
