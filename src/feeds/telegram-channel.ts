// A public Telegram channel as a source: its web preview page (https://t.me/s/NAME) to the one
// Item model. The page is parsed as HTML with htmlparser2 (never with regular expressions); each
// post with text becomes an item whose guid and link are its canonical post link. A page that is
// not a channel's preview (the preview is disabled and t.me redirected to the channel's landing
// page, or Telegram changed the layout) is a FeedParseError that says so: recorded as the feed's
// failure, so the feed backs off like any broken feed.

import { DomUtils, parseDocument } from 'htmlparser2';
import { feedTitle, itemContext, MAX_ITEMS, parseDate, toItem } from './adapt.js';
import { decodeBody } from './encoding.js';
import { boundNesting, cap, MAX_TITLE_CHARS } from './html.js';
import type { Item, ParsedFeed } from './item.js';
import { FeedParseError } from './parse.js';

type Element = ReturnType<typeof DomUtils.findAll>[number];
type DomNode = Parameters<typeof DomUtils.textContent>[0];

/** Where channel previews are read from unless TELEGRAM_PREVIEW_ROOT says otherwise. */
export const DEFAULT_PREVIEW_ROOT = 'https://t.me';
/** Where post links point, whatever root the page was read from: the link users open and the item's identity. */
export const CANONICAL_ROOT = 'https://t.me';
/** Telegram's rule for a public username: 5–32 letters, digits and underscores, starting with a letter. */
export const CHANNEL_NAME = /^[A-Za-z][A-Za-z0-9_]{4,31}$/u;
/** The most characters of an item's title cut from its post's first line. */
export const MAX_POST_TITLE_CHARS = 160;

const DATA_POST = /^([A-Za-z][A-Za-z0-9_]{3,31})\/(\d{1,15})$/u;

/** The preview page URL of a channel under `root` (https://t.me, or a test server). */
export function previewUrl(root: string, channel: string): string {
  return `${root.replace(/\/+$/u, '')}/s/${channel}`;
}

/** The channel username of a t.me preview URL (https://t.me/s/NAME), or null when the URL is none. */
export function channelOfPreviewUrl(url: string): string | null {
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'https:' || !['t.me', 'telegram.me'].includes(parsed.hostname.toLowerCase())) return null;
    const name = /^\/s\/([^/]+)\/?$/u.exec(parsed.pathname)?.[1] ?? '';
    return CHANNEL_NAME.test(name) ? name : null;
  } catch {
    return null;
  }
}

function classes(element: Element): string[] {
  return (DomUtils.getAttributeValue(element, 'class') ?? '').split(/\s+/u);
}

const hasClass = (name: string) => (element: Element) => classes(element).includes(name);

function textOf(node: DomNode | null | undefined): string {
  return node ? DomUtils.textContent(node).replace(/\s+/gu, ' ').trim() : '';
}

/** Whether `element` sits inside a quoted reply (whose text is another post's, not this one's). */
function insideReply(element: Element, post: Element): boolean {
  for (let node = element.parent; node && node !== post; node = node.parent) {
    if ('attribs' in node && classes(node).includes('tgme_widget_message_reply')) return true;
  }
  return false;
}

/** The post's own text element: its message text, not the text of a post it replies to. */
function postTextElement(post: Element): Element | null {
  const candidates = DomUtils.findAll(hasClass('tgme_widget_message_text'), post.children).filter((el) => !insideReply(el, post));
  return candidates.find((el) => classes(el).includes('js-message_text')) ?? candidates[0] ?? null;
}

/** The first line of a post, cut at a sentence end or a word when it is long: a post has no title of its own. */
export function postTitle(text: string): string {
  const line = (text.split('\n').find((l) => l.trim() !== '') ?? '').trim();
  if (line.length <= MAX_POST_TITLE_CHARS) return line;
  const head = line.slice(0, MAX_POST_TITLE_CHARS);
  const sentence = /^.{20,}?[.!?؟।](?=\s)/u.exec(head)?.[0];
  if (sentence) return sentence;
  const space = head.lastIndexOf(' ', MAX_POST_TITLE_CHARS - 2);
  // No space to cut at (a long URL, CJK): cut anywhere but inside a surrogate pair (an emoji).
  let end = space > 40 ? space : MAX_POST_TITLE_CHARS - 1;
  const code = head.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end--;
  return `${head.slice(0, end).trimEnd()}…`;
}

