import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Item } from '../../src/feeds/item.js';
import { escapeHtml, renderHtml, renderText, type Alert } from '../../src/summary/render.js';
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

  it('shows title, summary, source, time, link and watchlist hashtag', () => {
    const text = renderText(alert({ summary: { title: 'В Алматы митинг', sentences: ['Люди вышли на площадь.'] } }));
    expect(text).toBe('В Алматы митинг\nЛюди вышли на площадь.\n\nSource · 2022-01-05 10:00 UTC\nhttps://example.test/a\n#kazakhstan_unrest');
  });

  it('escapes quotes for attributes', () => {
    expect(escapeHtml(`<a href="x">&`)).toBe('&lt;a href=&quot;x&quot;&gt;&amp;');
  });
});
