import { describe, expect, it } from 'vitest';
import { expandInternalEntities, MAX_ENTITY_VALUE } from '../../src/feeds/doctype.js';
import { parseFeed } from '../../src/feeds/parse.js';

const doc = (subset: string, body: string) => `<?xml version="1.0"?>\n<!DOCTYPE rss [${subset}]>\n<rss version="2.0"><channel>${body}</channel></rss>`;
const refusal = (text: string) => {
  const result = expandInternalEntities(text);
  return 'refused' in result ? result.refused : null;
};

describe('internal DTD entities', () => {
  it('expands short literal values once, as text, and drops the DOCTYPE', () => {
    const result = expandInternalEntities(doc('<!ENTITY nbsp "&#160;"><!ENTITY site "A &#38; <b>B</b>">', '<title>&site;&nbsp;x</title><!-- &site; --><![CDATA[&site;]]>'));
    expect(result).toEqual({
      text: '<?xml version="1.0"?>\n\n<rss version="2.0"><channel><title>A &amp; &lt;b&gt;B&lt;/b&gt;\u00a0x</title><!-- &site; --><![CDATA[&site;]]></channel></rss>',
    });
  });

  it('leaves documents without entity declarations as they are', () => {
    const text = '<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" "http://my.netscape.com/publish/formats/rss-0.91.dtd"><rss/>';
    expect(expandInternalEntities(text)).toEqual({ text });
  });

  it.each([
    ['an external entity (SYSTEM)', '<!ENTITY x SYSTEM "file:///etc/passwd">', /external entity "x"/u],
    ['an external entity (PUBLIC)', '<!ENTITY x PUBLIC "-//A//B" "http://169.254.169.254/">', /external entity "x"/u],
    ['a parameter entity', '<!ENTITY % x "y">', /parameter entity/u],
    ['a parameter entity reference', '<!ENTITY a "b"> %x;', /parameter entity reference/u],
    ['an entity built from entities (billion laughs)', '<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">', /"b" refers to other entities/u],
    ['a long value (quadratic blowup)', `<!ENTITY a "${'A'.repeat(MAX_ENTITY_VALUE + 1)}">`, /longer than/u],
    ['an unterminated DOCTYPE', "<!ENTITY a 'b", /unterminated/u],
    ['a literal & in a value', '<!ENTITY a "b & c">', /"a" refers to other entities/u],
  ])('refuses %s', (_name, subset, reason) => {
    const message = refusal(doc(subset, '<title>&a;</title>'));
    expect(message).toMatch(/^refused: the document declares XML entities/u);
    expect(message).toMatch(reason);
  });

  it('refuses expansion past its budget, quickly, however the references are spread', () => {
    const started = performance.now();
    expect(refusal(doc(`<!ENTITY a "${'A'.repeat(MAX_ENTITY_VALUE)}">`, `<title>${'&a;'.repeat(3_000_000)}</title>`))).toMatch(/would add more than 1000000 characters/u);
    expect(refusal(doc(`<!ENTITY a "${'A'.repeat(500)}">`, `<title>${'&a;'.repeat(200)}</title>`))).toMatch(/would add more than 65536/u);
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('refuses <!ENTITY outside the DOCTYPE, but not as text in CDATA', () => {
    expect(refusal('<rss><channel><!ENTITY x "y"></channel></rss>')).toMatch(/outside a DOCTYPE/u);
    expect(refusal(doc('<!ENTITY a "b">', '<title>&a;</title><!ENTITY c "d">'))).toMatch(/outside a DOCTYPE/u);
    expect(refusal(doc('<!ENTITY a "b">', '<description><![CDATA[how <!ENTITY works]]></description>'))).toBeNull();
  });

  it('stays linear on unclosed CDATA sections and comments', () => {
    const started = performance.now();
    expandInternalEntities(doc('<!ENTITY a "b">', '<![CDATA[<!--'.repeat(300_000)));
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('lets the feed parse with its entities expanded', async () => {
    const feed = await parseFeed(doc('<!ENTITY site "Steppe Wire">', '<title>&site;</title><item><title>x &site;</title><guid>1</guid></item>'), 'https://f.test/');
    expect([feed.title, feed.items[0]?.title]).toEqual(['Steppe Wire', 'x Steppe Wire']);
  });
});
