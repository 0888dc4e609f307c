// Feed parsing: the whole fixture corpus through readFeed (decode + parse), how many of its
// documents parse, and the tolerant fallback (src/feeds/tolerant.ts) against rss-parser's path on
// a ~1 MB RSS feed, well-formed and with one mismatched tag.

import { readdirSync, readFileSync } from 'node:fs';
import Parser from 'rss-parser';
import { parseFeed } from '../src/feeds/parse.js';
import { readFeed } from '../src/feeds/read.js';
import { parseTolerant } from '../src/feeds/tolerant.js';

const DIR = new URL('../test/fixtures/feeds/', import.meta.url);
const DOCUMENT = /\.(xml|json|bin)$/u;
const DEFAULT_FEED_URL = 'https://feeds.example.test/feed.xml';

interface Fixture {
  name: string;
  body: Uint8Array;
  contentType: string | null;
  feedUrl: string;
  mustFail: boolean;
}

function fixtures(): Fixture[] {
  return readdirSync(DIR)
    .filter((name) => DOCUMENT.test(name) && !name.endsWith('.expected.json'))
    .sort()
    .map((name) => {
      const expected = JSON.parse(readFileSync(new URL(name.replace(DOCUMENT, '.expected.json'), DIR), 'utf8')) as {
        contentType?: string | null;
        feedUrl?: string;
        error?: string;
      };
      return {
        name,
        body: new Uint8Array(readFileSync(new URL(name, DIR))),
        contentType: expected.contentType ?? null,
        feedUrl: expected.feedUrl ?? DEFAULT_FEED_URL,
        mustFail: expected.error !== undefined,
      };
    });
}

/** Like measure() (bench/measure.ts), for async work: warm up, then the median of at least `repeats` runs and a second and a half. */
async function measureAsync(run: () => Promise<unknown>, repeats = 7): Promise<number> {
  const elapsedMs = (since: bigint) => Number(process.hrtime.bigint() - since) / 1e6;
  const warmUp = process.hrtime.bigint();
  do await run();
  while (elapsedMs(warmUp) < 500);
  const times: number[] = [];
  const start = process.hrtime.bigint();
  while (times.length < repeats || elapsedMs(start) < 1500) {
    const begin = process.hrtime.bigint();
    await run();
    times.push(elapsedMs(begin));
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] ?? 0;
}

/** A well-formed RSS 2.0 feed of about `bytes`, items of about 1 KB (escaped HTML bodies, as news feeds send). */
function bigRss(bytes: number): string {
  const body = '&lt;p&gt;Protesters gathered in Almaty on Sunday; police detained dozens near the square.&lt;/p&gt;'.repeat(8);
  const items: string[] = [];
  for (let i = 0, size = 0; size < bytes; i++) {
    const item = `<item><title>Almaty rally ${i}: police detain protesters</title><link>https://big.example.test/news/${i}</link><guid>big-${i}</guid><pubDate>Mon, 05 Jan 2026 10:00:00 +0500</pubDate><description>${body}</description></item>\n`;
    items.push(item);
    size += item.length;
  }
  return `<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel><title>Big</title><link>https://big.example.test/</link><language>en</language>\n${items.join('')}</channel></rss>\n`;
}

