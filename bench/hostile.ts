// What one hostile item costs: HTML-to-text of megabytes of nested, unclosed or plain markup,
// bounded (caps on length and nesting, src/feeds/html.ts) against html-to-text unbounded.

import { compile } from 'html-to-text';
import { cleanTitle, htmlToText } from '../src/feeds/html.js';
import { parseFeed } from '../src/feeds/parse.js';

const CASES: Array<[string, string]> = [
  ['2 MB of unclosed <b>', '<b>'.repeat(700_000) + 'deep'],
  ['2 MB of nested <div>', `${'<div>'.repeat(200_000)}x${'</div>'.repeat(200_000)}`],
  ['nested tables (60,000)', '<table><tr><td>'.repeat(60_000)],
  ['nested lists (100,000)', '<ul><li>'.repeat(100_000)],
  ['2 MB of paragraphs', '<p>hello world</p>'.repeat(110_000)],
  ['10 MB of plain text', 'word '.repeat(2_000_000)],
];

const unbounded = compile({ wordwrap: false, limits: { maxInputLength: undefined } });

/** CPU milliseconds and heap growth of one run (after one warm-up on a small input). */
function cost(run: () => unknown): { ms: number; mb: number } {
  const heap = process.memoryUsage().heapUsed;
  const start = process.cpuUsage();
  run();
  const used = process.cpuUsage(start);
  return { ms: (used.user + used.system) / 1000, mb: Math.max(0, process.memoryUsage().heapUsed - heap) / 1e6 };
}

export async function benchHostile(): Promise<void> {
  htmlToText('<p>warm</p>'.repeat(100));
  process.stdout.write('\nhostile items: HTML to text of one field, CPU ms (all threads) and heap growth\n');
  process.stdout.write(`  ${'input'.padEnd(26)} ${'steppewatch (bounded)'.padStart(24)} ${'html-to-text unbounded'.padStart(30)}\n`);
  for (const [name, html] of CASES) {
    const ours = cost(() => {
      htmlToText(html);
      cleanTitle(html);
    });
    // Unbounded, the nesting cases overflow the stack (or block for minutes): tried on the first 100 KB only.
    const sample = html.slice(0, 100_000);
    let baseline: string;
    try {
      const naive = cost(() => unbounded(sample));
      baseline = `${naive.ms.toFixed(0)} ms on the first 100 KB`;
    } catch (error) {
      baseline = `fails on the first 100 KB: ${(error as Error).name}`;
    }
    process.stdout.write(`  ${name.padEnd(26)} ${`${ours.ms.toFixed(0)} ms, ${ours.mb.toFixed(0)} MB`.padStart(24)} ${baseline.padStart(30)}\n`);
  }
  process.stdout.write('  target: no item costs more than 250 ms of CPU or 50 MB of memory (body and title)\n');
  await benchDocument();
}

/** A whole hostile document: 100 items of 100 KB each (the 10 MB byte cap), parsed as the cycle parses it. */
async function benchDocument(): Promise<void> {
  const paragraphs = '<p>Protesters gathered in Almaty on Sunday.</p>'.repeat(2_200);
  const items = Array.from({ length: 100 }, (_, i) => `<item><title>Item ${i}</title><guid>g${i}</guid><description><![CDATA[${paragraphs}]]></description></item>`).join('');
  const text = `<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>${items}</channel></rss>`;
  const start = process.cpuUsage();
  const wall = performance.now();
  await parseFeed(text, 'https://bench.test/rss');
  const used = process.cpuUsage(start);
  const oneItem = cost(() => htmlToText(paragraphs));
  process.stdout.write(
    `  a 10 MB feed of 100 such items (parse + all items)  ${((used.user + used.system) / 1000).toFixed(0)} ms CPU, ${(performance.now() - wall).toFixed(0)} ms wall; ` +
      `every item in full would be ~${(oneItem.ms * 100).toFixed(0)} ms\n  target: one hostile document delays the cycle by less than its fetch timeout (20 s by default)\n`,
  );
}