export interface ChannelPageOptions {
  /** the channel username, as configured */
  channel: string;
  /** the URL the page was read from, after redirects */
  pageUrl: string;
  /** the URL items are recorded under (the configured preview URL) */
  feedUrl?: string;
  /** the operator's language hint */
  languageHint?: string | undefined;
}

/** The channel's posts on one preview page, and where the page's "load more" link leads. */
export interface ChannelPage extends ParsedFeed {
  /** the id of the oldest post on the page: `?before=` it lists older ones; null when the page has none */
  before: number | null;
}

/**
 * The posts of a channel's preview page as items, newest first. Throws FeedParseError when the
 * page was redirected away from the preview (the channel disabled it, or does not exist), or shows
 * no post Telegram's layout would have (the layout changed): an empty or garbled result is never
 * taken for "nothing new".
 */
export function parseChannelPage(html: string, options: ChannelPageOptions): ChannelPage {
  const { channel, pageUrl, languageHint } = options;
  const feedUrl = options.feedUrl ?? pageUrl;
  let path = '';
  try {
    path = new URL(pageUrl).pathname;
  } catch {
    // Not a URL (a test's page of its own): no redirect to tell.
  }
  if (!CHANNEL_NAME.test(channel)) throw new FeedParseError(`"${cap(channel, 40)}" is not a Telegram channel username`);
  if (path && !path.replace(/\/$/u, '').toLowerCase().endsWith(`/s/${channel.toLowerCase()}`)) {
    throw new FeedParseError(
      `Telegram channel @${channel}: its web preview is not available (the preview page redirected to ${cap(pageUrl, 200)}); the channel may have disabled the preview, been renamed or deleted`,
    );
  }
  // Real pages nest a dozen deep; a hostile one is cut where it nests deeper than any page does.
  const document = parseDocument(boundNesting(html), { decodeEntities: true });
  const posts = DomUtils.findAll((el) => hasClass('tgme_widget_message')(el) && DomUtils.hasAttrib(el, 'data-post'), document.children);
  if (posts.length === 0) {
    const landing = DomUtils.existsOne(hasClass('tgme_page'), document.children) && !DomUtils.existsOne(hasClass('tgme_channel_info'), document.children);
    throw new FeedParseError(
      landing
        ? `Telegram channel @${channel}: the page has no posts; the channel's web preview is disabled (or the channel is private)`
        : `Telegram channel @${channel}: no posts found on its preview page; the channel's web preview is disabled or the page layout changed`,
    );
  }

  const context = itemContext(feedUrl, null, languageHint);
  const items: Item[] = [];
  let readable = 0;
  let oldest: number | null = null;
  // A real page shows some 20 posts; a hostile one is read no further than a feed's most items (the newest).
  for (const post of posts.slice(-MAX_ITEMS)) {
    const match = DATA_POST.exec(DomUtils.getAttributeValue(post, 'data-post') ?? '');
    // A post of another channel on this channel's page would take another identity: not ours.
    if (!match || match[1]?.toLowerCase() !== channel.toLowerCase()) continue;
    const id = Number(match[2]);
    readable++;
    oldest = oldest === null ? id : Math.min(oldest, id);
    const textElement = postTextElement(post);
    // Media-only posts (a photo, a sticker, a poll without caption) have nothing to match.
    if (!textElement) continue;
    const dateElement = DomUtils.findOne(hasClass('tgme_widget_message_date'), post.children);
    const time = dateElement ? DomUtils.findOne((el) => el.name === 'time', dateElement.children) : null;
    const link = `${CANONICAL_ROOT}/${match[1]}/${id}`;
    const signature = textOf(DomUtils.findOne(hasClass('tgme_widget_message_from_author'), post.children));
    const item = toItem(
      {
        guid: link,
        link,
        titleHtml: null,
        // Only markup characters escaped: Cyrillic or Arabic as entities would be eight times as
        // long (against the HTML budgets), and an escaped direction override would slip past the cleaning.
        bodyHtml: DomUtils.getInnerHTML(textElement, { encodeEntities: 'utf8' }),
        published: parseDate(time ? DomUtils.getAttributeValue(time, 'datetime') : null),
        author: signature || null,
        language: null,
      },
      context,
    );
    if (!item.text) continue;
    item.title = cap(postTitle(item.text), MAX_TITLE_CHARS);
    items.push(item);
  }
  if (readable === 0) {
    throw new FeedParseError(`Telegram channel @${channel}: ${posts.length} posts on its preview page but none of them readable; the page layout changed`);
  }
  const ogTitle = DomUtils.findOne((el) => el.name === 'meta' && DomUtils.getAttributeValue(el, 'property') === 'og:title', document.children);
  const headerTitle = textOf(DomUtils.findOne(hasClass('tgme_channel_info_header_title'), document.children));
  // Text already, but it may spell markup ("&lt;b&gt;"): cleaned as any feed's title is.
  const title = feedTitle(headerTitle || (ogTitle ? DomUtils.getAttributeValue(ogTitle, 'content') : null));
  // The page lists posts oldest first; feeds list theirs newest first.
  items.reverse();
  return {
    format: 'telegram',
    title,
    link: `${CANONICAL_ROOT}/${channel}`,
    language: null,
    items,
    before: oldest,
  };
}

