// A hostile or broken item is cut to known bounds however it is built (megabytes of text, tens
// of thousands of nested or unclosed tags), and what is cut is marked. What that costs in CPU is
// measured in `npm run bench` (bench/hostile.ts), not here.

import { describe, expect, it } from 'vitest';
import { boundNesting, cap, cleanTitle, htmlToText, MAX_TEXT_CHARS, MAX_TITLE_CHARS, stripActive, TRUNCATED } from '../../src/feeds/html.js';
import { parseFeed } from '../../src/feeds/parse.js';

const rss = (title: string, description: string) =>
  `<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><item><title><![CDATA[${title}]]></title><link>https://n.test/1</link><guid>g1</guid><description><![CDATA[${description}]]></description></item><item><title>Protest in Almaty</title><link>https://n.test/2</link><guid>g2</guid><description>Thousands gathered.</description></item></channel></rss>`;

describe('bounds on one item', () => {
  const HOSTILE = {
    '2 MB of unclosed <b>': '<b>'.repeat(700_000) + 'deep',
    '2 MB of nested <div>': `${'<div>'.repeat(200_000)}x${'</div>'.repeat(200_000)}`,
    'nested tables': '<table><tr><td>'.repeat(60_000),
    'nested lists': '<ul><li>'.repeat(100_000),
    '2 MB of paragraphs': '<p>hello world</p>'.repeat(110_000),
    '10 MB of plain text': 'word '.repeat(2_000_000),
  };

  it.each(Object.entries(HOSTILE))('%s is cut to the caps and marked', (_name, html) => {
    const text = htmlToText(html);
    expect(text.length).toBeLessThanOrEqual(MAX_TEXT_CHARS);
    expect(text.endsWith(TRUNCATED.trim())).toBe(true);
  });

  it('keeps a title to one short line, however long the feed made it', () => {
    const title = cleanTitle(`<b>${'Almaty '.repeat(1_500_000)}</b>`);
    // 10 MB of title: the item keeps a line, not megabytes, in memory and in the store.
    expect(title.length).toBeLessThanOrEqual(MAX_TITLE_CHARS);
    expect(title.startsWith('Almaty Almaty')).toBe(true);
    expect(title.endsWith('[…]')).toBe(true);
  });

  it('leaves ordinary HTML alone: sloppy open paragraphs and list items are not cut', () => {
    const sloppy = `${'<p>para'.repeat(2_000)}<ul>${'<li>item'.repeat(2_000)}</ul>`;
    expect(boundNesting(sloppy)).toBe(sloppy);
    expect(htmlToText('<p>One.</p><p>Two &amp; <b>three</b>.</p>')).toBe('One.\n\nTwo & three.');
  });

  it('drops direction overrides and invisible characters that spoof names and links, keeps ZWNJ and ZWJ', () => {
    expect(cleanTitle('Official \u202eexe.gpj\u202c statement')).toBe('Official exe.gpj statement');
    expect(cleanTitle('Official &#x202E;exe.gpj&#8236; <b>statement</b>')).toBe('Official exe.gpj statement');
    expect(htmlToText('<p>a&#x2066;b&#xFEFF;c</p>')).toBe('abc');
    expect(htmlToText('<p>Ak\u200borda\u2066 says\u2069\ufeff</p>')).toBe('Akorda says');
    expect(cleanTitle('می\u200cخواهم 👩\u200d💻')).toBe('می\u200cخواهم 👩\u200d💻');
  });

  it('never cuts a character in half', () => {
    expect(cap('😀'.repeat(10), 9)).toBe(`😀😀${TRUNCATED}`);
    expect(cap('😀'.repeat(10), 10)).toBe(`😀😀😀${TRUNCATED}`);
  });

  it('a document converts a million characters of HTML in full, then each body from its first 2,000: a 10 MB feed costs what a long article does', async () => {
    const paragraphs = '<p>Protesters gathered in Almaty on Sunday.</p>'.repeat(2_200);
    const items = Array.from({ length: 100 }, (_, i) => `<item><title>Item ${i}</title><guid>g${i}</guid><description><![CDATA[${paragraphs}]]></description></item>`).join('');
    const feed = await parseFeed(`<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>${items}</channel></rss>`, 'https://n.test/rss');
    expect(feed.items).toHaveLength(100);
    expect(feed.items[0]?.text.length).toBeGreaterThan(20_000);
    expect(feed.items[99]?.text.length).toBeLessThan(2_100);
    expect(feed.items[99]?.text.endsWith('[…]')).toBe(true);
  });

  it('a document gives at most 5,000 items', async () => {
    const items = Array.from({ length: 6_000 }, (_, i) => `<item><title>Item ${i}</title><guid>g${i}</guid></item>`).join('');
    const feed = await parseFeed(`<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>${items}</channel></rss>`, 'https://n.test/rss');
    expect(feed.items).toHaveLength(5_000);
  });

  it('a feed whose item is a 10 MB title and 2 MB of nesting parses, the item within the caps, its other item intact', async () => {
    const feed = await parseFeed(rss('Almaty '.repeat(1_500_000), '<b>'.repeat(700_000)), 'https://n.test/rss');
    const [hostile, normal] = feed.items;
    expect(hostile?.title.length).toBeLessThanOrEqual(MAX_TITLE_CHARS);
    expect(hostile?.text.length).toBeLessThanOrEqual(MAX_TEXT_CHARS);
    expect(normal).toMatchObject({ title: 'Protest in Almaty', text: 'Thousands gathered.' });
  });

  it('strips active markup left as literal text, in one linear pass, keeping prose', () => {
    expect(stripActive('<scr<script>ipt>alert(1)</script> ok')).toBe('<scr  ok');
    expect(stripActive('<scr<iframe>ipt>alert(1)')).toBe('<scr ipt>alert(1)');
    expect(stripActive('<script>steal()</script>Reporter <embed src=x>')).toBe(' Reporter  ');
    expect(stripActive('<img src=x onerror=alert(1)> go javascript:alert(2)')).toBe('<img src=x  > go  alert(2)');
    expect(stripActive('JavaScript: The Good Parts, AT&T <b>bold</b>')).toBe('JavaScript: The Good Parts, AT&T <b>bold</b>');
    expect(cleanTitle('Tokayev &lt;iframe src=//x&gt; meets')).toBe('Tokayev meets');
    // A guard against a pattern that backtracks (seconds, not milliseconds); the cost is in the bench.
    const started = performance.now();
    stripActive(`${'<scr<script'.repeat(2_500)}${'onx='.repeat(5_000)}${'<script '.repeat(3_000)}`);
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});
