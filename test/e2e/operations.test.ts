// `steppewatch run` as an operator meets it: health and metrics over HTTP, signals, reloads,
// logs. The real CLI as a child process, against a local feed server and a fake Bot API.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { followCli, freePort, runCli, type FollowedCli } from '../support/cli.js';
import { FakeTelegram, FAKE_TOKEN } from '../support/fake-telegram.js';
import { FeedServer, rss } from '../support/feed-server.js';

let feeds: FeedServer;
let telegram: FakeTelegram;
let dir: string;
let running: FollowedCli | null;

beforeEach(async () => {
  feeds = await new FeedServer().start();
  telegram = await new FakeTelegram().start();
  dir = mkdtempSync(join(tmpdir(), 'steppewatch-ops-'));
  running = null;
});
afterEach(async () => {
  if (running && running.child.exitCode === null) {
    running.child.kill('SIGKILL');
    await running.exited;
  }
  await feeds.stop();
  await telegram.stop();
  rmSync(dir, { recursive: true, force: true });
});

const CHAT = '-1001234567890';
const protest = (guid: string, title: string) => rss('Лента', [{ title, guid, link: `https://ru.example.test/${guid}`, minutesAgo: 3 }]);

function writeConfig(paths: string[], extra = ''): string {
  const file = join(dir, 'steppewatch.yaml');
  writeFileSync(
    file,
    `feeds:\n${paths.map((p) => `  - url: ${feeds.url}${p}\n`).join('')}channels:\n  - chat: "${CHAT}"\n    watchlists: [kazakhstan-unrest]\n${extra}`,
  );
  return file;
}

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: `sqlite:${join(dir, 'state.db')}`,
    TELEGRAM_BOT_TOKEN: FAKE_TOKEN,
    TELEGRAM_API_ROOT: telegram.apiRoot,
    ...extra,
  };
}

const msgIs = (msg: string) => (line: Record<string, unknown>) => line.msg === msg;

/** Every line on stderr is a JSON log line (no TTY), and none holds the token. */
function expectCleanLogs(stderr: string): void {
  expect(stderr).not.toContain(FAKE_TOKEN);
  expect(stderr.split('\n').filter((line) => line !== '' && !line.startsWith('{'))).toEqual([]);
}