/** The most preview pages one poll reads: the newest and up to two older ones (some 60 posts). */
export const MAX_CHANNEL_PAGES = 3;

/** The page of a channel's posts older than post `before` (`?before=ID`, as the page's "load more" link). */
export function olderPageUrl(pageUrl: string, before: number): string {
  const url = new URL(pageUrl);
  url.search = `?before=${before}`;
  url.hash = '';
  return url.href;
}

/** The id of a post from its canonical link, or null. */
function postId(item: Item): number | null {
  const id = /\/(\d+)$/u.exec(item.link ?? '')?.[1];
  return id ? Number(id) : null;
}

export interface OlderPostsOptions {
  channel: string;
  /** the URL the newest page was read from */
  pageUrl: string;
  /** the URL items are recorded under */
  feedUrl: string;
  languageHint?: string | undefined;
  /** whether any of these items was seen in an earlier poll */
  seen: (items: Item[]) => Promise<boolean>;
  /** fetches an older page (through the caller's limits and address checks) */
  fetchPage: (url: string) => Promise<{ body: Uint8Array; contentType: string | null; url: string }>;
  /** told when an older page could not be read: the posts read so far are kept */
  onError?: (url: string, error: Error) => void;
  maxPages?: number;
}

/**
 * The newest page's items and, when none of them was seen before (the channel posted more since
 * the last poll than one page shows), those of older pages until a page holds a post already
 * seen, within MAX_CHANNEL_PAGES: no gap in a busy hour, and a bounded cost after a long outage.
 */
export async function withOlderPosts(newest: Item[], options: OlderPostsOptions): Promise<Item[]> {
  const items = [...newest];
  let page = newest;
  for (let pages = 1; pages < (options.maxPages ?? MAX_CHANNEL_PAGES); pages++) {
    const ids = page.map(postId).filter((id): id is number => id !== null);
    if (ids.length === 0 || (await options.seen(page))) break;
    const before = Math.min(...ids);
    if (before <= 1) break;
    const url = olderPageUrl(options.pageUrl, before);
    try {
      const fetched = await options.fetchPage(url);
      const older = parseChannelPage(decodeBody(fetched.body, fetched.contentType).text, {
        channel: options.channel,
        pageUrl: fetched.url,
        feedUrl: options.feedUrl,
        languageHint: options.languageHint,
      });
      // Only posts older than those read: a page that does not go back ends the walk.
      page = older.items.filter((item) => (postId(item) ?? Infinity) < before);
    } catch (error) {
      options.onError?.(url, error as Error);
      break;
    }
    items.push(...page);
  }
  return items;
}
