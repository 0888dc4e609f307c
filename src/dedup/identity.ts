// Identities of an item: its key within its feed, and the keys that tie reports of one story
// together across feeds (canonical URL, normalised title).

import { createHash } from 'node:crypto';
import type { Item } from '../feeds/item.js';
import { normalizeTokens } from '../text/normalize.js';

const TRACKING_PARAMS = /^(utm_.*|fbclid|gclid|yclid|dclid|msclkid|mc_cid|mc_eid|igshid|ref|ref_src|_ga|share|from|amp|outputtype)$/iu;
// The AMP copy of a page: /amp/ as a path segment, a trailing /amp, or .amp before the extension.
const AMP_SEGMENT = /\/amp(?=\/|$)/giu;
const AMP_SUFFIX = /\.amp(?=\.[a-z0-9]+$|$)/iu;

/**
 * The URL with what does not change the page removed: fragment, tracking parameters, AMP
 * variants, default port, trailing slash; host lower-cased and remaining parameters sorted.
 */
export function canonicalUrl(link: string): string {
  let url: URL;
  try {
    url = new URL(link);
  } catch {
    return link;
  }
  url.hash = '';
  const kept = [...url.searchParams].filter(([name]) => !TRACKING_PARAMS.test(name));
  kept.sort(([a, av], [b, bv]) => (a === b ? av.localeCompare(bv) : a.localeCompare(b)));
  url.search = new URLSearchParams(kept).toString();
  const unamped = url.pathname.replace(AMP_SEGMENT, '').replace(AMP_SUFFIX, '');
  const path = unamped.length > 1 ? unamped.replace(/\/+$/u, '') : '';
  // URL already lower-cases scheme and host and drops default ports.
  return `${url.protocol}//${url.host}${path}${url.search}`;
}

/** The item's key within its feed: guid, else canonical link, else a hash (see Item.id). */
export function itemKey(item: Item): string {
  if (item.guid) return `g:${item.guid}`;
  if (item.link) return `l:${canonicalUrl(item.link)}`;
  return `h:${item.id}`;
}

// Titles shorter than this ("Новости", "Breaking") would tie unrelated stories together.
const MIN_TITLE_TOKENS = 4;

/** Keys under which reports of the same story meet, whichever feed they come from. */
export function storyKeys(item: Item): string[] {
  const keys: string[] = [];
  if (item.link) keys.push(`u:${canonicalUrl(item.link)}`);
  const tokens = normalizeTokens(item.title);
  if (tokens.length >= MIN_TITLE_TOKENS) {
    keys.push(`t:${createHash('sha1').update(tokens.join(' ')).digest('base64url')}`);
  }
  return keys;
}
