// The operator page as an operator meets it, in headless Chromium: the real CLI (`once`, then
// `run` with http.page) against the local feed server and the fake Bot API, then the page read
// the way a person reads it. One feed fails, two outlets report one story in two languages, a
// hostile feed names itself with markup, and a subscriber's private chat takes alerts too.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserMissing, launchBrowser } from '../support/browser.js';
import { followCli, freePort, runCli, type FollowedCli } from '../support/cli.js';
import { FakeTelegram, FAKE_TOKEN } from '../support/fake-telegram.js';
import { FeedServer, rss } from '../support/feed-server.js';

const missing = browserMissing();

const USER = 'operator';
const PASSWORD = 'correct horse battery staple';
const CHANNEL = '@kz_alerts';
const SUBSCRIBER = 5551234;
// Ingestion strips markup from feed text, but not an unclosed tag: what is left reaches the page as text.
const HOSTILE = 'Лента <img src=x onerror=window.pwned=1//';

const RESIGNATION = {
  en: { title: 'Kazakh government resigns after fuel price protests', link: 'https://reuters.example.test/kazakh-government-resigns', guid: 'r1', minutesAgo: 60, description: "President Tokayev accepted the government's resignation on Wednesday after protests over a fuel price increase." },
  ru: { title: 'Токаев принял отставку правительства Казахстана', link: 'https://tass.example.test/13360001', guid: 't1', minutesAgo: 30, description: 'Президент Казахстана Касым-Жомарт Токаев принял отставку правительства на фоне протестов из-за цен на топливо.' },
};
const EXPLOSION = { title: 'Взрыв в Астане: объявлено чрезвычайное положение', link: 'https://lenta.example.test/astana-blast', guid: 'l1', minutesAgo: 10, description: 'В Астане прогремел взрыв, в городе объявлено чрезвычайное положение.' };

