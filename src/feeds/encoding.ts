// Bytes to text: BOM, then the HTTP charset, then the XML prolog, then UTF-8.

import { TextDecoder } from 'node:util';

const BOMS: Array<[number[], string]> = [
  [[0xef, 0xbb, 0xbf], 'utf-8'],
  [[0xff, 0xfe], 'utf-16le'],
  [[0xfe, 0xff], 'utf-16be'],
];

function charsetFromContentType(contentType: string | null): string | null {
  const match = /charset\s*=\s*"?([^";\s]+)/iu.exec(contentType ?? '');
  return match?.[1]?.toLowerCase() ?? null;
}

function charsetFromProlog(bytes: Uint8Array): string | null {
  const head = Buffer.from(bytes.subarray(0, 1024)).toString('latin1');
  const match = /^\s*<\?xml[^>]*\bencoding\s*=\s*["']([A-Za-z0-9._:-]+)["']/u.exec(head);
  return match?.[1]?.toLowerCase() ?? null;
}

function decoderFor(label: string): TextDecoder | null {
  try {
    return new TextDecoder(label);
  } catch {
    return null; // a label TextDecoder does not know: try the next source
  }
}

export interface DecodedBody {
  text: string;
  charset: string;
}

/** Decodes a feed body; an unknown or wrong declared charset falls back rather than failing. */
export function decodeBody(bytes: Uint8Array, contentType: string | null): DecodedBody {
  for (const [signature, charset] of BOMS) {
    if (signature.every((b, i) => bytes[i] === b)) {
      return { text: new TextDecoder(charset).decode(bytes.subarray(signature.length)), charset };
    }
  }
  for (const label of [charsetFromContentType(contentType), charsetFromProlog(bytes)]) {
    if (!label) continue;
    const decoder = decoderFor(label);
    if (decoder) return { text: decoder.decode(bytes), charset: decoder.encoding };
  }
  return { text: new TextDecoder('utf-8').decode(bytes), charset: 'utf-8' };
}
