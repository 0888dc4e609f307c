// `steppewatch once`, the real CLI as a child process, against a local feed server and a fake
// Telegram Bot API.

import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { logLines, runCli } from '../support/cli.js';
import { FakeTelegram, FAKE_TOKEN } from '../support/fake-telegram.js';
import { FeedServer, rss } from '../support/feed-server.js';

const SEED = readFileSync(new URL('../fixtures/seed-almaty-ar.txt', import.meta.url), 'utf8');

let feeds: FeedServer;
let telegram: FakeTelegram;
let dir: string;

function setFeeds(): void {
  feeds.set(
    '/kz-ar.xml',
    rss('Arabic wire', [
      { title: 'انفجارات في ألما آتا', link: 'https://ar.example.test/almaty-blasts', guid: 'ar-1', minutesAgo: 30, description: SEED },
      { title: 'كايرات ألماتي يفوز في مباراة كرة القدم', link: 'https://ar.example.test/football', guid: 'ar-2', minutesAgo: 20, description: 'فاز فريق كايرات ألماتي في مباراة كرة القدم.' },
    ]),
  );
  feeds.set(
    '/kz-ru.xml',
    rss('Лента', [
      { title: 'В Алматы протестующие вышли на площадь', link: 'https://ru.example.test/almaty-protest', guid: 'ru-1', minutesAgo: 25, description: 'В Алматы начался митинг против роста цен на газ. Полиция задержала несколько человек.' },
      { title: 'Протест в Париже против пенсионной реформы', link: 'https://ru.example.test/paris', guid: 'ru-2', minutesAgo: 15, description: 'Полиция Парижа задержала участников протеста.' },
    ]),
  );
  // The Arabic story again, re-posted by another feed under a tracking-parameter URL.
  feeds.set(
    '/repost.xml',
    rss('Aggregator', [
      { title: 'انفجارات في ألما آتا', link: 'https://ar.example.test/almaty-blasts?utm_source=agg&fbclid=x1', guid: 'agg-9', minutesAgo: 10, description: SEED },
    ]),
  );
  feeds.set('/garbage.xml', { body: '<html><body>Under maintenance', contentType: 'text/html' });
  feeds.set('/down.xml', { body: 'oops', status: 500 });
}

function writeConfig(extra = ''): string {
  const file = join(dir, 'steppewatch.yaml');
  writeFileSync(
    file,
    `schedule: "*/5 * * * *"
feeds:
  - url: ${feeds.url}/kz-ar.xml
  - url: ${feeds.url}/garbage.xml
  - url: ${feeds.url}/kz-ru.xml
  - url: ${feeds.url}/down.xml
  - url: ${feeds.url}/repost.xml
channels:
  - chat: "@kz_alerts"
    watchlists: [kazakhstan-unrest]
${extra}`,
  );
  return file;
}

function env(withToken = true): Record<string, string> {
  return {
    DATABASE_URL: `sqlite:${join(dir, 'state.db')}`,
    ...(withToken ? { TELEGRAM_BOT_TOKEN: FAKE_TOKEN, TELEGRAM_API_ROOT: telegram.apiRoot } : {}),
  };
}

beforeEach(async () => {
  feeds = await new FeedServer().start();
  telegram = await new FakeTelegram().start();
  dir = mkdtempSync(join(tmpdir(), 'steppewatch-e2e-'));
  setFeeds();
});

