// Subscriptions end to end: people and groups talk to the bot (fake Bot API getUpdates), `once`
// takes their commands before its cycle, and each chat gets exactly the alerts its watchlists
// select; a chat that blocked the bot is deactivated while the others still receive.

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
  dir = mkdtempSync(join(tmpdir(), 'steppewatch-subs-'));
});
afterEach(async () => {
  await feeds.stop();
  await telegram.stop();
  rmSync(dir, { recursive: true, force: true });
});

const env = () => ({ DATABASE_URL: `sqlite:${join(dir, 'state.db')}`, TELEGRAM_BOT_TOKEN: FAKE_TOKEN, TELEGRAM_API_ROOT: telegram.apiRoot });
const PROTEST = { title: 'Protesters rally in Almaty over fuel prices', link: 'https://news.example.test/almaty-rally', guid: 'n1', minutesAgo: 30, description: 'Thousands of protesters gathered in Almaty on Sunday.' };
const CSTO = { title: 'CSTO troops take control of Almaty airport', link: 'https://news.example.test/csto-airport', guid: 'n2', minutesAgo: 20, description: 'Russian-led peacekeeping troops secured the airport in Almaty.' };
const OTHER = { title: 'Tenge steady as markets reopen', link: 'https://news.example.test/tenge', guid: 'n3', minutesAgo: 10, description: 'The currency traded flat.' };

it('each chat gets what its watchlists select; a blocked chat is dropped and the rest still receive', async () => {
  const file = join(dir, 'steppewatch.yaml');
  writeFileSync(file, `feeds:\n  - { url: "${feeds.url}/news.xml", name: News }\n`);
  feeds.set('/news.xml', rss('News', [PROTEST, CSTO, OTHER]));

  telegram.userSays({ id: 1001, type: 'private' }, 1001, '/start');
  telegram.userSays({ id: 1001, type: 'private' }, 1001, '/watch almaty AND protest*');
  telegram.userSays({ id: 1002, type: 'private' }, 1002, '/subscribe kazakhstan-unrest');
  telegram.userSays({ id: 1003, type: 'private' }, 1003, '/subscribe kazakhstan-unrest');
  telegram.userSays({ id: 1004, type: 'private' }, 1004, '/watch almaty AND (protest');
  telegram.userSays({ id: -2001, type: 'supergroup' }, 1005, '/subscribe kazakhstan-unrest'); // not an admin
  telegram.userSays({ id: -2002, type: 'supergroup' }, 1006, '/subscribe@fake_bot kazakhstan-unrest'); // an admin
  telegram.admins.set('-2002', new Set([1006]));
  telegram.blocked.add('1003');

  const run = await runCli(['once', '--config', file], env());
  expect(run.code, run.stderr).toBe(0);

  // Answers to the commands.
  expect(telegram.sentTo(1001)[1]).toBe('Watching <code>almaty AND protest*</code>. See /list.');
  expect(telegram.sentTo(1004)[0]).toMatch(/^That query does not parse: .+ at position \d+\.$/u);
  expect(telegram.sentTo(-2001)).toEqual(['Only the administrators of this chat can change what it receives.']);

  // Alerts: 1001 watches protests in Almaty; 1002 and the admin's group follow the preset.
  const alerts = (chat: number) => telegram.sentTo(chat).filter((text) => text.includes('#'));
  expect(alerts(1001)).toHaveLength(1);
  expect(alerts(1001)[0]).toContain('Protesters rally in Almaty');
  expect(alerts(1002).map((a) => a.split('\n')[0])).toEqual(['<b>Protesters rally in Almaty over fuel prices</b>', '<b>CSTO troops take control of Almaty airport</b>']);
  expect(alerts(-2002)).toHaveLength(2);
  expect(alerts(-2001)).toHaveLength(0);

  // 1003 blocked the bot: it is deactivated, and the next story reaches the others but not 1003.
  const attemptsTo1003 = () => telegram.calls.filter((c) => c.body.chat_id === '1003').length;
  const before = attemptsTo1003();
  feeds.set('/news.xml', rss('News', [PROTEST, CSTO, OTHER, { title: 'Curfew declared in Almaty after riots', link: 'https://news.example.test/curfew', guid: 'n4', minutesAgo: 1, description: 'A curfew was declared in Almaty after a night of riots.' }]));
  const second = await runCli(['once', '--config', file], env());
  expect(second.code, second.stderr).toBe(0);
  expect(attemptsTo1003()).toBe(before);
  expect(alerts(1002)).toHaveLength(3);
  expect(alerts(1001)).toHaveLength(1);
});
