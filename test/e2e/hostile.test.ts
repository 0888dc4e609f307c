// A hostile feed beside normal ones: one item of 2 MB of unclosed tags and a 10 MB title does not
// hold up the cycle, and every normal feed's alert goes out.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { FakeTelegram, FAKE_TOKEN } from '../support/fake-telegram.js';
import { FeedServer, rss } from '../support/feed-server.js';

let feeds: FeedServer;
let telegram: FakeTelegram;
let dir: string;

beforeEach(async () => {
  feeds = await new FeedServer().start();
  telegram = await new FakeTelegram().start();
  dir = mkdtempSync(join(tmpdir(), 'steppewatch-hostile-'));
});
afterEach(async () => {
  await feeds.stop();
  await telegram.stop();
  rmSync(dir, { recursive: true, force: true });
});

const CITIES = ['Almaty', 'Astana', 'Shymkent', 'Aktobe', 'Taraz'];

it('a feed with a 2 MB nested item and a 10 MB title beside five normal feeds: the cycle finishes and all five alert', async () => {
  const hostile = rss('Hostile', [
    { title: 'x', link: 'https://hostile.test/1', guid: 'h1', minutesAgo: 5, description: `${'<b>'.repeat(700_000)}protest in Almaty` },
    { title: `Almaty protest ${'word '.repeat(2_000_000)}`, link: 'https://hostile.test/2', guid: 'h2', minutesAgo: 4, description: 'Protesters in Almaty.' },
  ]);
  feeds.set('/hostile.xml', hostile);
  CITIES.forEach((city, i) =>
    feeds.set(`/n${i}.xml`, rss(`News ${i}`, [{ title: `Police detain protesters in ${city} after rally ${i}`, link: `https://n${i}.test/a`, guid: `n${i}`, minutesAgo: 10, description: `Dozens were detained at an unauthorised rally in ${city} over fuel prices.` }])),
  );
  const file = join(dir, 'steppewatch.yaml');
  writeFileSync(
    file,
    `fetch:\n  max_bytes: 20000000\nfeeds:\n  - { url: "${feeds.url}/hostile.xml", name: Hostile }\n${CITIES.map((_c, i) => `  - { url: "${feeds.url}/n${i}.xml", name: "News ${i}" }\n`).join('')}channels:\n  - { chat: "1001", watchlists: [kazakhstan-unrest] }\n`,
  );
  const run = await runCli(['once', '--config', file], { DATABASE_URL: `sqlite:${join(dir, 'state.db')}`, TELEGRAM_BOT_TOKEN: FAKE_TOKEN, TELEGRAM_API_ROOT: telegram.apiRoot });
  expect(run.code, run.stderr).toBe(0);
  const alerts = telegram.sentTo(1001);
  expect(run.stderr).not.toMatch(/feed failed|RangeError/u);
  for (const city of CITIES) expect(alerts.some((a) => a.includes(`protesters in ${city}`)), city).toBe(true);
  // The hostile items reach Telegram cut to size, if at all.
  for (const alert of alerts) expect([...alert].length).toBeLessThanOrEqual(4096);
});
