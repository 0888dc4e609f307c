// `explain --jsonl` as a user runs it (the built CLI): the output of a small mixed file byte for
// byte as it was before the command was made fast, hits for every match and none otherwise, the
// same answers when a long input is shared with the helper thread, and a bad line's error after
// the answers to the lines before it.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firstWords } from '../../src/match/explain-lines.js';
import { surfaceTokens } from '../../src/text/normalize.js';
import { ROOT, runCli } from '../support/cli.js';

const MIXED = new URL('./explain/mixed.jsonl', import.meta.url);
// Written by the build before `explain --jsonl` was rewritten (one write per line, matchWatchlist).
const EXPECTED = readFileSync(new URL('./explain/mixed.expected.jsonl', import.meta.url), 'utf8');
const explainJsonl = (file: string) => runCli(['explain', '--watchlist', 'kazakhstan-unrest', '--jsonl', file]);

/** Runs `explain --jsonl -` with `input` on standard input. */
const explainStdin = (input: string) => runCli(['explain', '--watchlist', 'kazakhstan-unrest', '--jsonl', '-'], {}, ROOT, { input });

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'steppewatch-explain-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('explain --jsonl', () => {
  it('answers a mixed file byte for byte as before, from a file and from standard input', async () => {
    const file = await explainJsonl(MIXED.pathname);
    expect(file.code).toBe(0);
    expect(file.stdout).toBe(EXPECTED);
    const stdin = await explainStdin(readFileSync(MIXED, 'utf8'));
    expect(stdin.code).toBe(0);
    expect(stdin.stdout).toBe(EXPECTED);
  });

  it('gives the hits of every matching item, with the words as written, and none for the others', async () => {
    const { stdout } = await explainJsonl(MIXED.pathname);
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: unknown; match: boolean; hits: Array<{ term: string; field: string; index: number; words: string }> });
    expect(lines.filter((l) => l.match).length).toBeGreaterThan(10);
    expect(lines.filter((l) => !l.match).length).toBeGreaterThan(10);
    for (const line of lines) {
      if (!line.match) expect(line.hits).toEqual([]);
      else {
        expect(line.hits.length).toBeGreaterThan(0);
        for (const hit of line.hits) expect(Object.keys(hit)).toEqual(['term', 'field', 'index', 'words']);
        for (const hit of line.hits) expect(hit.words).not.toBe('');
      }
    }
    const ligatures = lines.find((l) => l.id === 'ligatures');
    expect(ligatures?.hits).toEqual(
      expect.arrayContaining([
        { term: '@almaty', field: 'title', index: 0, words: 'ALMATY' },
        { term: '@tokayev', field: 'text', index: 6, words: 'Тоқаев' },
        { term: '@almaty', field: 'text', index: 11, words: 'Алматы' },
      ]),
    );
  });

  it('answers a long input (shared with a helper thread) in order, as line by line', async () => {
    const input = readFileSync(MIXED, 'utf8').split('\n').slice(0, -1);
    const expected = EXPECTED.split('\n').slice(0, -1);
    const repeats = 150; // 10,500 lines: past the point where the helper thread starts
    const file = join(dir, 'long.jsonl');
    writeFileSync(file, `${Array.from({ length: repeats }, () => input.join('\n')).join('\n')}\n`);
    const result = await explainJsonl(file);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${Array.from({ length: repeats }, () => expected.join('\n')).join('\n')}\n`);
  });

  it('stops at a bad line with its number, after answering every line before it', async () => {
    const input = readFileSync(MIXED, 'utf8').split('\n').slice(0, -1);
    // Each line that is not blank has its answer, in order.
    const answers = new Map<string, string>();
    const expected = EXPECTED.split('\n');
    for (const line of input.filter((l) => l.trim() !== '')) answers.set(line, expected[answers.size] ?? '');
    for (const repeats of [1, 140]) {
      const lines = Array.from({ length: repeats }, () => input).flat();
      const bad = lines.length - 3; // 1-based number of the bad line
      lines.splice(bad - 1, 0, '{"id": 1, "title": ');
      const file = join(dir, `bad-${repeats}.jsonl`);
      writeFileSync(file, `${lines.join('\n')}\n`);
      const result = await explainJsonl(file);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`line ${bad}: not JSON`);
      const before = lines.slice(0, bad - 1).filter((l) => l.trim() !== '');
      expect(result.stdout).toBe(before.map((l) => `${answers.get(l) ?? ''}\n`).join(''));
    }
    const wrong = join(dir, 'wrong.jsonl');
    writeFileSync(wrong, '{"id":1,"title":"Взрыв в Алматы"}\n[1,2]\n');
    const result = await explainJsonl(wrong);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('line 2: expected {"id","title","text"}');
    expect(result.stdout).toBe('{"id":1,"match":true,"hits":[{"term":"взрыв","field":"title","index":0,"words":"Взрыв"},{"term":"@almaty","field":"title","index":2,"words":"Алматы"}]}\n');
  });
});

describe('the words of a hit as written', () => {
  it('are the text\'s first words as surfaceTokens splits them', () => {
    const pieces = ['Алматы', 'ألماتي', 'اِحْتِجَاجَاتٌ', 'ＡＬＭＡＴＹ', 'ﬁre', 'é', 'e\u0301', '😀', '𝐀𝐁', '٢٥٠٠', '2,500', ' ', '\n', '-', '\ud800', '\udc00', 'Σ', 'қ', 'ـ', '\u06de'];
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constantFrom(...pieces), fc.string({ unit: 'binary', maxLength: 4 })), { maxLength: 30 }), fc.nat(40), (parts, count) => {
        const text = parts.join('');
        expect(firstWords(text, count)).toEqual(surfaceTokens(text).slice(0, count));
      }),
      { numRuns: 3000 },
    );
  });
});
