// Random and adversarial documents through `steppewatch inspect`, the real fetcher's parser path,
// under a memory bound: every document gives its items or a clear error line, none crashes the
// process or makes it exceed the bound. Deterministic (seeded), so a failure can be replayed.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'steppewatch-fuzz-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A small deterministic generator (mulberry32). */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const item = (title: string, body: string) => `<item><title>${title}</title><link>https://f.test/${title.length}</link><description><![CDATA[${body}]]></description></item>`;
const rss = (items: string) => `<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>F</title>${items}</channel></rss>`;

/** The adversarial cases, then random mutations of a valid feed. */
function documents(): Array<[string, Buffer]> {
  const next = random(20261202);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)] as T;
  const docs: Array<[string, Buffer]> = [
    ['nested-html', Buffer.from(rss(item('Almaty', '<b>'.repeat(300_000))))],
    ['nested-xml', Buffer.from(`<?xml version="1.0"?><rss><channel>${'<x>'.repeat(50_000)}</channel></rss>`)],
    ['long-title', Buffer.from(rss(item('A'.repeat(3_000_000), 'x')))],
    ['many-items', Buffer.from(rss(item('Almaty protest', 'Police detained dozens.').repeat(20_000)))],
    ['many-attributes', Buffer.from(`<?xml version="1.0"?><rss ${Array.from({ length: 50_000 }, (_, i) => `a${i}="${i}"`).join(' ')}><channel></channel></rss>`)],
    ['entity-bomb', Buffer.from('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><rss><channel><title>&b;</title></channel></rss>')],
    ['utf16-no-bom', Buffer.from(rss(item('Алматы', 'Митинг')), 'utf16le')],
    ['invalid-utf8', Buffer.concat([Buffer.from(rss(item('x', ''))).subarray(0, 80), Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xa0, 0xa1]), Buffer.from('</channel></rss>')])],
    ['json-deep', Buffer.from(`${'{"items":['.repeat(20_000)}`)],
    ['json-huge-string', Buffer.from(JSON.stringify({ version: 'https://jsonfeed.org/version/1.1', title: 'J', items: [{ id: '1', content_html: '<i>'.repeat(200_000) }] }))],
    ['binary', Buffer.from(Array.from({ length: 200_000 }, () => Math.floor(next() * 256)))],
    ['empty', Buffer.alloc(0)],
  ];
  const base = rss([item('Protest in Almaty', '<p>Thousands <b>gathered</b>.</p>'), item('Алматыда наразылық', 'Полиция')].join(''));
  const junk = ['<', '>', '&', '&#0;', '&#xD800;', ']]>', '<![CDATA[', '<!--', '\u0000', '\u202e', '"', "'", '<item>', '</channel>', '<?xml', '\uFFFF'];
  for (let i = 0; i < 60; i++) {
    let text = base;
    for (let m = 0; m < 1 + Math.floor(next() * 8); m++) {
      const at = Math.floor(next() * text.length);
      const op = next();
      if (op < 0.4) text = `${text.slice(0, at)}${pick(junk)}${text.slice(at)}`;
      else if (op < 0.7) text = `${text.slice(0, at)}${text.slice(at + Math.floor(next() * 40))}`;
      else text = `${text.slice(0, at)}${pick(junk).repeat(1 + Math.floor(next() * 5_000))}${text.slice(at)}`;
    }
    docs.push([`mutated-${i}`, Buffer.from(text)]);
  }
  return docs;
}

it('random and adversarial documents: each gives items or a clear error, within 256 MB, none crashes inspect', async () => {
  const files = documents().map(([name, body]) => {
    const file = join(dir, `${name}.xml`);
    writeFileSync(file, body);
    return file;
  });
  const result = await runCli(['inspect', '--json', ...files], { NODE_OPTIONS: '--max-old-space-size=256' });
  expect([0, 1], result.stderr).toContain(result.code);
  expect(result.stderr).not.toMatch(/unexpected error|FATAL ERROR|heap out of memory/u);
  const lines = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as { source: string; error?: string });
  // Every document answered, an error (if any) in words.
  expect(new Set(lines.map((l) => l.source))).toEqual(new Set(files));
  for (const line of lines) if (line.error !== undefined) expect(line.error.length).toBeGreaterThan(3);
}, 120_000);
