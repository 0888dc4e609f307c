// A forgiving XML tree for feeds rss-parser will not read (mismatched tags, a cut-off body, an
// unusual shape), built with htmlparser2 in xmlMode: it never throws, closes what is left open, and
// tells which elements ended before the document did, so an item cut off by a dropped connection
// can be told from a complete one. Elements carry their namespace (declared, or guessed from a conventional prefix)
// so that feed elements are recognised by local name without mistaking media:title for a title.

import { Parser } from 'htmlparser2';

export interface XmlText {
  kind: 'text';
  /** character data, entities decoded */
  text: string;
  /** from a CDATA section: the text as written */
  cdata: boolean;
}

export interface XmlElement {
  kind: 'element';
  /** the name as written, prefix and all */
  name: string;
  /** the local name, lower-cased (feeds are not consistent about case) */
  local: string;
  /** the namespace URI; '' for none */
  ns: string;
  attrs: Record<string, string>;
  children: XmlNode[];
  parent: XmlElement | null;
  /**
   * ended by an end tag, its own or an enclosing element's (a missing or mismatched end tag is
   * implied by the next one up), or self-closing; false when the document ended inside it
   */
  closed: boolean;
  /** namespace prefixes this element declares */
  prefixes: Map<string, string> | null;
}

export type XmlNode = XmlText | XmlElement;

export const NS = {
  rss090: 'http://my.netscape.com/rdf/simple/0.9/',
  rss10: 'http://purl.org/rss/1.0/',
  rdf: 'http://www.w3.org/1999/02/22-rdf-syntax-ns#',
  atom10: 'http://www.w3.org/2005/Atom',
  atom03: 'http://purl.org/atom/ns#',
  dc: 'http://purl.org/dc/elements/1.1/',
  content: 'http://purl.org/rss/1.0/modules/content/',
} as const;

// Prefixes feeds use without declaring them; anything else undeclared gets a namespace of its own.
const CONVENTIONAL: Record<string, string> = { rss: NS.rss10, rdf: NS.rdf, atom: NS.atom10, dc: NS.dc, content: NS.content };

/** Past this depth the document is read no further: feeds nest a dozen deep, and htmlparser2's own work per tag grows with the depth. */
export const MAX_XML_DEPTH = 100;
/**
 * Past this many elements the document is read no further: 5,000 items of a few dozen elements
 * each fit, and 10 MB of "<a/>" (2.6 million elements) does not take a gigabyte of memory.
 */
export const MAX_XML_ELEMENTS = 300_000;

function lookupPrefix(element: XmlElement | null, prefix: string): string | undefined {
  for (let at = element; at; at = at.parent) {
    const ns = at.prefixes?.get(prefix);
    if (ns !== undefined) return ns;
  }
  return undefined;
}

function declaredPrefixes(attrs: Record<string, string>): Map<string, string> | null {
  let prefixes: Map<string, string> | null = null;
  for (const [name, value] of Object.entries(attrs)) {
    if (name === 'xmlns' || name.startsWith('xmlns:')) (prefixes ??= new Map()).set(name === 'xmlns' ? '' : name.slice(6), value.trim());
  }
  return prefixes;
}

export interface XmlTree {
  /** the root element, or null when the document has none */
  root: XmlElement | null;
  /** the document nests deeper than MAX_XML_DEPTH, or has more than MAX_XML_ELEMENTS, and was read only up to there */
  tooLarge: boolean;
}

/** The document's tree; elements left open are in it, marked as not closed. */
export function readXmlTree(text: string): XmlTree {
  const document: XmlElement = { kind: 'element', name: '', local: '', ns: '', attrs: {}, children: [], parent: null, closed: true, prefixes: null };
  let current = document;
  let depth = 0;
  let inCdata = false;
  let tooLarge = false;
  let elements = 0;
  let atEnd = false;
  const parser = new Parser(
    {
      onopentag(name, attrs) {
        if (++depth > MAX_XML_DEPTH || ++elements > MAX_XML_ELEMENTS) {
          tooLarge = true;
          parser.pause(); // the rest is not read; what is open stays unclosed
          return;
        }
        const colon = name.indexOf(':');
        const prefix = colon < 0 ? '' : name.slice(0, colon);
        const element: XmlElement = {
          kind: 'element',
          name,
          local: name.slice(colon + 1).toLowerCase(),
          ns: '',
          attrs,
          children: [],
          parent: current,
          closed: false,
          prefixes: declaredPrefixes(attrs),
        };
        element.ns = lookupPrefix(element, prefix) ?? CONVENTIONAL[prefix.toLowerCase()] ?? (prefix ? `urn:undeclared:${prefix}` : '');
        current.children.push(element);
        current = element;
      },
      onclosetag(_name, isImplied) {
        if (depth-- > MAX_XML_DEPTH || tooLarge) return;
        // Implied at the end of the document: cut off there. (Self-closing ones report implied too.)
        current.closed = !atEnd || !isImplied;
        current = current.parent ?? document;
      },
      ontext(data) {
        if (tooLarge) return;
        const last = current.children.at(-1);
        if (last?.kind === 'text' && last.cdata === inCdata) last.text += data;
        else current.children.push({ kind: 'text', text: data, cdata: inCdata });
      },
      oncdatastart() {
        inCdata = true;
      },
      oncdataend() {
        inCdata = false;
      },
    },
    { xmlMode: true, decodeEntities: true, recognizeSelfClosing: true },
  );
  parser.write(text);
  // What end() still closes, the document ended inside.
  atEnd = true;
  parser.end();
  return { root: document.children.find((node): node is XmlElement => node.kind === 'element') ?? null, tooLarge };
}

/** Child elements of `element`, optionally only those with this local name. */
export function childElements(element: XmlElement, local?: string): XmlElement[] {
  return element.children.filter((node): node is XmlElement => node.kind === 'element' && (local === undefined || node.local === local));
}

/** All the character data inside `element`, as plain text (markup dropped). */
export function textContent(element: XmlElement): string {
  let text = '';
  const stack: XmlNode[] = [...element.children].reverse();
  for (let node = stack.pop(); node; node = stack.pop()) {
    if (node.kind === 'text') text += node.text;
    else for (let i = node.children.length - 1; i >= 0; i--) stack.push(node.children[i] as XmlNode);
  }
  return text;
}

function escapeXml(text: string): string {
  return text.replace(/&/gu, '&amp;').replace(/</gu, '&lt;').replace(/>/gu, '&gt;');
}

function serialize(element: XmlElement): string {
  const attrs = Object.entries(element.attrs)
    .map(([name, value]) => ` ${name}="${escapeXml(value).replace(/"/gu, '&quot;')}"`)
    .join('');
  const inner = element.children.map((node) => (node.kind === 'text' ? (node.cdata ? node.text : escapeXml(node.text)) : serialize(node))).join('');
  return `<${element.name}${attrs}>${inner}</${element.name}>`;
}

/**
 * The HTML an element holds, as rss-parser gives it: its character data is the HTML (escaped or in
 * CDATA), and child elements (HTML written unescaped into the feed) are written back as markup.
 */
export function innerHtml(element: XmlElement): string {
  return element.children.map((node) => (node.kind === 'text' ? node.text : serialize(node))).join('');
}