describe('steppewatch run, operated', () => {
  it('serves /healthz, /readyz and /metrics while it runs, and its counters move after a cycle', async () => {
    feeds.set('/ru.xml', protest('r1', 'Митинг в Алматы разогнан полицией'));
    const config = writeConfig(['/ru.xml']);
    const port = await freePort();
    running = followCli(['run', '--config', config], env({ HTTP_PORT: String(port) }));
    const base = `http://127.0.0.1:${port}`;
    const listening = await running.waitForLog(msgIs('health server listening (/healthz, /readyz, /metrics)'));
    expect(listening).toMatchObject({ host: '127.0.0.1', port });
    await running.waitForLog(msgIs('cycle finished'));

    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ ready: true, cycleRunning: false });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    for (const line of [
      'steppewatch_cycles_total{outcome="ok"} 1',
      'steppewatch_items_total{stage="matched"} 1',
      'steppewatch_stories_total 1',
      'steppewatch_alerts_sent_total 1',
      'steppewatch_outbox_depth 0',
      'steppewatch_feeds{state="ok"} 1',
    ]) {
      expect(metrics).toContain(line);
    }
    expect(telegram.messages.map((m) => m.chat_id)).toEqual([CHAT]);

    running.child.kill('SIGTERM');
    expect(await running.exited).toBe(0);
    expectCleanLogs(running.stderr());
  });

  it('on SIGTERM during a slow cycle exits 0 within its bound; what it had not polled alerts on the next run, once', async () => {
    feeds.set('/fast.xml', protest('fast-1', 'Митинг в Алматы разогнан полицией'));
    feeds.set('/slow.xml', { body: protest('slow-1', 'Взрыв в Астане: объявлено чрезвычайное положение'), delayMs: 60_000 });
    const config = writeConfig(['/fast.xml', '/slow.xml'], 'shutdown:\n  grace: 2s\n');
    running = followCli(['run', '--config', config], env({ LOG_LEVEL: 'debug' }));
    await Promise.all([feeds.requested('/slow.xml'), running.waitForLog((l) => l.msg === 'feed processed' && String(l.feed).endsWith('/fast.xml'))]);

    const signalled = Date.now();
    running.child.kill('SIGTERM');
    expect(await running.exited).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(2_000 + 1_500);
    // The fast feed's alert went out in the last sends.
    expect(telegram.messages.map((m) => m.text)).toEqual([expect.stringContaining('Митинг в Алматы')]);
    expectCleanLogs(running.stderr());

    feeds.set('/slow.xml', protest('slow-1', 'Взрыв в Астане: объявлено чрезвычайное положение'));
    const next = await runCli(['once', '--config', config], env());
    expect(next.code).toBe(0);
    expect(telegram.messages.map((m) => m.text)).toEqual([expect.stringContaining('Митинг в Алматы'), expect.stringContaining('Взрыв в Астане')]);
  });

  it('exits at once (130) on a second signal while the first waits for a slow cycle', async () => {
    feeds.set('/slow.xml', { body: protest('slow-1', 'Взрыв в Астане'), delayMs: 60_000 });
    const config = writeConfig(['/slow.xml'], 'shutdown:\n  grace: 60s\n');
    running = followCli(['run', '--config', config], env());
    await feeds.requested('/slow.xml');
    running.child.kill('SIGTERM');
    await running.waitForLog(msgIs('stopping'));
    const signalled = Date.now();
    running.child.kill('SIGINT');
    expect(await running.exited).toBe(130);
    expect(Date.now() - signalled).toBeLessThan(1_500);
    expect(running.stderr()).toContain('second signal: exiting now');
  });

  it('keeps the config in use when a reload brings a broken one, and takes a good one without a restart', async () => {
    feeds.set('/a.xml', rss('A', []));
    feeds.set('/b.xml', protest('b-1', 'Митинг в Алматы разогнан полицией'));
    // Every feed on every tick (not at its adaptive pace): each cycle asks /a.xml again.
    const config = writeConfig(['/a.xml'], 'schedule: "* * * * * *"\npolling:\n  adaptive: false\n');
    running = followCli(['run', '--config', config], env());
    await running.waitForLog(msgIs('cycle finished'));

    // A broken file: noticed on its own, and again on SIGHUP; the old config stays.
    writeFileSync(config, 'schedule: "* * * * * *"\nfeeds: []\n');
    const rejected = await running.waitForLog(msgIs('new config rejected; the one in use stays'));
    expect(rejected).toMatchObject({ trigger: 'file changed', problems: [`${config}: feeds: list at least one feed`] });
    let mark = running.logCount();
    running.child.kill('SIGHUP');
    expect(await running.waitForLog(msgIs('new config rejected; the one in use stays'), mark)).toMatchObject({ trigger: 'SIGHUP' });
    mark = running.logCount();
    expect(await running.waitForLog(msgIs('cycle finished'), mark)).toMatchObject({ feeds: { unchanged: 1 } });

    // A good one: the new feed is polled from the next cycle on, the queue untouched.
    const delivered = new Promise<void>((resolve) => (telegram.onDelivered = () => resolve()));
    writeConfig(['/a.xml', '/b.xml'], 'schedule: "* * * * * *"\npolling:\n  adaptive: false\n');
    expect(await running.waitForLog(msgIs('config reloaded; the next cycle uses it'))).toMatchObject({ trigger: 'file changed', feeds: 2 });
    await delivered;
    expect(telegram.messages.map((m) => m.text)).toEqual([expect.stringContaining('Митинг в Алматы')]);

    running.child.kill('SIGTERM');
    expect(await running.exited).toBe(0);
    expectCleanLogs(running.stderr());
  });

  it('run and a once beside it on one SQLite database: one of them sends, each alert goes once, no fight over 429s', async () => {
    feeds.set('/ru.xml', protest('r1', 'Митинг в Алматы разогнан полицией'));
    const config = writeConfig(['/ru.xml'], 'schedule: "0 0 1 1 *"\n');
    running = followCli(['run', '--config', config], env({ HTTP_PORT: '0' }));
    await running.waitForLog(msgIs('cycle finished'));
    const first = telegram.messages.length;
    expect(first).toBe(1);

    // New items while the worker waits for its next tick: a once queues them, the worker (the sender) sends them.
    feeds.set(
      '/ru.xml',
      rss('Лента', [
        { title: 'Митинг в Алматы разогнан полицией', guid: 'r1', link: 'https://ru.example.test/r1', minutesAgo: 3 },
        { title: 'В Шымкенте задержаны участники акции протеста', guid: 'r2', link: 'https://ru.example.test/r2', minutesAgo: 2 },
        { title: 'В Актобе введён комендантский час после беспорядков', guid: 'r3', link: 'https://ru.example.test/r3', minutesAgo: 1 },
      ]),
    );
    const once = await runCli(['once', '--config', config], env());
    expect(once.code, once.stderr).toBe(0);
    const titles = telegram.messages.map((m) => m.text.split('\n')[0]);
    expect(titles).toHaveLength(3);
    expect(new Set(titles).size).toBe(3);
    expect(telegram.calls.filter((c) => c.method === 'sendMessage' && c.status === 429)).toEqual([]);

    running.child.kill('SIGTERM');
    expect(await running.exited).toBe(0);
  });

  it('never writes the token to its logs, even at trace level while Telegram fails', async () => {
    feeds.set('/ru.xml', protest('r1', 'Митинг в Алматы разогнан полицией'));
    telegram.down = true;
    const config = writeConfig(['/ru.xml'], 'shutdown:\n  grace: 1s\n');
    running = followCli(['run', '--config', config], env({ LOG_LEVEL: 'trace' }));
    await running.waitForLog(msgIs('alert not delivered yet; will retry'));
    await running.waitForLog(msgIs('getUpdates failed; retrying'));
    running.child.kill('SIGTERM');
    expect(await running.exited).toBe(0);
    expectCleanLogs(running.stderr());
  });

  it("keeps the token out of telegraf's own DEBUG output", async () => {
    feeds.set('/ru.xml', protest('r1', 'Митинг в Алматы разогнан полицией'));
    telegram.userSays({ id: 1001, type: 'private' }, 1001, '/help');
    const config = writeConfig(['/ru.xml']);
    const once = await runCli(['once', '--config', config], env({ DEBUG: '*' }));
    expect(once.code, once.stderr).toBe(0);
    expect(once.stderr).toContain('telegraf:client');
    expect(once.stderr).not.toContain(FAKE_TOKEN);
    expect(once.stderr).not.toContain(FAKE_TOKEN.split(':')[1]);
  });

  it('refuses to start when its health port is taken', async () => {
    const port = await freePort();
    const blocker = await import('node:http').then(({ createServer }) => createServer());
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    try {
      const result = await runCli(['run', '--config', writeConfig(['/ru.xml'])], env({ HTTP_PORT: String(port) }));
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`health server: 127.0.0.1:${port} is in use; set HTTP_PORT (0 turns the server off) or HTTP_HOST`);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});
