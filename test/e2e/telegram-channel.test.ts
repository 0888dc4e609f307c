// A public Telegram channel as a source, end to end: the real built CLI reads the channel's web
// preview from a local server (TELEGRAM_PREVIEW_ROOT) and alerts through the fake Bot API.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { logLines, runCli } from '../support/cli.js';
import { FakeTelegram, FAKE_TOKEN } from '../support/fake-telegram.js';
import { FeedServer } from '../support/feed-server.js';

const CHANNEL = 'steppewatch_demo';
const FIXTURE = readFileSync(new URL('../fixtures/telegram/channel-preview.html', import.meta.url), 'utf8');
const DISABLED = readFileSync(new URL('../fixtures/telegram/preview-disabled.html', import.meta.url), 'utf8');

let feeds: FeedServer;
let telegram: FakeTelegram;
let dir: string;

/** The saved page with its posts dated the last hour (the fixture's are from January 2022: past the backlog window). */
function recentPage(html = FIXTURE): string {
  let minutesAgo = 60;
  return html.replace(/datetime="[^"]+"/gu, () => `datetime="${new Date(Date.now() - (minutesAgo -= 5) * 60_000).toISOString()}"`);
}

function servePage(html: string): void {
  feeds.set(`/s/${CHANNEL}`, { body: html, contentType: 'text/html; charset=utf-8' });
}

function writeConfig(extraFeeds = ''): string {
  const file = join(dir, 'steppewatch.yaml');
  writeFileSync(
    file,
    `feeds:
  - telegram: ${CHANNEL}
${extraFeeds}channels:
  - chat: "@kz_alerts"
    watchlists: [kazakhstan-unrest]
`,
  );
  return file;
}

function env(): Record<string, string> {
  return {
    DATABASE_URL: `sqlite:${join(dir, 'state.db')}`,
    TELEGRAM_BOT_TOKEN: FAKE_TOKEN,
    TELEGRAM_API_ROOT: telegram.apiRoot,
    TELEGRAM_PREVIEW_ROOT: feeds.url,
  };
}

beforeEach(async () => {
  feeds = await new FeedServer().start();
  telegram = await new FakeTelegram().start();
  dir = mkdtempSync(join(tmpdir(), 'steppewatch-e2e-telegram-'));
});

