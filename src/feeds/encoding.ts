// Bytes to text. Order of evidence: BOM, then the HTTP charset, then the XML prolog or HTML meta,
// then UTF-8. Declarations are often wrong, so they are checked against the bytes: valid UTF-8
// declared as a legacy charset is read as UTF-8, and invalid UTF-8 is decoded with the legacy
// charset whose letters look most like real text. Single-byte charsets go through iconv-lite,
// because Node 20's TextDecoder maps windows-1252 0x80–0x9F wrongly (nodejs/node#60888).

import { TextDecoder } from 'node:util';
import iconv from 'iconv-lite';

export interface DecodedBody {
  text: string;
  charset: string;
}

// UTF-32LE's BOM begins with UTF-16LE's: it is tried first.
const BOMS: Array<[number[], string]> = [
  [[0xef, 0xbb, 0xbf], 'utf-8'],
  [[0x00, 0x00, 0xfe, 0xff], 'utf-32be'],
  [[0xff, 0xfe, 0x00, 0x00], 'utf-32le'],
  [[0xff, 0xfe], 'utf-16le'],
  [[0xfe, 0xff], 'utf-16be'],
];

function charsetFromContentType(contentType: string | null): string | null {
  const match = /charset\s*=\s*["']?([^"';\s]+)/iu.exec(contentType ?? '');
  return match?.[1]?.toLowerCase() ?? null;
}

/** The charset named in an XML prolog or an HTML <meta> within the first 1024 bytes. */
function charsetFromDocument(bytes: Uint8Array): string | null {
  const head = Buffer.from(bytes.subarray(0, 1024)).toString('latin1');
  const prolog = /^\s*<\?xml[^>]*\bencoding\s*=\s*["']([A-Za-z0-9._:-]+)["']/u.exec(head);
  if (prolog?.[1]) return prolog[1].toLowerCase();
  const meta = /<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9._:-]+)/iu.exec(head);
  return meta?.[1]?.toLowerCase() ?? null;
}

/**
 * UTF-16 and UTF-32 without a BOM show themselves by the zero bytes around the ASCII "<" a document
 * starts with (XML 1.0 Appendix F): 3C 00 00 00 is UTF-32LE, 00 00 00 3C UTF-32BE, 3C 00 UTF-16LE,
 * 00 3C UTF-16BE. UTF-32 is tried first, its first four bytes also being UTF-16LE's pattern.
 */
function sniffWide(bytes: Uint8Array): string | null {
  const [b0, b1, b2, b3] = [bytes[0], bytes[1], bytes[2], bytes[3]];
  if (b0 === 0x3c && b1 === 0x00 && b2 === 0x00 && b3 === 0x00) return 'utf-32le';
  if (b0 === 0x00 && b1 === 0x00 && b2 === 0x00 && b3 === 0x3c) return 'utf-32be';
  if (b0 === 0x3c && b1 === 0x00) return 'utf-16le';
  if (b0 === 0x00 && b1 === 0x3c) return 'utf-16be';
  return null;
}

function normaliseLabel(label: string): string | null {
  const name = label.toLowerCase().replace(/^(x-|cs)/u, '');
  if (name === 'utf8' || name === 'utf-8' || name === 'unicode-1-1-utf-8') return 'utf-8';
  if (name === 'utf-16' || name === 'ucs-2') return 'utf-16le';
  if (name === 'utf-32' || name === 'ucs-4') return 'utf-32le';
  // As browsers do (WHATWG Encoding): servers that say latin1 or ASCII mean windows-1252.
  if (['iso-8859-1', 'iso8859-1', 'latin1', 'l1', 'us-ascii', 'ascii', 'iso-ir-100'].includes(name)) return 'windows-1252';
  return iconv.encodingExists(name) ? name : null;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function tryUtf8(bytes: Uint8Array): string | null {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return null;
  }
}

function hasMultibyte(bytes: Uint8Array): boolean {
  for (const b of bytes) if (b >= 0x80) return true;
  return false;
}

// Candidates for text that is not valid UTF-8; on a tie the first wins (Western text decodes the
// same in windows-1252 and windows-1256).
const LEGACY_GUESSES = ['windows-1252', 'windows-1251', 'koi8-r', 'windows-1256'] as const;

function scriptOf(ch: string): 'latin' | 'cyrillic' | 'arabic' | 'other' {
  const code = ch.codePointAt(0) ?? 0;
  if (code < 0x250) return 'latin';
  if (code >= 0x400 && code < 0x530) return 'cyrillic';
  if (code >= 0x600 && code < 0x700) return 'arabic';
  return 'other';
}

/**
 * How much a decoding looks like prose. Mojibake shows in words: a wrong single-byte charset
 * mixes scripts inside a word (Zьrich), or scrambles case (нОВОСТИ, ëÁÚÁÈÓÔÁÎÁ), and leaves
 * symbols from the upper half of Latin-1. Only words with non-ASCII letters are scored: the
 * ASCII markup of the feed reads the same in every candidate.
 */
function plausibility(text: string): number {
  let score = 0;
  for (const word of text.match(/\p{L}+/gu) ?? []) {
    if (/^[A-Za-z]+$/u.test(word)) continue;
    const scripts = new Set([...word].map(scriptOf));
    const rest = word.slice(1);
    const caseOk = rest === rest.toLowerCase() || word === word.toUpperCase();
    score += scripts.size === 1 && caseOk ? word.length : -word.length;
  }
  const junk = text.match(/[\u0080-\u00BF\u00D7\u00F7\uFFFD]/gu)?.length ?? 0;
  return score - 3 * junk;
}

function decodeWith(bytes: Uint8Array, charset: string): string {
  return iconv.decode(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), charset);
}

function guessLegacy(bytes: Uint8Array): DecodedBody {
  let best: DecodedBody = { text: decodeWith(bytes, 'windows-1252'), charset: 'windows-1252' };
  let bestScore = Number.NEGATIVE_INFINITY;
  for (const charset of LEGACY_GUESSES) {
    const text = decodeWith(bytes, charset);
    const score = plausibility(text);
    if (score > bestScore) {
      best = { text, charset };
      bestScore = score;
    }
  }
  return best;
}

/** Decodes a feed body; a wrong or unknown declared charset falls back rather than failing. */
export function decodeBody(bytes: Uint8Array, contentType: string | null): DecodedBody {
  for (const [signature, charset] of BOMS) {
    if (signature.every((b, i) => bytes[i] === b)) {
      return { text: decodeWith(bytes.subarray(signature.length), charset), charset };
    }
  }
  const wide = sniffWide(bytes);
  if (wide) return { text: decodeWith(bytes, wide), charset: wide };

  const declared = [charsetFromContentType(contentType), charsetFromDocument(bytes)]
    .map((label) => (label ? normaliseLabel(label) : null))
    .find((label): label is string => label !== null);

  const utf8 = tryUtf8(bytes);
  if (declared === undefined || declared === 'utf-8') {
    return utf8 !== null ? { text: utf8, charset: 'utf-8' } : guessLegacy(bytes);
  }
  // Valid multi-byte UTF-8 is almost never legacy text by accident: the declaration is wrong.
  if (utf8 !== null && hasMultibyte(bytes) && !/^utf-(16|32)/u.test(declared)) return { text: utf8, charset: 'utf-8' };
  return { text: decodeWith(bytes, declared), charset: declared };
}
