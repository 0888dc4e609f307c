// One alert per story, end to end: the real CLI (`once`), a local feed server and the fake
// Telegram Bot API. Four outlets report one story over two polls; the channel gets one message,
// edited to list the others and marked breaking, and nothing changes when the bot runs again.

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

const TITLE = 'Protesters storm Almaty city hall as Kazakh unrest spreads';
const LEAD = 'Protesters stormed the city hall in Almaty on Wednesday and set it on fire, witnesses said.';

beforeEach(async () => {
  feeds = await new FeedServer().start();
  telegram = await new FakeTelegram().start();
  dir = mkdtempSync(join(tmpdir(), 'steppewatch-stories-'));
});

afterEach(async () => {
  await feeds.stop();
  await telegram.stop();
  rmSync(dir, { recursive: true, force: true });
});

function config(): string {
  const file = join(dir, 'steppewatch.yaml');
  writeFileSync(
    file,
    `feeds:
  - { url: "${feeds.url}/wire.xml", name: Wire }
  - { url: "${feeds.url}/daily.xml", name: Daily }
  - { url: "${feeds.url}/weekly.xml", name: Weekly }
  - { url: "${feeds.url}/agg.xml", name: Aggregator }
channels:
  - chat: "@kz_alerts"
    watchlists: [kazakhstan-unrest]
delivery:
  max_wait: "\${MAX_WAIT:-30s}"
`,
  );
  return file;
}

const env = () => ({ DATABASE_URL: `sqlite:${join(dir, 'state.db')}`, TELEGRAM_BOT_TOKEN: FAKE_TOKEN, TELEGRAM_API_ROOT: telegram.apiRoot });

it('a story reported by four feeds is one message, edited as reports come, and a restart changes nothing', async () => {
  // First poll: only the wire has the story; the others have nothing yet.
  feeds.set('/wire.xml', rss('Wire', [{ title: TITLE, link: 'https://wire.example.test/almaty-hall', guid: 'w1', minutesAgo: 20, description: LEAD }]));
  for (const path of ['/daily.xml', '/weekly.xml', '/agg.xml']) feeds.set(path, rss('Empty', []));
  const file = config();
  const first = await runCli(['once', '--config', file], env());
  expect(first.code, first.stderr).toBe(0);
  expect(telegram.messages, first.stderr).toHaveLength(1);

  // Second poll: a wire copy, a rewrite, and a re-post of the wire's URL with tracking parameters.
  feeds.set('/daily.xml', rss('Daily', [{ title: TITLE, link: 'https://daily.example.test/world/almaty', guid: 'd1', minutesAgo: 15, description: `${LEAD} (AP)` }]));
  feeds.set('/weekly.xml', rss('Weekly', [{ title: 'Almaty city hall ablaze after protesters storm it', link: 'https://weekly.example.test/almaty-ablaze', guid: 'k1', minutesAgo: 10, description: 'Crowds stormed the city hall in Almaty and set it on fire as police fired tear gas, witnesses said.' }]));
  feeds.set('/agg.xml', rss('Aggregator', [{ title: TITLE, link: 'https://wire.example.test/almaty-hall?utm_source=agg&fbclid=1', guid: 'a1', minutesAgo: 5, description: LEAD }]));
  // Telegram is down during this run: the edit waits in the outbox.
  telegram.down = true;
  expect((await runCli(['once', '--config', file], { ...env(), MAX_WAIT: '2s' })).code).toBe(0);
  telegram.down = false;

  // A restart: the queued edit goes out; no second alert.
  expect((await runCli(['once', '--config', file], env())).code).toBe(0);
  const sends = telegram.calls.filter((c) => c.method === 'sendMessage' && c.status === 200);
  const edits = telegram.calls.filter((c) => c.method === 'editMessageText' && c.status === 200);
  expect(sends).toHaveLength(1);
  expect(edits).toHaveLength(1);
  const [alert] = telegram.messages;
  expect(alert?.text).toContain(
    'Also reported by: <a href="https://daily.example.test/world/almaty">Daily</a> (en), <a href="https://weekly.example.test/almaty-ablaze">Weekly</a> (en), <a href="https://wire.example.test/almaty-hall?utm_source=agg&amp;fbclid=1">Aggregator</a> (en)',
  );
  // Four reports from four outlets within the hour: the story is breaking.
  expect(alert?.text.startsWith('<b>🔴 BREAKING</b>')).toBe(true);

  // Once more: nothing new to say.
  expect((await runCli(['once', '--config', file], env())).code).toBe(0);
  expect(telegram.calls.filter((c) => c.status === 200 && (c.method === 'sendMessage' || c.method === 'editMessageText'))).toHaveLength(2);
});