afterEach(async () => {
  await feeds.stop();
  await telegram.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('a Telegram channel as a source', () => {
  it('alerts on the channel’s posts with their t.me links, and sends nothing new on a second run', async () => {
    servePage(recentPage());
    const config = writeConfig();
    const first = await runCli(['once', '--config', config], env());
    expect(first.code).toBe(0);
    expect(logLines(first.stderr).filter((line) => line.msg === 'feed skipped')).toEqual([]);
    // The protest (ru) and the state of emergency (kk, ar) match kazakhstan-unrest; the airport
    // update does not, and the photo and the video have no text.
    const texts = telegram.messages.map((m) => m.text);
    expect(texts.map((text) => /href="(https:\/\/t\.me\/[^"]+)"/u.exec(text)?.[1])).toEqual([4101, 4103, 4104].map((id) => `https://t.me/${CHANNEL}/${id}`));
    expect(texts[0]).toContain('В Алматы протестующие вышли на площадь Республики');
    expect(texts[1]).toContain('Алматыда төтенше жағдай енгізілді');
    expect(texts[2]).toContain('إعلان حالة الطوارئ في ألماتي');
    // The source is named by the channel's title.
    for (const text of texts) expect(text).toContain('<i>Steppe News Almaty</i>');
    // Links lead to t.me, never to the address the page was read from.
    expect(texts.join('\n')).not.toContain('127.0.0.1');
    const sent = telegram.messages.length;

    const second = await runCli(['once', '--config', config], env());
    expect(second.code).toBe(0);
    expect(telegram.messages).toHaveLength(sent);
  });

  it('alerts once on a post added since the last run', async () => {
    servePage(recentPage());
    const config = writeConfig();
    await runCli(['once', '--config', config], env());
    const before = telegram.messages.length;

    const post = `<div class="tgme_widget_message_wrap js-widget_message_wrap"><div class="tgme_widget_message js-widget_message" data-post="${CHANNEL}/4107"><div class="tgme_widget_message_bubble"><div class="tgme_widget_message_text js-message_text" dir="auto">В Жанаозене объявлено чрезвычайное положение<br/>Токаев ввёл режим ЧП в Мангистауской области.</div><div class="tgme_widget_message_footer"><span class="tgme_widget_message_meta"><a class="tgme_widget_message_date" href="https://t.me/${CHANNEL}/4107"><time datetime="${new Date().toISOString()}" class="time">now</time></a></span></div></div></div></div>`;
    servePage(recentPage().replace('</section>\n    </main>', `${post}\n      </section>\n    </main>`));
    await runCli(['once', '--config', config], env());
    await runCli(['once', '--config', config], env());
    const added = telegram.messages.slice(before);
    expect(added).toHaveLength(1);
    expect(added[0]?.text).toContain('В Жанаозене объявлено чрезвычайное положение');
    expect(added[0]?.text).toContain(`href="https://t.me/${CHANNEL}/4107"`);
    // The newest page holds posts seen before: no older page is asked for.
    expect(feeds.requests.filter((request) => request.path.includes('?before='))).toEqual([]);
  });

  it('a channel that posted more than one page since the last run: the older page is read too, no gap', async () => {
    servePage(recentPage());
    const config = writeConfig();
    await runCli(['once', '--config', config], env());
    const before = telegram.messages.length;

    const post = (id: number, text: string) =>
      `<div class="tgme_widget_message_wrap"><div class="tgme_widget_message" data-post="${CHANNEL}/${id}"><div class="tgme_widget_message_text js-message_text">${text}</div><a class="tgme_widget_message_date" href="https://t.me/${CHANNEL}/${id}"><time datetime="${new Date().toISOString()}"></time></a></div></div>`;
    const wrap = (posts: string[]) => `<html><body><section class="tgme_channel_history">${posts.join('\n')}</section></body></html>`;
    // Twenty new posts on the newest page, none about unrest; the state of emergency was posted before them.
    servePage(wrap(Array.from({ length: 20 }, (_, i) => post(5001 + i, `Погода в Астане: солнечно, ${i} градусов`))));
    feeds.set(`/s/${CHANNEL}?before=5001`, {
      body: wrap([post(4105, 'Обновление: в аэропорту Алматы отменены все рейсы до утра.'), post(4107, 'В Жанаозене объявлено чрезвычайное положение<br/>Токаев ввёл режим ЧП.')]),
      contentType: 'text/html; charset=utf-8',
    });
    feeds.requests.length = 0;
    await runCli(['once', '--config', config], env());
    expect(feeds.requests.map((request) => request.path)).toEqual([`/s/${CHANNEL}`, `/s/${CHANNEL}?before=5001`]);
    const added = telegram.messages.slice(before);
    expect(added).toHaveLength(1);
    expect(added[0]?.text).toContain(`href="https://t.me/${CHANNEL}/4107"`);
  });

  it('a channel whose preview is disabled is skipped with a clear reason and backs off', async () => {
    servePage(recentPage());
    feeds.set('/s/closed_channel', { body: '', status: 302, headers: { location: '/closed_channel' } });
    feeds.set('/closed_channel', { body: DISABLED, contentType: 'text/html; charset=utf-8' });
    const config = writeConfig('  - telegram: closed_channel\n');

    const first = await runCli(['once', '--config', config], env());
    expect(first.code).toBe(0);
    const skipped = logLines(first.stderr).filter((line) => line.msg === 'feed skipped');
    expect(skipped.map((line) => [line.feed, line.error])).toEqual([
      [
        `${feeds.url}/s/closed_channel`,
        `Telegram channel @closed_channel: its web preview is not available (the preview page redirected to ${feeds.url}/closed_channel); the channel may have disabled the preview, been renamed or deleted`,
      ],
    ]);
    // The working channel still alerted.
    expect(telegram.messages.length).toBeGreaterThan(0);

    // Backing off: the next run does not ask the closed channel again yet.
    feeds.requests.length = 0;
    const second = await runCli(['once', '--config', config], env());
    expect(second.code).toBe(0);
    expect(feeds.requests.map((request) => request.path)).toEqual([`/s/${CHANNEL}`]);
  });
});
