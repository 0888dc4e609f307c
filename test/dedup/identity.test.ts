import { describe, expect, it } from 'vitest';
import { canonicalUrl, itemKey, storyKeys } from '../../src/dedup/identity.js';
import type { Item } from '../../src/feeds/item.js';

function item(overrides: Partial<Item>): Item {
  return { id: 'x', feedUrl: 'https://f.test/rss', guid: null, link: null, title: '', text: '', published: null, author: null, language: null, ...overrides };
}

describe('canonicalUrl', () => {
  it('drops tracking parameters, fragments, default ports and trailing slashes', () => {
    expect(canonicalUrl('HTTPS://News.Example.TEST:443/world/almaty/?utm_source=tg&b=2&fbclid=x&a=1#comments')).toBe(
      'https://news.example.test/world/almaty?a=1&b=2',
    );
    expect(canonicalUrl('http://example.test:80/')).toBe('http://example.test');
    expect(canonicalUrl('https://example.test/a?gclid=1&yclid=2&ref=tw')).toBe('https://example.test/a');
  });

  it('folds the AMP copy of a page into the page', () => {
    const page = 'https://news.example.test/world/almaty-protest';
    for (const amp of [`${page}/amp`, `${page}/amp/`, `${page}?amp`, `${page}?amp=1`, 'https://news.example.test/amp/world/almaty-protest', `${page}.amp`]) {
      expect(canonicalUrl(amp), amp).toBe(page);
    }
    expect(canonicalUrl('https://news.example.test/world/story.amp.html')).toBe('https://news.example.test/world/story.html');
    // A word that merely starts with "amp" is left alone.
    expect(canonicalUrl('https://news.example.test/ampere/news')).toBe('https://news.example.test/ampere/news');
  });

  it('keeps parameters that choose the page', () => {
    expect(canonicalUrl('https://example.test/news.php?id=42')).toBe('https://example.test/news.php?id=42');
  });
});

describe('identities', () => {
  it('keys an item by guid, else canonical link, else content hash', () => {
    expect(itemKey(item({ guid: 'g1', link: 'https://a.test/1' }))).toBe('g:g1');
    expect(itemKey(item({ link: 'https://a.test/1?utm_medium=rss' }))).toBe('l:https://a.test/1');
    expect(itemKey(item({ id: 'sha1:abc' }))).toBe('h:sha1:abc');
  });

  it('ties reports of one story by canonical URL and by normalised title', () => {
    const a = storyKeys(item({ link: 'https://a.test/story?utm_source=x', title: 'CSTO troops take control of Almaty airport' }));
    const b = storyKeys(item({ link: 'https://b.test/other', title: 'CSTO troops take control of ALMATY airport!' }));
    const c = storyKeys(item({ link: 'https://a.test/story#top', title: 'Something else entirely here' }));
    expect(a.filter((k) => b.includes(k))).toHaveLength(1);
    expect(a.filter((k) => c.includes(k))).toHaveLength(1);
  });

  it('does not tie stories by short generic titles', () => {
    expect(storyKeys(item({ title: 'Новости дня' }))).toEqual([]);
  });
});
