// Answering `explain --jsonl` lines: each `{"id","title","text"}` gives `{"id","match","hits"}`,
// hits only for a match. Shared by the command and its helper thread (explain-worker.ts).

import { Matcher, type Hit, type Watchlist } from './matcher.js';

// The words as written (NFKC only), split as `surfaceTokens` splits them: runs of \p{L}\p{M}, or
// of \p{N}. Normalisation never moves a word boundary, so the hits' word indexes count these.
const OTHER = 1;
const LETTER = 2;
const DIGIT = 3;
/** What each code unit of the BMP is to that split, found the first time it is met (0: not yet). */
const SURFACE_CLASS = new Uint8Array(0x10000);
const LETTER_OR_MARK = /^[\p{L}\p{M}]$/u;
const NUMBER = /^\p{N}$/u;

function surfaceClass(char: string): number {
  return LETTER_OR_MARK.test(char) ? LETTER : NUMBER.test(char) ? DIGIT : OTHER;
}

/** The first `count` words of `input` as written: `surfaceTokens(input).slice(0, count)`, without splitting the rest. */
export function firstWords(input: string, count: number): string[] {
  const words: string[] = [];
  if (count <= 0) return words;
  const text = input.normalize('NFKC');
  let kind = OTHER;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    let cls: number;
    let width = 1;
    if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const point = text.codePointAt(i) ?? code;
      width = point > 0xffff ? 2 : 1;
      cls = surfaceClass(String.fromCodePoint(point));
    } else {
      cls = SURFACE_CLASS[code] ?? 0;
      if (cls === 0) cls = SURFACE_CLASS[code] = surfaceClass(String.fromCharCode(code));
    }
    if (cls !== kind) {
      if (kind !== OTHER && words.push(text.slice(start, i)) >= count) return words;
      kind = cls;
      start = i;
    }
    i += width - 1;
  }
  if (kind !== OTHER) words.push(text.slice(start));
  return words;
}

/** A hit as `explain` reports it: with the words as they are written in the input. */
export interface DescribedHit {
  term: string;
  field: Hit['field'];
  index: number;
  words: string;
}

export function describeHits(hits: Hit[], title: string, text: string): DescribedHit[] {
  // Only as many words of each field as the hits reach are split out.
  let titleEnd = 0;
  let textEnd = 0;
  for (const hit of hits) {
    if (hit.field === 'title') titleEnd = Math.max(titleEnd, hit.index + hit.length);
    else textEnd = Math.max(textEnd, hit.index + hit.length);
  }
  const titleWords = firstWords(title, titleEnd);
  const textWords = firstWords(text, textEnd);
  return hits.map(({ term, field, index, length }) => ({
    term,
    field,
    index,
    words: (field === 'title' ? titleWords : textWords).slice(index, index + length).join(' '),
  }));
}

/** The answers to a run of lines; `error` names the first bad line, and the answers stop before it. */
export interface AnsweredLines {
  output: string;
  matched: number;
  error: string | null;
}

/** Answers lines through one compiled Matcher (the worker's). */
export class LineAnswerer {
  private readonly matcher: Matcher;

  constructor(watchlist: Watchlist) {
    this.matcher = new Matcher([watchlist]);
  }

  /** Answers `lines`, the first of which is line `firstLine` of the input (blank lines count). */
  answer(lines: readonly string[], firstLine: number): AnsweredLines {
    let output = '';
    let matched = 0;
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i] ?? '';
      // A line that starts a JSON object is not blank; only others need trimming to tell.
      if (line.charCodeAt(0) !== 0x7b && line.trim() === '') continue;
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        return { output, matched, error: `line ${firstLine + i}: not JSON` };
      }
      // As the schema {id?: unknown, title: string = '', text: string = ''} reads it.
      const { id, title = '', text = '' } = (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? parsed : { title: null }) as {
        id?: unknown;
        title?: unknown;
        text?: unknown;
      };
      if (typeof title !== 'string' || typeof text !== 'string') return { output, matched, error: `line ${firstLine + i}: expected {"id","title","text"}` };
      const match = this.matcher.match(title, text)[0];
      if (match === undefined) {
        output += `{"id":${JSON.stringify(id ?? null)},"match":false,"hits":[]}\n`;
        continue;
      }
      matched++;
      output += `${JSON.stringify({ id: id ?? null, match: true, hits: describeHits(match.hits, title, text) })}\n`;
    }
    return { output, matched, error: null };
  }
}
