// The fallback for XML feeds rss-parser refuses: RSS without <channel>, RSS 1.0 with prefixed
// elements, mismatched tags, a body cut off mid-document. The forgiving tree (xml-tree.ts) is read
// by local name and namespace the way rss-parser reads a well-formed feed, and mapped through the
// same adapt code (toItem and its bounds). Only items that end before the document does are given:
// one cut off in the middle might lack its link or half its text, and the next poll has it whole.
// Also here: the per-element xml:base of links, which both paths use.

import { feedTitle, itemContext, languageTag, MAX_ITEMS, parseDate, parseTtl, safeLink, toItem } from './adapt.js';
import type { FeedFormat, ParsedFeed } from './item.js';
import { childElements, innerHtml, MAX_XML_DEPTH, MAX_XML_ELEMENTS, NS, readXmlTree, textContent, type XmlElement } from './xml-tree.js';

// RSS 0.9x/2.0 elements have no namespace, RSS 1.0 and 0.90 their own; Atom 1.0 and 0.3 theirs
// (or none, in old feeds that forgot it).
const RSS_NS = new Set<string>(['', NS.rss10, NS.rss090]);
const ATOM_NS = new Set<string>(['', NS.atom10, NS.atom03]);

function vocabulary(format: FeedFormat): Set<string> {
  return format === 'atom' ? ATOM_NS : RSS_NS;
}

/** The first child element with this local name in one of these namespaces. */
function child(element: XmlElement, local: string, namespaces: Set<string>): XmlElement | undefined {
  return childElements(element, local).find((node) => namespaces.has(node.ns));
}

const DC = new Set<string>([NS.dc]);
const CONTENT = new Set<string>([NS.content]);

/**
 * The base for links inside an element: the xml:base of it and its ancestors, each resolved
 * against the one above it, the outermost against the feed URL; null when none declares one.
 * One resolver per document: each element's base is computed once.
 */
export function xmlBaseResolver(feedUrl: string): (element: XmlElement) => string | null {
  const bases = new Map<XmlElement, string | null>();
  const baseOf = (element: XmlElement | null): string | null => {
    if (!element) return null;
    const known = bases.get(element);
    if (known !== undefined) return known;
    // Recursion is bounded by the tree's depth (MAX_XML_DEPTH).
    const above = baseOf(element.parent);
    const own = element.attrs['xml:base'];
    const base = own === undefined ? above : (safeLink(own, above ?? feedUrl) ?? above);
    bases.set(element, base);
    return base;
  };
  return baseOf;
}

/** The link element of a channel, feed, item or entry and its raw URL, chosen as rss-parser chooses. */
export function linkOf(element: XmlElement, format: FeedFormat): { element: XmlElement; href: string } | null {
  const links = childElements(element, 'link').filter((link) => vocabulary(format).has(link.ns));
  if (format !== 'atom') {
    const link = links.find((candidate) => textContent(candidate).trim() !== '');
    return link ? { element: link, href: textContent(link) } : null;
  }
  // Atom: rel="alternate", else the first link.
  const withHref = links.filter((link) => link.attrs['href'] !== undefined);
  const link = withHref.find((candidate) => candidate.attrs['rel'] === 'alternate') ?? withHref[0];
  return link ? { element: link, href: link.attrs['href'] ?? '' } : null;
}

/**
 * Items (RSS) or entries (Atom) in document order. Items do not nest: one inside another is
 * there because an end tag is missing, and is an item of its own. With `closedOnly`, only items
 * that ended before the document did.
 */
export function itemElements(root: XmlElement, format: FeedFormat, closedOnly: boolean): XmlElement[] {
  const local = format === 'atom' ? 'entry' : 'item';
  const namespaces = vocabulary(format);
  const found: XmlElement[] = [];
  // Depth-first and iterative: the tree is at most MAX_XML_DEPTH deep, but may be very wide.
  const stack = childElements(root).reverse();
  for (let element = stack.pop(); element; element = stack.pop()) {
    if (element.local === local && namespaces.has(element.ns) && (element.closed || !closedOnly)) found.push(element);
    const children = childElements(element);
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i] as XmlElement);
  }
  return found;
}

