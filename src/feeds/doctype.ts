// Internal DTD entities, before any parser sees the document. Some feeds declare a few entities
// for HTML names (<!ENTITY nbsp "&#160;">, a site name) and use them in titles; neither parser
// expands declared entities, so such a feed would not parse. Hostile documents declare them too:
// external entities (XXE: file:///etc/passwd, cloud metadata), parameter entities (out-of-band
// XXE), entities built from other entities (billion laughs) and long values referenced many times
// (quadratic blowup). So a DOCTYPE is accepted only when each of its entities is a short literal
// value; each reference is then replaced by that value once, as text (never as markup), within a
// budget on how much the document may grow, and the DOCTYPE is dropped. Anything else is refused.

export interface Refusal {
  refused: string;
}
export type DoctypeResult = { text: string } | Refusal;

/** The longest entity value accepted: site names and HTML entities are a few characters. */
export const MAX_ENTITY_VALUE = 1_000;
/** The most characters expansion may add: a small document 64 K, a larger one its own length, never more than 1 M. */
const MIN_GROWTH = 65_536;
const MAX_GROWTH = 1_000_000;

const PREDEFINED = new Set(['lt', 'gt', 'amp', 'quot', 'apos']);
const NAME = /^[A-Za-z_:][\w.:-]*/u;
// Comments, processing instructions and the root element's start: what may come before a DOCTYPE.
const PROLOG = /^\uFEFF?\s*(?:(?:<\?[\s\S]*?\?>|<!--[\s\S]*?-->)\s*)*/u;

const refuse = (reason: string): Refusal => ({
  refused: `refused: the document declares XML entities (${reason}); only short literal values are accepted`,
});

/** Index just past the quoted string starting at `at` (text[at] is the quote), or -1 when unclosed. */
function skipQuoted(text: string, at: number): number {
  const end = text.indexOf(text[at] ?? '"', at + 1);
  return end < 0 ? -1 : end + 1;
}