describe('the operator page, refused', () => {
  it('will not serve the page beyond loopback without a password: run and check-config exit 1 naming http.auth', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'steppewatch-page-refused-'));
    try {
      const config = join(dir, 'steppewatch.yaml');
      writeFileSync(config, 'feeds:\n  - url: http://127.0.0.1:9/rss.xml\nhttp:\n  page: true\n');
      const env = { DATABASE_URL: `sqlite:${join(dir, 'state.db')}`, HTTP_HOST: '0.0.0.0', HTTP_PORT: String(await freePort()) };
      const message = `${config}: http.auth: is needed: http.page is on and the server listens on 0.0.0.0, beyond this machine`;
      for (const command of ['run', 'check-config']) {
        const result = await runCli([command, '--config', config], env);
        expect(result.code, command).toBe(1);
        expect(result.stderr, command).toContain(message);
      }
      // With credentials from the environment, check-config says who may see it (never the password).
      const allowed = await runCli(['check-config', '--config', config], { ...env, HTTP_AUTH_USER: 'ops', HTTP_AUTH_PASSWORD: 'twelve chars or more' });
      expect(allowed.code).toBe(0);
      expect(allowed.stdout).toMatch(/page: {7}http:\/\/0\.0\.0\.0:\d+\/ \(basic auth for ops, from HTTP_AUTH_USER and HTTP_AUTH_PASSWORD\)/u);
      expect(allowed.stdout).not.toContain('twelve chars');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(missing !== null)('the operator page, in Chromium', () => {
  let feeds: FeedServer;
  let telegram: FakeTelegram;
  let dir: string;
  let running: FollowedCli;
  let browser: Browser;
  let signedIn: BrowserContext;
  let base: string;

  beforeAll(async () => {
    feeds = await new FeedServer().start();
    telegram = await new FakeTelegram().start();
    dir = mkdtempSync(join(tmpdir(), 'steppewatch-page-'));
    feeds.set('/reuters.xml', rss('Reuters', [RESIGNATION.en]));
    feeds.set('/tass.xml', rss('ТАСС', [RESIGNATION.ru]));
    feeds.set('/hostile.xml', rss(HOSTILE, [EXPLOSION]));
    feeds.set('/broken.xml', { body: 'upstream down', status: 500, contentType: 'text/plain' });
    const config = join(dir, 'steppewatch.yaml');
    writeFileSync(
      config,
      `feeds:
  - { url: "${feeds.url}/reuters.xml", name: Reuters, language: en }
  - { url: "${feeds.url}/tass.xml", name: ТАСС, language: ru }
  - { url: "${feeds.url}/hostile.xml" }
  - { url: "${feeds.url}/broken.xml", name: Broken }
channels:
  - chat: "${CHANNEL}"
    watchlists: [kazakhstan-unrest]
delivery:
  max_wait: 20s
http:
  page: true
  auth: { user: ${USER}, password: "${PASSWORD}" }
`,
    );
    const env = { DATABASE_URL: `sqlite:${join(dir, 'state.db')}`, TELEGRAM_BOT_TOKEN: FAKE_TOKEN, TELEGRAM_API_ROOT: telegram.apiRoot };
    // A subscriber's private chat follows the preset through the bot; `once` reads the command first.
    telegram.userSays({ id: SUBSCRIBER, type: 'private' }, SUBSCRIBER, '/subscribe kazakhstan-unrest');
    const cycle = await runCli(['once', '--config', config], env);
    expect(cycle.code, cycle.stderr).toBe(0);
    const port = await freePort();
    running = followCli(['run', '--config', config], { ...env, HTTP_PORT: String(port) });
    await running.waitForLog((line) => line.msg === 'cycle finished');
    base = `http://127.0.0.1:${port}`;
    browser = await launchBrowser();
    signedIn = await browser.newContext({ httpCredentials: { username: USER, password: PASSWORD }, locale: 'en-GB' });
  });

  afterAll(async () => {
    await browser?.close();
    if (running && running.child.exitCode === null) {
      running.child.kill('SIGTERM');
      await running.exited;
    }
    await feeds?.stop();
    await telegram?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists the feeds, the failing one marked with its error', async () => {
    const page = await signedIn.newPage();
    const response = await page.goto(`${base}/`);
    expect(response?.status()).toBe(200);
    const rows = page.locator('#feeds tbody tr');
    expect(await rows.count()).toBe(4);
    const broken = page.locator('#feeds tr[data-health="failing"]');
    expect(await broken.count()).toBe(1);
    // The one to look at comes first.
    expect(await rows.first().getAttribute('data-health')).toBe('failing');
    expect(await broken.locator('.name').textContent()).toBe('Broken');
    expect(await broken.textContent()).toContain('failing since');
    expect(await broken.locator('.error').textContent()).toContain('500');
    expect(await page.locator('#feeds tr[data-health="ok"]').count()).toBe(3);
    expect(await page.locator('#feeds').textContent()).toContain('3 ok, 1 failing, 0 not polled yet');
  });

  it('plots a point for every alert sent, under the channel\'s watchlist and the subscribers\'', async () => {
    const page = await signedIn.newPage();
    await page.goto(`${base}/`);
    const channelAlerts = telegram.sentTo(CHANNEL).length;
    expect(channelAlerts).toBe(2);
    const points = page.locator('svg.plot circle.point');
    expect(await points.count()).toBeGreaterThan(0);
    const counted = await Promise.all((await points.all()).map(async (point) => [await point.getAttribute('data-series'), Number(await point.getAttribute('data-count'))] as const));
    const total = (series: string) => counted.filter(([name]) => name === series).reduce((sum, [, n]) => sum + n, 0);
    expect(total('kazakhstan-unrest')).toBe(channelAlerts);
    expect(total('subscribers')).toBe(2);
    // Each dot says what it counts when pointed at, without a script.
    expect(await points.first().locator('title').textContent()).toMatch(/^(kazakhstan-unrest|subscribers' own watchlists), \d{4}-\d\d-\d\d \d\d:\d\d: [12]$/u);
    expect(await page.locator('table.legend tr[data-series="kazakhstan-unrest"] td.number').allTextContents()).toEqual(['2', '2']);
    expect(await page.locator('#delivery tr[data-count="sent"] td.number').first().textContent()).toBe(String(telegram.messages.length - 1));
    expect(await page.locator('#delivery tr[data-count="pending"] td.number').textContent()).toBe('0');
  });

  it('shows a story with the reports folded into it and where its alert went, never naming a subscriber', async () => {
    const page = await signedIn.newPage();
    await page.goto(`${base}/`);
    const story = page.locator('article.story', { hasText: 'Kazakh government resigns' });
    expect(await story.count()).toBe(1);
    const reports = await Promise.all((await story.locator('tr.report').all()).map((row) => row.locator('td').allTextContents()));
    expect(reports.map((cells) => [cells[0], cells[1], cells[3]?.trim()])).toEqual([
      ['Reuters', 'en', 'reuters.example.test'],
      ['ТАСС', 'ru', 'tass.example.test'],
    ]);
    const went = await story.locator('ul.went li').allTextContents();
    expect(went[0]).toMatch(new RegExp(`^${CHANNEL}: sent \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d$`, 'u'));
    expect(went).toContain("subscribers' chats: 1 sent, 0 queued, 0 not delivered");
    const markup = await page.content();
    expect(markup).not.toContain(String(SUBSCRIBER));
    expect(markup).not.toContain(FAKE_TOKEN);
    expect(markup).not.toContain(PASSWORD);
  });

  it('shows a hostile feed title as text: no markup, no script', async () => {
    const page = await signedIn.newPage();
    const dialogs: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    await page.goto(`${base}/`);
    const name = await page.locator('#feeds tbody tr', { hasText: '/hostile.xml' }).locator('.name').textContent();
    expect(name).toMatch(/^Лента <img src=x/u);
    const outlet = page.locator('article.story', { hasText: 'Взрыв в Астане' }).locator('tr.report td').first();
    expect(await outlet.textContent()).toBe(name);
    expect(await page.locator('main script, main img').count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as { pwned?: number }).pwned)).toBeUndefined();
    expect(dialogs).toEqual([]);
  });

  it('finds a link\'s decision from the search box: the same answer as /why', async () => {
    const page = await signedIn.newPage();
    await page.goto(`${base}/`);
    await page.fill('#why-link', RESIGNATION.ru.link);
    await Promise.all([page.waitForURL(/\/why\?/u), page.click('form.search button')]);
    const answer = (await page.locator('.decision p').allTextContents()).join('\n');
    expect(answer).toMatch(/^Seen in ТАСС at \d{4}-\d\d-\d\d \d\d:\d\d \(UTC\)\./u);
    // The subscriber's own watchlist is counted, not named.
    expect(answer).toMatch(/It matched kazakhstan-unrest, other chats' watchlists: 1 and was folded into story #\d+, first reported as “Kazakh government resigns after fuel price protests”\./u);
    expect(answer).toMatch(new RegExp(`${CHANNEL}: This chat got story #\\d+ at .* from another report: https://reuters.example.test/kazakh-government-resigns`, 'u'));
    expect(answer).toContain("a subscriber's chat (1): ");
    expect(answer).not.toContain(String(SUBSCRIBER));
    // The CLI's record of the same link says the same for the channel.
    const cli = await runCli(['why', RESIGNATION.ru.link, '--config', join(dir, 'steppewatch.yaml')], { DATABASE_URL: `sqlite:${join(dir, 'state.db')}` });
    expect(cli.code).toBe(0);
    const channelLine = cli.stdout.split('\n').find((line) => line.startsWith(`${CHANNEL}: `));
    expect(answer.split('\n')).toContain(channelLine);
    await page.fill('#why-link', 'https://nowhere.example.test/never-seen');
    await Promise.all([page.waitForURL(/never-seen/u), page.click('form.search button')]);
    expect(await page.locator('.decision').textContent()).toContain('I have not seen that link in any feed');
  });

  it('refuses a wrong password and no password, and sends its security headers', async () => {
    const wrong = await browser.newContext({ httpCredentials: { username: USER, password: 'not the password' } });
    const page = await wrong.newPage();
    const refused = await page.goto(`${base}/`);
    expect(refused?.status()).toBe(401);
    expect(await page.content()).not.toContain('Feeds');
    await wrong.close();
    const anonymous = await fetch(`${base}/`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Basic realm=/u);
    // Health and metrics stay open to probes and scrapers.
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ok = await signedIn.newPage();
    const response = await ok.goto(`${base}/`);
    const headers = response?.headers() ?? {};
    expect(headers['content-security-policy']).toContain("default-src 'none'");
    expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(headers['x-frame-options']).toBe('DENY');
    expect(headers['x-content-type-options']).toBe('nosniff');
  });

  it('speaks the operator\'s language: Russian from the browser, Arabic right to left on request', async () => {
    const russian = await browser.newContext({ httpCredentials: { username: USER, password: PASSWORD }, locale: 'ru-RU' });
    const page = await russian.newPage();
    await page.goto(`${base}/`);
    expect(await page.locator('#feeds h2').textContent()).toBe('Ленты');
    expect(await page.locator('html').getAttribute('lang')).toBe('ru');
    await page.click('.languages a[lang="ar"]');
    expect(await page.locator('html').getAttribute('dir')).toBe('rtl');
    expect(await page.locator('#feeds h2').textContent()).toBe('المصادر');
    await russian.close();
  });
});
