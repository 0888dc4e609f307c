import { describe, expect, it } from 'vitest';
import { FeedParseError, parseFeed, sniffFormat } from '../../src/feeds/parse.js';

const URL_ = 'https://feeds.example.test/rss';

describe('parseFeed', () => {
  it('adapts RSS 2.0 to items, body text cleaned and links resolved', async () => {
    const feed = await parseFeed(
      `<?xml version="1.0"?><rss version="2.0"><channel><title>Лента</title><link>https://news.example.test/</link><language>ru-RU</language>
      <item><title>Протест &amp; &lt;митинг&gt;</title><link>/news/1</link><guid isPermaLink="false">n-1</guid>
      <pubDate>Tue, 04 Jan 2022 10:00:00 +0600</pubDate><author>Иван</author>
      <description><![CDATA[<p>Первый абзац.</p><script>alert(1)</script><p>Второй &laquo;абзац&raquo;.</p>]]></description></item>
      </channel></rss>`,
      URL_,
    );
    expect(feed).toMatchObject({ format: 'rss', title: 'Лента', language: 'ru' });
    expect(feed.items).toEqual([
      {
        id: 'n-1',
        feedUrl: URL_,
        guid: 'n-1',
        link: 'https://news.example.test/news/1',
        title: 'Протест & <митинг>',
        text: 'Первый абзац.\n\nВторой «абзац».',
        published: new Date('2022-01-04T04:00:00Z'),
        author: 'Иван',
        language: 'ru',
      },
    ]);
  });

  it('adapts Atom, RSS 1.0 and JSON Feed to the same model', async () => {
    const atom = await parseFeed(
      `<feed xmlns="http://www.w3.org/2005/Atom"><title>World</title><entry><id>urn:1</id><title type="html">CSTO &lt;b&gt;troops&lt;/b&gt;</title>
       <link href="https://en.example.test/1"/><updated>2022-01-07T10:00:00Z</updated><content type="html">&lt;p&gt;Body&lt;/p&gt;</content></entry></feed>`,
      URL_,
    );
    expect(atom.items[0]).toMatchObject({ guid: 'urn:1', title: 'CSTO troops', link: 'https://en.example.test/1', text: 'Body', language: 'en' });

    const rdf = await parseFeed(
      `<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
       <channel><title>Жаңалықтар</title><link>https://kk.example.test/</link></channel>
       <item rdf:about="https://kk.example.test/1"><title>Алматыда наразылық шеруі</title><link>https://kk.example.test/1</link><dc:date>2022-01-05T08:00:00Z</dc:date></item></rdf:RDF>`,
      URL_,
    );
    expect(rdf.format).toBe('rdf');
    expect(rdf.items[0]).toMatchObject({ title: 'Алматыда наразылық шеруі', link: 'https://kk.example.test/1', published: new Date('2022-01-05T08:00:00Z'), language: 'kk' });

    const json = await parseFeed(
      JSON.stringify({
        version: 'https://jsonfeed.org/version/1.1',
        title: 'Wire',
        items: [{ id: 7, url: 'https://wire.example.test/7', title: 'A <b> b', content_text: 'x < y', date_published: '2022-01-06T00:00:00Z' }, { id: {} }],
      }),
      URL_,
    );
    expect(json.format).toBe('json');
    expect(json.items).toHaveLength(2);
    expect(json.items[0]).toMatchObject({ id: '7', title: 'A <b> b', text: 'x < y', link: 'https://wire.example.test/7' });
  });

  it('never carries javascript: or file: links into items', async () => {
    const feed = await parseFeed(
      `<rss version="2.0"><channel><title>T</title>
       <item><title>a</title><link>javascript:alert(1)</link></item>
       <item><title>b</title><link>file:///etc/passwd</link></item></channel></rss>`,
      URL_,
    );
    expect(feed.items.map((i) => i.link)).toEqual([null, null]);
  });

  it('does not resolve external entities', async () => {
    const feed = await parseFeed(
      `<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
       <rss version="2.0"><channel><title>T</title><item><title>x&xxe;y</title></item></channel></rss>`,
      URL_,
    ).catch((error: unknown) => error);
    if (feed instanceof Error) expect(feed).toBeInstanceOf(FeedParseError);
    else expect(JSON.stringify(feed)).not.toContain('root:');
  });

  it('gives the feed title as plain text, whatever markup or escaping the feed put in it', async () => {
    const atom = await parseFeed(`<feed xmlns="http://www.w3.org/2005/Atom"><title>AT&amp;T &lt;news&gt;</title></feed>`, URL_);
    expect(atom.title).toBe('AT&T <news>');
    const rss = await parseFeed(`<rss version="2.0"><channel><title><![CDATA[<b>Wire</b> <script>alert(1)</script>]]></title></channel></rss>`, URL_);
    expect(rss.title).toBe('Wire');
  });

  it('gives an item with no guid or link a stable id', async () => {
    const xml = `<rss version="2.0"><channel><title>T</title><item><title>Same</title><description>d</description></item></channel></rss>`;
    const [a, b] = await Promise.all([parseFeed(xml, URL_), parseFeed(xml, URL_)]);
    expect(a.items[0]?.id).toMatch(/^sha1:/u);
    expect(a.items[0]?.id).toBe(b.items[0]?.id);
  });

  it('rejects what is not a feed with a clear error', async () => {
    await expect(parseFeed('<html><body>Maintenance</body></html>', URL_)).rejects.toThrow(/not a feed/u);
    await expect(parseFeed('<rss version="2.0"><channel><item>', URL_)).rejects.toBeInstanceOf(FeedParseError);
    await expect(parseFeed('{"version": "nope", "items": []}', URL_)).rejects.toBeInstanceOf(FeedParseError);
  });
});

describe('sniffFormat', () => {
  it('reads the root element past prolog, comments and doctype', () => {
    expect(sniffFormat('\uFEFF<?xml version="1.0"?>\n<!-- hi --><!DOCTYPE rss><rss version="2.0">')).toBe('rss');
    expect(sniffFormat('<feed xmlns="http://www.w3.org/2005/Atom">')).toBe('atom');
    expect(sniffFormat('  {"version": "https://jsonfeed.org/version/1"}')).toBe('json');
    expect(sniffFormat('<html>')).toBeNull();
  });
});

