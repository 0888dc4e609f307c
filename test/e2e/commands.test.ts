// `run`, `demo` and `check-config` as a user meets them.

import { mkdtempSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { logLines, ROOT, runCli, startCli } from '../support/cli.js';
import { FakeTelegram, FAKE_TOKEN } from '../support/fake-telegram.js';
import { FeedServer, rss } from '../support/feed-server.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'steppewatch-cmd-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('steppewatch demo', () => {
  it('prints the seed story and the other unrest alerts, and nothing that must not match', async () => {
    const result = await runCli(['demo']);
    expect(result.code).toBe(0);
    const alerts = result.stdout.split('── alert → ').slice(1);
    const titles = alerts.map((a) => a.split('\n')[1]);
    // Feeds are fetched concurrently: alerts come in the order the feeds answer.
    expect(titles.sort()).toEqual(
      [
        'دوي انفجارات في ألما آتا ورائحة كيميائية في الهواء',
        'В Алматы объявлен комендантский час после беспорядков',
        'Жаңаөзенде наразылық акциясы жалғасуда',
        'CSTO troops take control of Almaty airport',
      ].sort(),
    );
    expect(result.stdout).not.toMatch(/Paris|Париж|apples|كرة القدم|футбол|Tenge|ауа райы/iu);
    expect(result.stdout).toContain('1 repeat reports folded into earlier alerts');
  });
});

describe('steppewatch check-config', () => {
  it('accepts the shipped default config without any environment', async () => {
    const result = await runCli(['check-config']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('config/steppewatch.yaml: OK');
    expect(result.stdout).toMatch(/feeds: +1\d/u);
  });

  it('reports every problem as FILE: path: what is wrong', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(
      file,
      `schedule: "every five minutes"
feeds:
  - url: https://example.test/rss
watchlists:
  broken: 'almaty AND (protest'
channels:
  - chat: "\${NOT_SET_ANYWHERE_X:-@fallback_chan}"
    watchlists: [broken, nosuch]
`,
    );
    const result = await runCli(['check-config', '--config', file]);
    expect(result.code).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^${file}: schedule: "every five minutes" is not a cron expression`, 'u')));
    expect(lines).toContainEqual(`${file}: watchlists.broken: expected ")" to close the "(" at position 12, found end of query at position 20`);
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^${file}: channels.0.watchlists.1: unknown watchlist "nosuch"`, 'u')));
  });
});

describe('steppewatch inspect', () => {
  it('prints one JSON line per item from files and URLs, one for an empty feed, one per failure', async () => {
    const feeds = await new FeedServer().start();
    try {
      const url = feeds.set('/ru.xml', rss('Лента', [{ title: 'Протест в Алматы', guid: 'g1', link: 'https://ru.example.test/1', minutesAgo: 60, description: '<p>Текст &amp; ещё</p>' }]));
      const empty = join(dir, 'empty.xml');
      writeFileSync(empty, '<rss version="2.0"><channel><title>Empty</title></channel></rss>');
      const result = await runCli(['inspect', '--json', url, empty, join(dir, 'missing.xml')]);
      expect(result.code).toBe(0);
      const lines = result.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines).toHaveLength(3);
      expect(lines[0]).toMatchObject({
        source: url,
        feed: { title: 'Лента', link: 'https://example.test/', language: null, charset: 'utf-8', format: 'rss' },
        index: 0,
        title: 'Протест в Алматы',
        link: 'https://ru.example.test/1',
        guid: 'g1',
        published: expect.stringMatching(/^\d{4}-\d\d-\d\dT/u) as unknown,
        author: null,
        language: 'ru',
        text: 'Текст & ещё',
      });
      expect(lines[1]).toMatchObject({ source: empty, index: null, feed: { title: 'Empty' } });
      expect(lines[2]).toMatchObject({ source: join(dir, 'missing.xml'), error: expect.stringContaining('no such file') as unknown });
    } finally {
      await feeds.stop();
    }
  });

  it('reads the whole fixture corpus in one call, a line or more per document', async () => {
    const corpus = join(ROOT, 'test', 'fixtures', 'feeds');
    const documents = readdirSync(corpus).filter((f) => /\.(xml|json|bin)$/u.test(f) && !f.endsWith('.expected.json'));
    const result = await runCli(['inspect', '--json', ...documents.map((d) => join(corpus, d))]);
    expect(result.code).toBe(0);
    const sources = new Set(
      result.stdout
        .trim()
        .split('\n')
        .map((line) => (JSON.parse(line) as { source: string }).source),
    );
    expect(sources.size).toBe(documents.length);
  });

  it('exits 1 when every source fails', async () => {
    const result = await runCli(['inspect', join(dir, 'nothing.xml')]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('error:');
  });

  it('refuses a file over the byte cap, or one that is not a file, without reading it', async () => {
    const big = join(dir, 'big.xml');
    writeFileSync(big, '');
    truncateSync(big, 64 * 1024 * 1024);
    const result = await runCli(['inspect', '--json', big, '/dev/zero']);
    expect(result.code).toBe(1);
    expect(result.stdout.trim().split('\n').map((line) => JSON.parse(line) as unknown)).toEqual([
      { source: big, error: 'file of 67108864 bytes exceeds the cap of 10485760' },
      { source: '/dev/zero', error: 'not a regular file' },
    ]);
  });
});