/** An entity value with its character references decoded; null when it refers to entities. */
function literalValue(raw: string): string | null {
  if (/%|&(?!#(?:\d+|x[0-9a-f]+);)/iu.test(raw)) return null;
  return raw.replace(/&#(x[0-9a-f]+|\d+);/giu, (_m, code: string) => {
    const point = code[0] === 'x' || code[0] === 'X' ? parseInt(code.slice(1), 16) : parseInt(code, 10);
    return point > 0 && point <= 0x10ffff ? String.fromCodePoint(point) : '';
  });
}

/** The value as XML character data: whatever it holds stays text. */
function asText(value: string): string {
  return value.replace(/&/gu, '&amp;').replace(/</gu, '&lt;').replace(/>/gu, '&gt;').replace(/"/gu, '&quot;').replace(/'/gu, '&apos;');
}

interface Subset {
  entities: Map<string, string>;
  end: number;
}

/** Reads the internal subset from `at` (just past "["): its entities, and where the DOCTYPE ends. */
function readSubset(text: string, at: number): Subset | Refusal {
  const entities = new Map<string, string>();
  let i = at;
  for (;;) {
    while (/\s/u.test(text[i] ?? '')) i++;
    if (i >= text.length) return refuse('an unterminated DOCTYPE');
    if (text[i] === ']') {
      const close = /^\]\s*>/u.exec(text.slice(i, i + 64));
      return close ? { entities, end: i + close[0].length } : refuse('an unreadable DOCTYPE');
    }
    if (text[i] === '%') return refuse('a parameter entity reference');
    if (text.startsWith('<!--', i)) {
      const end = text.indexOf('-->', i + 4);
      if (end < 0) return refuse('an unterminated DOCTYPE');
      i = end + 3;
      continue;
    }
    if (text.startsWith('<?', i)) {
      const end = text.indexOf('?>', i + 2);
      if (end < 0) return refuse('an unterminated DOCTYPE');
      i = end + 2;
      continue;
    }
    if (text.startsWith('<!ENTITY', i)) {
      let j = i + '<!ENTITY'.length;
      while (/\s/u.test(text[j] ?? '')) j++;
      if (text[j] === '%') return refuse('a parameter entity');
      const name = NAME.exec(text.slice(j, j + 256))?.[0];
      if (!name) return refuse('an unreadable entity declaration');
      j += name.length;
      while (/\s/u.test(text[j] ?? '')) j++;
      if (text[j] !== '"' && text[j] !== "'") return refuse(`external entity "${name}"`);
      const valueEnd = skipQuoted(text, j);
      if (valueEnd < 0) return refuse('an unterminated DOCTYPE');
      const raw = text.slice(j + 1, valueEnd - 1);
      const value = literalValue(raw);
      if (value === null) return refuse(`entity "${name}" refers to other entities`);
      if (value.length > MAX_ENTITY_VALUE) return refuse(`entity "${name}" is longer than ${MAX_ENTITY_VALUE} characters`);
      const close = /^\s*>/u.exec(text.slice(valueEnd, valueEnd + 64));
      if (!close) return refuse(`entity "${name}" is not a plain value`);
      // The first declaration binds (XML 1.0 §4.2); the predefined five are never redefined.
      if (!PREDEFINED.has(name) && !entities.has(name)) entities.set(name, value);
      i = valueEnd + close[0].length;
      continue;
    }
    if (text.startsWith('<!', i)) {
      // ELEMENT, ATTLIST, NOTATION: skipped, quoted strings and all.
      let j = i + 2;
      while (j < text.length && text[j] !== '>') {
        if (text[j] === '"' || text[j] === "'") {
          j = skipQuoted(text, j);
          if (j < 0) return refuse('an unterminated DOCTYPE');
        } else j++;
      }
      if (j >= text.length) return refuse('an unterminated DOCTYPE');
      i = j + 1;
      continue;
    }
    return refuse('an unreadable DOCTYPE');
  }
}

/**
 * The document cut into markup and CDATA sections or comments (odd indexes), in one linear scan:
 * a regex with a lazy match to "]]>" would rescan the rest for every unclosed "<![CDATA[".
 */
function splitSections(body: string): string[] {
  const parts: string[] = [];
  const opening = /<!\[CDATA\[|<!--/gu;
  let at = 0;
  for (let open = opening.exec(body); open; open = opening.exec(body)) {
    const close = open[0] === '<!--' ? '-->' : ']]>';
    const end = body.indexOf(close, open.index + open[0].length);
    parts.push(body.slice(at, open.index), body.slice(open.index, end < 0 ? body.length : end + close.length));
    if (end < 0) return parts;
    at = end + close.length;
    opening.lastIndex = at;
  }
  parts.push(body.slice(at));
  return parts;
}

/**
 * Replaces each reference to a declared entity by its value, outside CDATA sections and comments;
 * null past the budget. One scan that stops at the budget: a document of millions of references is
 * refused after the first few thousand, not after a callback for each.
 */
function expand(parts: string[], entities: Map<string, string>, budget: number): string | null {
  let grown = 0;
  const reference = /&([A-Za-z_:][\w.:-]*);/gu;
  for (let p = 0; p < parts.length; p += 2) {
    const part = parts[p] ?? '';
    const pieces: string[] = [];
    let at = 0;
    reference.lastIndex = 0;
    for (let found = reference.exec(part); found; found = reference.exec(part)) {
      const value = entities.get(found[1] ?? '');
      if (value === undefined) continue;
      const text = asText(value);
      grown += text.length - found[0].length;
      if (grown > budget) return null;
      pieces.push(part.slice(at, found.index), text);
      at = found.index + found[0].length;
    }
    if (at > 0) {
      pieces.push(part.slice(at));
      parts[p] = pieces.join('');
    }
  }
  return parts.join('');
}

/**
 * The document with its internal entities expanded and its DOCTYPE's internal subset dropped, or
 * the reason it is refused. A document without `<!ENTITY` is returned as it is.
 */
export function expandInternalEntities(text: string): DoctypeResult {
  if (!/<!ENTITY/iu.test(text)) return { text };
  const start = PROLOG.exec(text)?.[0].length ?? 0;
  if (!text.startsWith('<!DOCTYPE', start)) return refuse('<!ENTITY outside a DOCTYPE');
  // The DOCTYPE's name and external id, up to its internal subset.
  let i = start + '<!DOCTYPE'.length;
  while (i < text.length && text[i] !== '[' && text[i] !== '>') {
    if (text[i] === '"' || text[i] === "'") {
      i = skipQuoted(text, i);
      if (i < 0) return refuse('an unterminated DOCTYPE');
    } else i++;
  }
  if (text[i] !== '[') return refuse('<!ENTITY outside a DOCTYPE');
  const subset = readSubset(text, i + 1);
  if ('refused' in subset) return subset;
  const parts = splitSections(text.slice(subset.end));
  // Nothing may declare entities past the DOCTYPE (except as text in CDATA or a comment).
  if (parts.some((part, p) => p % 2 === 0 && /<!ENTITY/iu.test(part))) return refuse('<!ENTITY outside a DOCTYPE');
  const budget = Math.min(MAX_GROWTH, Math.max(MIN_GROWTH, text.length));
  const expanded = expand(parts, subset.entities, budget);
  if (expanded === null) return refuse(`expanding them would add more than ${budget} characters`);
  return { text: `${text.slice(0, start)}${expanded}` };
}
