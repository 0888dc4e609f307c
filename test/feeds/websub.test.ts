// WebSub's pure parts: where a feed's hub is found, and which pushed bodies count as signed.

import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseFeed } from '../../src/feeds/parse.js';
import { discoverHub, linksFromHeader, linksFromXml, renewalDue, verifySignature } from '../../src/feeds/websub.js';

const BASE = 'https://news.example.kz/feed.xml';

describe('WebSub discovery', () => {
  it('reads hub and self from a Link header, several links and rels in one', () => {
    const links = linksFromHeader('<https://hub.example/>; rel="hub", </feed.xml>; rel="self", <https://other.example/>; rel=alternate', BASE);
    expect(links).toEqual({ hubs: ['https://hub.example/'], self: 'https://news.example.kz/feed.xml' });
    expect(linksFromHeader('<https://hub.example/a,b>; rel="hub self"', BASE)).toEqual({ hubs: ['https://hub.example/a,b'], self: 'https://hub.example/a,b' });
  });

  it('ignores Link targets that are not http(s) and headers without hub', () => {
    expect(linksFromHeader('<javascript:alert(1)>; rel="hub"', BASE).hubs).toEqual([]);
    expect(linksFromHeader(null, BASE)).toEqual({ hubs: [], self: null });
    expect(linksFromHeader('<https://x.example/>; rel="next"', BASE).hubs).toEqual([]);
  });

  it('finds <atom:link rel="hub"> in RSS and <link rel="hub"> in Atom, not an item\'s links', async () => {
    const rssText = `<?xml version="1.0"?><rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel><title>T</title>
      <atom:link rel="hub" href="https://pubsubhubbub.example/"/><atom:link rel="self" href="https://news.example.kz/rss"/>
      <item><title>A</title><atom:link rel="hub" href="https://item-hub.example/"/></item></channel></rss>`;
    const parsed = await parseFeed(rssText, BASE);
    expect(parsed.hubs).toEqual(['https://pubsubhubbub.example/']);
    expect(parsed.self).toBe('https://news.example.kz/rss');
    const atom = `<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title><link rel="hub" href="/hub"/><link rel="self" href="https://news.example.kz/atom"/>
      <entry><id>1</id><title>A</title><link href="https://news.example.kz/a"/></entry></feed>`;
    expect(linksFromXml(atom, BASE)).toEqual({ hubs: ['https://news.example.kz/hub'], self: 'https://news.example.kz/atom' });
  });

  it("reads a JSON Feed's websub hubs and feed_url", async () => {
    const json = JSON.stringify({
      version: 'https://jsonfeed.org/version/1.1',
      title: 'T',
      feed_url: 'https://news.example.kz/feed.json',
      hubs: [{ type: 'WebSub', url: 'https://hub.example/' }, { type: 'rssCloud', url: 'https://cloud.example/' }],
      items: [],
    });
    const parsed = await parseFeed(json, BASE);
    expect(parsed.hubs).toEqual(['https://hub.example/']);
    expect(parsed.self).toBe('https://news.example.kz/feed.json');
  });

  it('prefers the Link header over the document, and falls back to the fetched URL as topic', () => {
    const document = { hubs: ['https://doc-hub.example/'], self: 'https://news.example.kz/doc-self' };
    expect(discoverHub({ header: { hubs: ['https://header-hub.example/'], self: 'https://news.example.kz/header-self' }, document, fetchedUrl: BASE })).toEqual({
      hub: 'https://header-hub.example/',
      topic: 'https://news.example.kz/header-self',
    });
    expect(discoverHub({ header: { hubs: [], self: null }, document, fetchedUrl: BASE })).toEqual({ hub: 'https://doc-hub.example/', topic: 'https://news.example.kz/doc-self' });
    expect(discoverHub({ header: { hubs: [], self: null }, document: { hubs: ['https://doc-hub.example/'], self: null }, fetchedUrl: BASE })?.topic).toBe(BASE);
    expect(discoverHub({ header: { hubs: [], self: null }, document: { hubs: [], self: BASE }, fetchedUrl: BASE })).toBeNull();
  });
});

describe('WebSub signatures', () => {
  const secret = 'a-secret-of-our-own';
  const body = Buffer.from('<rss><channel><title>pushed</title></channel></rss>');

  it.each(['sha1', 'sha256', 'sha384', 'sha512'])('accepts a body signed with %s', (algorithm) => {
    const signature = `${algorithm}=${createHmac(algorithm, secret).update(body).digest('hex')}`;
    expect(verifySignature(signature, body, secret)).toBe('valid');
    expect(verifySignature(signature.toUpperCase().replace(/^[A-Z0-9]+=/u, `${algorithm}=`), body, secret)).toBe('valid');
  });

  it('refuses an unsigned body, another secret, a changed body, an unknown method, junk', () => {
    const good = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
    expect(verifySignature(null, body, secret)).toBe('missing');
    expect(verifySignature(`sha256=${createHmac('sha256', 'not-ours').update(body).digest('hex')}`, body, secret)).toBe('invalid');
    expect(verifySignature(good, Buffer.concat([body, Buffer.from(' ')]), secret)).toBe('invalid');
    expect(verifySignature(`md5=${createHmac('md5', secret).update(body).digest('hex')}`, body, secret)).toBe('unsupported');
    expect(verifySignature('sha256=abc', body, secret)).toBe('invalid');
    expect(verifySignature('garbage', body, secret)).toBe('invalid');
  });
});

describe('WebSub leases', () => {
  it('renews at four fifths of the lease', () => {
    expect(renewalDue(1_000_000, 100)).toBe(1_080_000);
  });
});