/** The element whose children describe the feed: <channel>, else the root (RSS without a channel, Atom). */
export function channelOf(root: XmlElement, format: FeedFormat): XmlElement {
  return format === 'atom' ? root : (child(root, 'channel', RSS_NS) ?? root);
}

function html(element: XmlElement | undefined): string | null {
  return element ? innerHtml(element) : null;
}

function text(element: XmlElement | undefined): string | null {
  return element ? textContent(element) : null;
}

/**
 * Reads an XML feed from its forgiving tree; throws when nothing can be read from it (no complete
 * item, and not even its channel was closed: a body cut off before its first item ends).
 * `text` is what rss-parser was given (Atom after prepareAtom).
 */
export function parseTolerant(text: string, feedUrl: string, format: FeedFormat, languageHint?: string): ParsedFeed {
  const tree = readXmlTree(text);
  const root = tree.root;
  if (!root) throw new Error('no root element');
  const channel = channelOf(root, format);
  const items = itemElements(root, format, true);
  if (items.length === 0 && !channel.closed && !root.closed) {
    throw new Error(
      tree.tooLarge
        ? `it nests deeper than ${MAX_XML_DEPTH} elements or has more than ${MAX_XML_ELEMENTS} before any item is complete`
        : 'the document ends before any item is complete',
    );
  }
  return mapTree(root, channel, items, feedUrl, format, languageHint);
}

function mapTree(root: XmlElement, channel: XmlElement, items: XmlElement[], feedUrl: string, format: FeedFormat, languageHint?: string): ParsedFeed {
  const vocab = vocabulary(format);
  const xmlBase = xmlBaseResolver(feedUrl);
  const feedLink = linkOf(channel, format);
  const link = feedLink ? safeLink(feedLink.href, xmlBase(feedLink.element) ?? feedUrl) : null;
  const fallbackBase = link ?? feedUrl;
  const feedLanguage = languageTag(text(child(channel, 'language', vocab)) ?? text(child(channel, 'language', DC)));
  const context = itemContext(feedUrl, feedLanguage, languageHint);
  const mapped = items.slice(0, MAX_ITEMS).map((item) => {
    const itemLink = linkOf(item, format);
    const href = itemLink ? safeLink(itemLink.href, xmlBase(itemLink.element) ?? fallbackBase) : null;
    if (format === 'atom') {
      const content = childElements(item, 'content').find((node) => vocab.has(node.ns) && node.attrs['src'] === undefined);
      return toItem(
        {
          guid: text(child(item, 'id', vocab)),
          link: href,
          titleHtml: html(child(item, 'title', vocab)),
          bodyHtml: html(content) ?? html(child(item, 'summary', vocab)),
          published: parseDate(text(child(item, 'published', vocab))) ?? parseDate(text(child(item, 'updated', vocab))),
          author: (() => {
            const author = child(item, 'author', vocab);
            return author ? text(child(author, 'name', vocab)) : null;
          })(),
          language: languageTag(text(child(item, 'language', DC))),
        },
        context,
      );
    }
    return toItem(
      {
        guid: text(child(item, 'guid', vocab)),
        link: href,
        titleHtml: html(child(item, 'title', vocab)) ?? html(child(item, 'title', DC)),
        bodyHtml: html(child(item, 'encoded', CONTENT)) ?? html(child(item, 'description', vocab)),
        published: parseDate(text(child(item, 'pubdate', vocab))) ?? parseDate(text(child(item, 'date', DC))),
        author: text(child(item, 'creator', DC)) ?? text(child(item, 'author', vocab)),
        language: languageTag(text(child(item, 'language', DC))),
      },
      context,
    );
  });
  const title = html(child(channel, 'title', vocab)) ?? html(child(channel, 'title', DC));
  const ttlMinutes = format === 'rss' ? parseTtl(text(child(channel, 'ttl', vocab))) : null;
  return { format, title: feedTitle(title), link, language: feedLanguage, items: mapped, ttlMinutes };
}