export async function benchFeedParse(): Promise<void> {
  const corpus = fixtures();
  let parsed = 0;
  const failing: string[] = [];
  let refused = 0;
  for (const fixture of corpus) {
    const ok = await readFeed(fixture.body, fixture.contentType, fixture.feedUrl).then(
      () => true,
      () => false,
    );
    if (ok) parsed++;
    else if (fixture.mustFail) refused++;
    else failing.push(fixture.name);
  }
  const corpusMs = await measureAsync(async () => {
    for (const fixture of corpus) await readFeed(fixture.body, fixture.contentType, fixture.feedUrl).catch(() => undefined);
  });
  const bytes = corpus.reduce((sum, f) => sum + f.body.byteLength, 0);
  process.stdout.write('\nfeed parsing: the fixture corpus through readFeed (decode + parse)\n');
  process.stdout.write(`  ${corpus.length} documents, ${(bytes / 1024).toFixed(0)} KB, ${corpusMs.toFixed(1)} ms for all (${((corpusMs * 1000) / corpus.length).toFixed(0)} µs each)\n`);
  process.stdout.write(
    `  ${parsed} parse, ${refused} refused as they must (bad-: not feeds or hostile), ${failing.length} others fail${failing.length ? `: ${failing.join(', ')}` : ''}\n`,
  );
  process.stdout.write('  target: 0 documents outside bad- fail\n');

  const wellFormed = bigRss(1_000_000);
  // One mismatched tag in the last item: rss-parser reads almost all of it before it throws, the worst case for the fallback.
  const at = wellFormed.lastIndexOf('<title>') + '<title>'.length;
  const malformed = `${wellFormed.slice(0, at)}<b>${wellFormed.slice(at)}`;
  const url = 'https://big.example.test/rss';
  const items = (await parseFeed(wellFormed, url)).items.length;
  const recovered = (await parseFeed(malformed, url)).items.length;
  const normalMs = await measureAsync(() => parseFeed(wellFormed, url));
  const fallbackMs = await measureAsync(() => parseFeed(malformed, url));
  const tolerantMs = await measureAsync(() => Promise.resolve(parseTolerant(wellFormed, url, 'rss')));
  process.stdout.write(`\na ${(wellFormed.length / 1e6).toFixed(2)} MB RSS feed of ${items} items, parseFeed (median)\n`);
  process.stdout.write(`  ${'well-formed: rss-parser'.padEnd(52)} ${normalMs.toFixed(1).padStart(8)} ms  1.00×\n`);
  process.stdout.write(`  ${'well-formed, read by the tolerant parser alone'.padEnd(52)} ${tolerantMs.toFixed(1).padStart(8)} ms  ${(tolerantMs / normalMs).toFixed(2)}×\n`);
  process.stdout.write(
    `  ${`one mismatched tag: rss-parser throws, then fallback`.padEnd(52)} ${fallbackMs.toFixed(1).padStart(8)} ms  ${(fallbackMs / normalMs).toFixed(2)}×  (${recovered} of ${items} items)\n`,
  );
  process.stdout.write('  target: the fallback on a 1 MB document within 3× the normal path\n');

  // Elements nested three million deep (9 MB, under the fetch cap): xml2js builds on past its
  // first error, so rss-parser alone spends seconds and a gigabyte; the depth check sends such a
  // document to the tolerant parser at once.
  const deep = `<rss version="2.0"><channel><title>T</title><item><title>A</title><link>https://a.test/1</link></item><item><title>B</title><description>${'<x>'.repeat(3_000_000)}</description></item></channel></rss>`;
  const oursMs = await measureAsync(() => parseFeed(deep, url), 3);
  const naiveStart = process.hrtime.bigint();
  const heapBefore = process.memoryUsage().rss;
  await new Parser().parseString(deep).catch(() => undefined);
  const naiveMs = Number(process.hrtime.bigint() - naiveStart) / 1e6;
  const naiveMb = Math.max(0, process.memoryUsage().rss - heapBefore) / 1e6;
  process.stdout.write(`\nelements nested 3,000,000 deep in one item (${(deep.length / 1e6).toFixed(0)} MB)\n`);
  process.stdout.write(`  ${'steppewatch (depth check, then the tolerant parser)'.padEnd(52)} ${oursMs.toFixed(1).padStart(8)} ms\n`);
  process.stdout.write(`  ${'rss-parser alone (until it throws)'.padEnd(52)} ${naiveMs.toFixed(1).padStart(8)} ms  ~${naiveMb.toFixed(0)} MB more RSS\n`);
  process.stdout.write('  target: no document costs more than its fetch timeout; no item more than 250 ms\n');
}