afterEach(async () => {
  await feeds.stop();
  await telegram.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('steppewatch once', () => {
  it('delivers one alert per matching story to the channel and skips broken feeds', async () => {
    const result = await runCli(['once', '--config', writeConfig()], env());
    expect(result.code).toBe(0);

    const texts = telegram.messages.map((m) => m.text);
    expect(telegram.messages.map((m) => m.chat_id)).toEqual(['@kz_alerts', '@kz_alerts']);
    expect(texts.some((t) => t.includes('انفجارات في ألما آتا'))).toBe(true);
    expect(texts.some((t) => t.includes('В Алматы протестующие вышли на площадь'))).toBe(true);
    // Football in Almaty, a protest in Paris and the re-post of the Arabic story: no alert.
    expect(texts.join('\n')).not.toMatch(/كرة القدم|Париж/u);
    expect(telegram.messages.every((m) => m.parse_mode === 'HTML')).toBe(true);

    const skipped = logLines(result.stderr)
      .filter((l) => l.msg === 'feed skipped')
      .map((l) => `${String(l.feed)}: ${String(l.error)}`);
    expect(skipped.sort()).toEqual([
      `${feeds.url}/down.xml: HTTP 500 Internal Server Error`,
      `${feeds.url}/garbage.xml: not a feed: no <rss>, <feed>, <rdf:RDF> or JSON Feed found`,
    ]);
    expect(result.stderr).not.toContain(FAKE_TOKEN);
  });

  it('sends nothing new on a second run, and asks for unchanged feeds with a conditional GET', async () => {
    const config = writeConfig();
    expect((await runCli(['once', '--config', config], env())).code).toBe(0);
    expect(telegram.messages).toHaveLength(2);
    feeds.requests.length = 0;

    const second = await runCli(['once', '--config', config], env());
    expect(second.code).toBe(0);
    expect(telegram.messages).toHaveLength(2);
    const statuses = Object.fromEntries(feeds.requests.map((r) => [r.path, r.status]));
    expect(statuses['/kz-ar.xml']).toBe(304);
    expect(statuses['/kz-ru.xml']).toBe(304);
  });

  it('alerts on an item added since the last run, once', async () => {
    const config = writeConfig();
    await runCli(['once', '--config', config], env());
    feeds.set(
      '/kz-ru.xml',
      rss('Лента', [
        { title: 'В Алматы протестующие вышли на площадь', link: 'https://ru.example.test/almaty-protest', guid: 'ru-1', minutesAgo: 25 },
        { title: 'В Жанаозене объявлено чрезвычайное положение', link: 'https://ru.example.test/zhanaozen', guid: 'ru-3', minutesAgo: 1, description: 'Токаев ввёл режим ЧП.' },
      ]),
    );
    await runCli(['once', '--config', config], env());
    await runCli(['once', '--config', config], env());
    expect(telegram.messages.map((m) => m.text.split('\n')[0])).toEqual([
      expect.stringContaining('انفجارات في ألما آتا'),
      expect.stringContaining('В Алматы протестующие'),
      expect.stringContaining('В Жанаозене объявлено чрезвычайное положение'),
    ]);
  });

  it('waits out a 429 flood wait and delivers the alert exactly once', async () => {
    telegram.failNext(FakeTelegram.tooManyRequests(1));
    const result = await runCli(['once', '--config', writeConfig()], env());
    expect(result.code).toBe(0);
    expect(telegram.messages).toHaveLength(2);
    expect(telegram.calls.filter((c) => c.method === 'sendMessage').map((c) => c.status)).toEqual([429, 200, 200]);
    expect(logLines(result.stderr).some((l) => l.msg === 'alert not delivered yet; will retry')).toBe(true);
  });

  it('keeps alerts queued while Telegram is down, and delivers them on the next run', async () => {
    telegram.down = true;
    const first = await runCli(['once', '--config', writeConfig('delivery:\n  max_wait: 1s\n')], env());
    expect(first.code).toBe(0);
    expect(telegram.messages).toHaveLength(0);
    expect(logLines(first.stderr).some((l) => l.msg === 'alerts still queued; they go out on the next run')).toBe(true);

    telegram.down = false;
    // The next run waits (within max_wait) for the retry backoff to pass: nothing was lost.
    const second = await runCli(['once', '--config', writeConfig('delivery:\n  max_wait: 20s\n')], env());
    expect(second.code).toBe(0);
    expect(telegram.messages.map((m) => m.text.split('\n')[0]).sort()).toEqual([
      expect.stringContaining('В Алматы'),
      expect.stringContaining('انفجارات'),
    ]);
  });

  it('prints alerts to stdout when no token is set', async () => {
    const result = await runCli(['once', '--config', writeConfig()], env(false));
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('── alert → @kz_alerts ──');
    expect(result.stdout).toContain('انفجارات في ألما آتا');
    expect(result.stdout).toContain('В Алматы протестующие вышли на площадь');
    expect(telegram.calls).toHaveLength(0);
  });

  it('exits 1 naming the file and key of a bad config', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, `feeds:\n  - url: ftp://example.test/feed\n    colour: blue\n`);
    const result = await runCli(['once', '--config', file], env());
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${file}: feeds.0.url: must be an http(s) URL`);
    expect(result.stderr).toContain(`${file}: feeds.0.colour: unknown key`);
    expect(telegram.calls).toHaveLength(0);
  });

  it('exits 1 with a clear message when the store cannot be opened', async () => {
    const result = await runCli(['once', '--config', writeConfig()], { ...env(), DATABASE_URL: 'mysql://localhost/x' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('DATABASE_URL must start with sqlite: or postgres://');
  });

  it('refuses at start, with the fix, a SQLite file it may not write (once and run)', async () => {
    const config = writeConfig();
    const file = join(dir, 'read-only.db');
    expect((await runCli(['once', '--config', config], { ...env(), DATABASE_URL: `sqlite:${file}` })).code).toBe(0);
    chmodSync(file, 0o444);
    chmodSync(dir, 0o555);
    // Root may write any file: the CLI then runs as "nobody", to whom the file is read-only.
    const as = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : undefined;
    try {
      for (const command of ['once', 'run']) {
        const result = await runCli([command, '--config', config], { ...env(), DATABASE_URL: `sqlite:${file}` }, undefined, { as });
        expect(result.code).toBe(1);
        expect(result.stderr.trim()).toBe(
          `cannot open SQLite database ${file}: the file cannot be written (attempt to write a readonly database): make the file, its -wal and -shm files and the directory they are in writable by the user running steppewatch`,
        );
      }
    } finally {
      chmodSync(dir, 0o755);
    }
  });

  it('exits 1 with a sentence, not a stack trace, when the SQLite file is not a database or is damaged', async () => {
    const config = writeConfig();
    const garbage = join(dir, 'garbage.db');
    writeFileSync(garbage, randomBytes(10_000));
    const notADatabase = await runCli(['once', '--config', config], { ...env(), DATABASE_URL: `sqlite:${garbage}` });
    expect(notADatabase.code).toBe(1);
    expect(notADatabase.stderr.trim()).toMatch(/^cannot open SQLite database .*garbage\.db: the file is damaged \(file is not a database\): stop steppewatch, then restore the file from a backup/u);

    // A database whose pages past the header were overwritten: found when it is opened.
    const damaged = join(dir, 'damaged.db');
    expect((await runCli(['once', '--config', config], { ...env(), DATABASE_URL: `sqlite:${damaged}` })).code).toBe(0);
    const bytes = readFileSync(damaged);
    randomBytes(bytes.length - 8192).copy(bytes, 8192);
    writeFileSync(damaged, bytes);
    const broken = await runCli(['once', '--config', config], { ...env(), DATABASE_URL: `sqlite:${damaged}` });
    expect(broken.code).toBe(1);
    expect(broken.stderr.trim()).toMatch(/^cannot open SQLite database .*damaged\.db: the file is damaged \((database disk image is malformed|file is not a database)\): stop steppewatch/u);
  });
});