describe('steppewatch run', () => {
  let feeds: FeedServer;
  let telegram: FakeTelegram;
  beforeEach(async () => {
    feeds = await new FeedServer().start();
    telegram = await new FakeTelegram().start();
  });
  afterEach(async () => {
    await feeds.stop();
    await telegram.stop();
  });

  it('polls at start, delivers, and stops cleanly on SIGTERM', async () => {
    feeds.set('/feed.xml', rss('Лента', [{ title: 'Митинг в Алматы разогнан полицией', guid: 'r1', link: 'https://ru.example.test/r1', minutesAgo: 3 }]));
    const config = join(dir, 'config.yaml');
    writeFileSync(config, `feeds:\n  - url: ${feeds.url}/feed.xml\nchannels:\n  - chat: "-1001234567890"\n    watchlists: [kazakhstan-unrest]\n`);
    const child = startCli(['run', '--config', config], {
      DATABASE_URL: `sqlite:${join(dir, 'state.db')}`,
      TELEGRAM_BOT_TOKEN: FAKE_TOKEN,
      TELEGRAM_API_ROOT: telegram.apiRoot,
    });
    let stderr = '';
    const cycleDone = new Promise<void>((resolve) => {
      child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
        stderr += chunk;
        if (stderr.includes('"msg":"cycle finished"')) resolve();
      });
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    await cycleDone;
    expect(telegram.messages.map((m) => m.chat_id)).toEqual(['-1001234567890']);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(logLines(stderr).map((l) => l.msg)).toContain('stopped');
    expect(stderr).not.toContain(FAKE_TOKEN);
  });
});

describe('steppewatch explain', () => {
  it('exits 0 on a match, 1 on none, 2 on a bad query, like grep', async () => {
    const text = join(dir, 'text.txt');
    writeFileSync(text, 'Protesters gathered in Алматы on Sunday');
    const hit = await runCli(['explain', 'almaty NEAR/4 protest*', '--text', text]);
    expect(hit.code).toBe(0);
    expect(hit.stdout).toContain('result:    match (protest*, almaty)');
    expect(hit.stdout).toContain('«Алматы»');
    writeFileSync(text, 'Nothing to see here');
    expect((await runCli(['explain', 'almaty', '--text', text])).code).toBe(1);
    const bad = await runCli(['explain', 'almaty AND (protest', '--text', text]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('expected ")" to close the "(" at position 12');
    expect((await runCli(['explain', '--watchlist', 'no-such-list', '--text', text])).code).toBe(2);
  });

  it('runs a watchlist over an archive as JSON lines', async () => {
    const archive = join(dir, 'archive.jsonl');
    writeFileSync(
      archive,
      [
        JSON.stringify({ id: 1, title: 'Взрыв в Алматы', text: 'Силовики оцепили район.' }),
        JSON.stringify({ id: 2, title: 'Kairat fans celebrate in Almaty', text: 'Football fans stormed the pitch.' }),
        JSON.stringify({ id: 'x', title: 'Protest in Paris', text: '' }),
      ].join('\n'),
    );
    const result = await runCli(['explain', '--watchlist', 'kazakhstan-unrest', '--jsonl', archive]);
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: unknown; match: boolean; hits: Array<{ term: string; words: string }> });
    expect(lines.map((l) => [l.id, l.match])).toEqual([[1, true], [2, false], ['x', false]]);
    expect(lines[0]?.hits).toEqual(
      expect.arrayContaining([expect.objectContaining({ term: '@almaty', words: 'Алматы' }), expect.objectContaining({ words: 'Взрыв' })]),
    );
  });
});
