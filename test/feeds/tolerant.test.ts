// The tolerant fallback (src/feeds/tolerant.ts): what rss-parser refuses is read as a lenient
// parser reads it, through the same adapt code and bounds; what is cut off is not given.

import { describe, expect, it } from 'vitest';
import { MAX_ITEMS } from '../../src/feeds/adapt.js';
import { MAX_TEXT_CHARS, MAX_TITLE_CHARS } from '../../src/feeds/html.js';
import { FeedParseError, parseFeed } from '../../src/feeds/parse.js';
import { parseTolerant } from '../../src/feeds/tolerant.js';
import { nestsDeeperThan } from '../../src/feeds/xml-feed.js';
import { MAX_XML_DEPTH, readXmlTree } from '../../src/feeds/xml-tree.js';

const URL_ = 'https://feeds.example.test/rss';
const item = (i: number, extra = '') => `<item><title>Item ${i}</title><link>https://n.test/${i}</link><guid>g${i}</guid>${extra}</item>`;
// One mismatched tag makes rss-parser throw; everything else is well-formed.
const broken = (items: string) => `<?xml version="1.0"?><rss version="2.0"><channel><title>T <b>x</title>${items}</channel></rss>`;

describe('tolerant fallback', () => {
  it('reads a document rss-parser refuses into the same model', async () => {
    const feed = await parseFeed(broken(`${item(1, '<description><![CDATA[<p>Body</p><script>x()</script>]]></description>')}${item(2)}`), URL_);
    expect(feed).toMatchObject({ format: 'rss', title: 'T x' });
    expect(feed.items.map((i) => [i.id, i.title, i.link, i.text])).toEqual([
      ['g1', 'Item 1', 'https://n.test/1', 'Body'],
      ['g2', 'Item 2', 'https://n.test/2', ''],
    ]);
  });

  it('reads a document nested millions deep through the tolerant parser, never building the whole tree', async () => {
    const deep = `<rss version="2.0"><channel><title>T</title>${item(1)}<item><title>Deep</title><description>${'<x>'.repeat(1_000_000)}</description></item></channel></rss>`;
    expect(nestsDeeperThan(deep, 256)).toBe(true);
    expect(nestsDeeperThan(broken(item(1)), 256)).toBe(false);
    // Comments, CDATA and self-closing elements do not nest.
    expect(nestsDeeperThan(`<a>${'<!-- <b> -->'.repeat(300)}${'<![CDATA[<b>]]>'.repeat(300)}${'<b/>'.repeat(300)}</a>`, 256)).toBe(false);
    const before = process.memoryUsage().heapUsed;
    expect((await parseFeed(deep, URL_)).items.map((i) => i.guid)).toEqual(['g1']);
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(200 * 1024 * 1024);
  });

  it('gives the items before the cut, never the one cut in the middle', async () => {
    const text = `<rss version="2.0"><channel><title>T</title>${item(1)}${item(2)}<item><title>Item 3</title><link>https://n.test/3</link><guid>g3`;
    expect((await parseFeed(text, URL_)).items.map((i) => i.guid)).toEqual(['g1', 'g2']);
    // Nothing complete at all: an error, not an empty feed that would hide a failing server.
    await expect(parseFeed('<rss version="2.0"><channel><title>T</title><item><title>Cut', URL_)).rejects.toThrow(/ends before any item is complete/u);
  });

  it('recognises elements by namespace, not only by name: media:title is not the title', async () => {
    const feed = await parseFeed(
      `<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:r="http://purl.org/rss/1.0/" xmlns:media="http://search.yahoo.com/mrss/">
       <r:channel><r:title>P</r:title></r:channel>
       <r:item><media:title>wrong</media:title><r:title>right</r:title><r:link>https://n.test/1</r:link><media:content url="x">no</media:content></r:item></rdf:RDF>`,
      URL_,
    );
    expect(feed).toMatchObject({ format: 'rdf', title: 'P' });
    expect(feed.items.map((i) => [i.title, i.link, i.text])).toEqual([['right', 'https://n.test/1', '']]);
  });

  it('resolves per-element xml:base in a broken document too', async () => {
    const feed = await parseFeed(
      `<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://b.test/a/"><title>T <b></title>
       <entry xml:base="c/"><id>1</id><title>x</title><link href="d"/></entry>
       <entry><id>2</id><title>y</title><link xml:base="https://e.test/f/" href="g"/></entry></feed>`,
      URL_,
    );
    expect(feed.items.map((i) => i.link)).toEqual(['https://b.test/a/c/d', 'https://e.test/f/g']);
  });

  it('keeps the bounds: a 10 MB title and 2 MB of nesting are cut, at most 5,000 items', async () => {
    const hostile = broken(item(1, `<description><![CDATA[${'<b>'.repeat(700_000)}]]></description>`).replace('Item 1', 'Almaty '.repeat(1_500_000)) + item(2));
    const [first, second] = (await parseFeed(hostile, URL_)).items;
    expect(first?.title.length).toBeLessThanOrEqual(MAX_TITLE_CHARS);
    expect(first?.text.length).toBeLessThanOrEqual(MAX_TEXT_CHARS);
    expect(second?.title).toBe('Item 2');
    const many = await parseFeed(broken(Array.from({ length: 6_000 }, (_, i) => item(i)).join('')), URL_);
    expect(many.items).toHaveLength(MAX_ITEMS);
  });

  it('reads no deeper than MAX_XML_DEPTH: what comes before is kept, deep nesting costs little', () => {
    const deep = `<rss><channel><title>T</title>${item(1)}${'<x>'.repeat(200_000)}</channel></rss>`;
    const started = performance.now();
    const feed = parseTolerant(deep, URL_, 'rss');
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(feed.items.map((i) => i.guid)).toEqual(['g1']);
    expect(readXmlTree(`<a>${'<x>'.repeat(MAX_XML_DEPTH + 5)}`).tooLarge).toBe(true);
    expect(() => parseTolerant(`<rss><channel>${'<x>'.repeat(50_000)}</channel></rss>`, URL_, 'rss')).toThrow(/nests deeper than/u);
  });

  it('still fails on what is not a feed, with a clear error', async () => {
    await expect(parseFeed('<html><body><rss>not here</rss></body></html>', URL_)).rejects.toThrow(/not a feed/u);
    await expect(parseFeed('<rss version="2.0"><channel><item>', URL_)).rejects.toBeInstanceOf(FeedParseError);
  });
});

describe('xml tree', () => {
  it('tells elements that ended from those the document ended inside', () => {
    const root = readXmlTree('<a><b>x</c></b><d><e/>').root;
    expect(root?.closed).toBe(false);
    const [b, d] = root?.children.filter((n) => n.kind === 'element') ?? [];
    expect(b).toMatchObject({ local: 'b', closed: true });
    expect(d).toMatchObject({ local: 'd', closed: false });
    expect(d?.kind === 'element' && d.children[0]).toMatchObject({ local: 'e', closed: true });
  });
});
