// Public Telegram channels as sources: a channel's web preview page (t.me/s/NAME) read into
// items, and the pages that are no preview (disabled, redirected, a changed layout) refused clearly.

import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config/load.js';
import { fetchFeed } from '../../src/feeds/fetch.js';
import { FeedParseError } from '../../src/feeds/parse.js';
import { readFeed } from '../../src/feeds/read.js';
import type { Item } from '../../src/feeds/item.js';
import { channelOfPreviewUrl, parseChannelPage, postTitle, withOlderPosts } from '../../src/feeds/telegram-channel.js';
import { FeedServer } from '../support/feed-server.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/telegram/${name}`, import.meta.url), 'utf8');
const CHANNEL = 'steppewatch_demo';
const PREVIEW = `https://t.me/s/${CHANNEL}`;

/** A preview page with the given posts' bodies, in the real layout. */
function page(posts: Array<{ id: number; textHtml: string; dataPost?: string }>): string {
  const wraps = posts.map(
    (post) => `<div class="tgme_widget_message_wrap js-widget_message_wrap">
  <div class="tgme_widget_message js-widget_message" data-post="${post.dataPost ?? `${CHANNEL}/${post.id}`}">
    <div class="tgme_widget_message_bubble">
      <div class="tgme_widget_message_text js-message_text" dir="auto">${post.textHtml}</div>
      <div class="tgme_widget_message_footer"><span class="tgme_widget_message_meta"><a class="tgme_widget_message_date" href="https://t.me/${CHANNEL}/${post.id}"><time datetime="2022-01-05T04:12:33+00:00" class="time">04:12</time></a></span></div>
    </div>
  </div>
</div>`,
  );
  return `<!DOCTYPE html><html><head><meta property="og:title" content="Steppe News"></head><body><main><section class="tgme_channel_history">${wraps.join('\n')}</section></main></body></html>`;
}

function parseError(run: () => unknown): FeedParseError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(FeedParseError);
    return error as FeedParseError;
  }
  throw new Error('expected a FeedParseError');
}

describe('a channel preview page', () => {
  it('gives each post with text as an item, newest first, with its post link as guid and link', () => {
    const feed = parseChannelPage(fixture('channel-preview.html'), { channel: CHANNEL, pageUrl: PREVIEW });
    expect(feed.format).toBe('telegram');
    expect(feed.title).toBe('Steppe News Almaty');
    expect(feed.link).toBe(`https://t.me/${CHANNEL}`);
    // 4102 (a photo) and 4106 (a forwarded video) have no text: nothing to match.
    expect(feed.items.map((item) => item.link)).toEqual([4105, 4104, 4103, 4101].map((id) => `https://t.me/${CHANNEL}/${id}`));
    for (const item of feed.items) {
      expect(item.guid).toBe(item.link);
      expect(item.id).toBe(item.link);
      expect(item.feedUrl).toBe(PREVIEW);
    }
    expect(feed.before).toBe(4101);
  });

  it('keeps Russian, Kazakh and Arabic text intact, lines as in the post, with dates and languages', () => {
    const feed = parseChannelPage(fixture('channel-preview.html'), { channel: CHANNEL, pageUrl: PREVIEW });
    const byId = new Map(feed.items.map((item) => [item.link?.split('/').pop(), item]));

    const russian = byId.get('4101');
    expect(russian?.title).toBe('🚨В Алматы протестующие вышли на площадь Республики');
    expect(russian?.text).toBe(
      '🚨В Алматы протестующие вышли на площадь Республики\n\nПолиция применила светошумовые гранаты. Мобильный интернет в городе отключён с утра.\n\nПодробнее на сайте',
    );
    expect(russian?.language).toBe('ru');
    expect(russian?.published?.toISOString()).toBe('2022-01-05T04:12:33.000Z');

    const kazakh = byId.get('4103');
    expect(kazakh?.title).toBe('Алматыда төтенше жағдай енгізілді');
    expect(kazakh?.text).toContain('Қала әкімдігі коменданттық сағатты 23:00-ден 07:00-ге дейін жариялады.');
    expect(kazakh?.language).toBe('kk');

    const arabic = byId.get('4104');
    expect(arabic?.title).toBe('إعلان حالة الطوارئ في ألماتي');
    expect(arabic?.text).toBe('إعلان حالة الطوارئ في ألماتي\nأعلنت السلطات في كازاخستان حالة الطوارئ في مدينة ألماتي بعد احتجاجات واسعة على ارتفاع أسعار الغاز.');
    expect(arabic?.language).toBe('ar');
  });

  it('reads a reply as its own text, not the quoted post, and a signed post with its author', () => {
    const feed = parseChannelPage(fixture('channel-preview.html'), { channel: CHANNEL, pageUrl: PREVIEW });
    const reply = feed.items.find((item) => item.link?.endsWith('/4105'));
    expect(reply?.text).toBe('Обновление: в аэропорту Алматы отменены все рейсы до утра.');
    expect(reply?.author).toBe('Айгерим Сатпаева');
  });

  it('takes the operator’s language hint over the guess', () => {
    const feed = parseChannelPage(fixture('channel-preview.html'), { channel: CHANNEL, pageUrl: PREVIEW, languageHint: 'kk' });
    expect(new Set(feed.items.map((item) => item.language))).toEqual(new Set(['kk']));
  });

  it('links posts at https://t.me whatever address the page was read from', () => {
    const feed = parseChannelPage(fixture('channel-preview.html'), { channel: CHANNEL, pageUrl: `http://127.0.0.1:9/s/${CHANNEL}?before=5000` });
    expect(feed.items.length).toBeGreaterThan(0);
    for (const item of feed.items) expect(item.link).toMatch(/^https:\/\/t\.me\/steppewatch_demo\/\d+$/u);
  });

  it('titles a long one-line post by its first sentence, bounded', () => {
    const sentence = 'В Алматы на площади Республики собрались тысячи человек, требующих снижения цен на газ.';
    const long = `${sentence} ${'Очевидцы сообщают о стрельбе в центре города. '.repeat(10)}`;
    expect(postTitle(long)).toBe(sentence);
    const noStop = 'слово '.repeat(60);
    expect(postTitle(noStop).length).toBeLessThanOrEqual(160);
    expect(postTitle(noStop).endsWith('…')).toBe(true);
    // No space to cut at: never inside an emoji (half of one is not text Telegram takes).
    const emoji = postTitle('🔥'.repeat(100));
    expect(emoji).toBe(`${'🔥'.repeat(79)}…`);
  });
});

describe('pages that are no channel preview', () => {
  it('a changed layout is a clear error, not an empty or garbled feed', () => {
    const error = parseError(() => parseChannelPage(fixture('changed-layout.html'), { channel: CHANNEL, pageUrl: PREVIEW }));
    expect(error.message).toBe(`Telegram channel @${CHANNEL}: no posts found on its preview page; the channel's web preview is disabled or the page layout changed`);
  });

  it('posts whose ids cannot be read are a layout change too', () => {
    const html = page([{ id: 1, textHtml: 'В Алматы митинг', dataPost: 'post-1' }]);
    expect(parseError(() => parseChannelPage(html, { channel: CHANNEL, pageUrl: PREVIEW })).message).toMatch(/none of them readable; the page layout changed/u);
  });

  it('the landing page of a channel whose preview is disabled says so', () => {
    const error = parseError(() => parseChannelPage(fixture('preview-disabled.html'), { channel: CHANNEL, pageUrl: PREVIEW }));
    expect(error.message).toMatch(/web preview is disabled/u);
  });

  it('a page redirected away from /s/NAME says the preview is not available', () => {
    const error = parseError(() => parseChannelPage(fixture('preview-disabled.html'), { channel: CHANNEL, pageUrl: `https://t.me/${CHANNEL}` }));
    expect(error.message).toBe(
      `Telegram channel @${CHANNEL}: its web preview is not available (the preview page redirected to https://t.me/${CHANNEL}); the channel may have disabled the preview, been renamed or deleted`,
    );
  });
});

describe('hostile markup in a post', () => {
  it('is stripped: no script, handler, javascript: URL or direction override reaches the text', () => {
    const html = page([
      { id: 1, textHtml: 'Алматы <script>alert(1)</script><img src=x onerror="alert(2)"><a href="javascript:alert(3)">жми</a> &lt;script&gt;alert(4)&lt;/script&gt; конец' },
      { id: 2, textHtml: 'ألماتي \u202Egpj.exe\u202C <iframe src="https://evil.test/"></iframe><style>body{}</style>' },
    ]);
    const feed = parseChannelPage(html, { channel: CHANNEL, pageUrl: PREVIEW });
    const text = feed.items.map((item) => `${item.title}\n${item.text}`).join('\n');
    expect(text).not.toMatch(/<script|alert\(|onerror|javascript:|<iframe|evil\.test|body\{\}|\u202E/iu);
    expect(text).toContain('Алматы');
    expect(text).toContain('конец');
    expect(text).toContain('ألماتي');
  });

  it('a post that claims another channel’s id is not taken as this channel’s', () => {
    const html = page([
      { id: 7, textHtml: 'Алматы: настоящий пост' },
      { id: 8, textHtml: 'Алматы: чужой пост', dataPost: 'someone_else/8' },
    ]);
    const feed = parseChannelPage(html, { channel: CHANNEL, pageUrl: PREVIEW });
    expect(feed.items.map((item) => item.link)).toEqual([`https://t.me/${CHANNEL}/7`]);
  });

  it('markup nested thousands deep is read up to where real pages stop nesting', () => {
    const html = page([{ id: 1, textHtml: `Алматы ${'<span>'.repeat(20_000)}глубоко${'</span>'.repeat(20_000)}` }]);
    const feed = parseChannelPage(html, { channel: CHANNEL, pageUrl: PREVIEW });
    expect(feed.items[0]?.text).toMatch(/^Алматы/u);
  });
});

describe('a channel read over HTTP', () => {
  let server: FeedServer;
  beforeEach(async () => {
    server = await new FeedServer().start();
  });
  afterEach(async () => {
    await server.stop();
  });

  const read = async (path: string) => {
    const fetched = await fetchFeed({ url: `${server.url}${path}`, timeoutMs: 5_000, maxBytes: 1_000_000 });
    if (fetched.kind !== 'ok') throw new Error('unexpected 304');
    return readFeed(fetched.body, fetched.contentType, fetched.url, undefined, CHANNEL);
  };

  it('reads the preview page into items', async () => {
    server.set(`/s/${CHANNEL}`, { body: fixture('channel-preview.html'), contentType: 'text/html; charset=utf-8' });
    const feed = await read(`/s/${CHANNEL}`);
    expect(feed.charset).toBe('utf-8');
    expect(feed.items).toHaveLength(4);
  });

  it('a preview that redirects to the channel’s page (disabled) is a clear error', async () => {
    server.set(`/s/${CHANNEL}`, { body: '', status: 302, headers: { location: `/${CHANNEL}` } });
    server.set(`/${CHANNEL}`, { body: fixture('preview-disabled.html'), contentType: 'text/html; charset=utf-8' });
    await expect(read(`/s/${CHANNEL}`)).rejects.toThrow(/web preview is not available \(the preview page redirected to http:\/\/127\.0\.0\.1:\d+\/steppewatch_demo\)/u);
  });
});

describe('older posts (?before=ID)', () => {
  let server: FeedServer;
  beforeEach(async () => {
    server = await new FeedServer().start();
  });
  afterEach(async () => {
    await server.stop();
  });

  const posts = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => ({ id: from + i, textHtml: `Алматы: сообщение ${from + i}` }));
  const serve = (path: string, ids: [number, number]) => server.set(path, { body: page(posts(...ids)), contentType: 'text/html; charset=utf-8' });
  const newest = () => parseChannelPage(page(posts(300, 319)), { channel: CHANNEL, pageUrl: `${server.url}/s/${CHANNEL}` }).items;
  const walk = (known: Set<number>, errors: string[] = []) =>
    withOlderPosts(newest(), {
      channel: CHANNEL,
      pageUrl: `${server.url}/s/${CHANNEL}`,
      feedUrl: `${server.url}/s/${CHANNEL}`,
      seen: (items: Item[]) => Promise.resolve(items.some((item) => known.has(Number(item.link?.split('/').pop())))),
      fetchPage: async (url) => {
        const fetched = await fetchFeed({ url, timeoutMs: 5_000, maxBytes: 1_000_000 });
        if (fetched.kind !== 'ok') throw new Error('unexpected 304');
        return fetched;
      },
      onError: (url, error) => errors.push(`${url}: ${error.message}`),
    });
  const ids = (items: Item[]) => items.map((item) => Number(item.link?.split('/').pop()));
  const asked = () => server.requests.map((request) => request.path);

  it('are not asked for when the newest page holds a post seen before', async () => {
    const items = await walk(new Set([300]));
    expect(ids(items)).toHaveLength(20);
    expect(asked()).toEqual([]);
  });

  it('are read back to the page that holds a post seen before: no gap', async () => {
    serve(`/s/${CHANNEL}?before=300`, [280, 299]);
    serve(`/s/${CHANNEL}?before=280`, [260, 279]);
    const items = await walk(new Set([285]));
    expect(asked()).toEqual([`/s/${CHANNEL}?before=300`]);
    expect(ids(items).sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => 280 + i));
  });

  it('are read at most three pages deep after a long outage', async () => {
    serve(`/s/${CHANNEL}?before=300`, [280, 299]);
    serve(`/s/${CHANNEL}?before=280`, [260, 279]);
    serve(`/s/${CHANNEL}?before=260`, [240, 259]);
    const items = await walk(new Set());
    expect(asked()).toEqual([`/s/${CHANNEL}?before=300`, `/s/${CHANNEL}?before=280`]);
    expect(items).toHaveLength(60);
  });

  it('an older page that fails keeps the posts already read, and says why', async () => {
    const errors: string[] = [];
    const items = await walk(new Set(), errors);
    expect(items).toHaveLength(20);
    expect(errors).toEqual([`${server.url}/s/${CHANNEL}?before=300: HTTP 404 Not Found`]);
  });
});

describe('telegram feeds in the config', () => {
  const config = (feeds: string, env: NodeJS.ProcessEnv = {}) =>
    parseConfig(`feeds:\n${feeds}\nchannels:\n  - chat: "@kz_alerts"\n    watchlists: [kazakhstan-unrest]\n`, 'steppewatch.yaml', env);
  const problems = (feeds: string, env: NodeJS.ProcessEnv = {}) => {
    try {
      config(feeds, env);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as Error).message;
    }
    throw new Error('expected a ConfigError');
  };

  it('a channel is polled at its preview page on t.me, with its name and language', () => {
    const loaded = config('  - telegram: SteppeWatch_Demo\n    name: Steppe News\n    language: ru\n  - telegram: "@kaztag_news"');
    expect(loaded.feeds).toEqual([
      { url: 'https://t.me/s/steppewatch_demo', telegram: 'SteppeWatch_Demo', name: 'Steppe News', language: 'ru' },
      { url: 'https://t.me/s/kaztag_news', telegram: 'kaztag_news' },
    ]);
    expect(channelOfPreviewUrl(loaded.feeds[0]?.url ?? '')).toBe('steppewatch_demo');
  });

  it('a url that is a channel preview (https://t.me/s/NAME) is read as the channel', () => {
    expect(config('  - url: https://t.me/s/kaztag_news').feeds).toEqual([{ url: 'https://t.me/s/kaztag_news', telegram: 'kaztag_news' }]);
  });

  it('TELEGRAM_PREVIEW_ROOT moves every channel’s preview (tests, a mirror)', () => {
    const loaded = config('  - telegram: steppewatch_demo', { TELEGRAM_PREVIEW_ROOT: 'http://127.0.0.1:8099/' });
    expect(loaded.feeds[0]?.url).toBe('http://127.0.0.1:8099/s/steppewatch_demo');
    expect(problems('  - telegram: steppewatch_demo', { TELEGRAM_PREVIEW_ROOT: 'file:///etc' })).toContain('TELEGRAM_PREVIEW_ROOT must be an http(s) URL');
  });

  it('a bad username, a url and a channel together, or a channel twice are errors naming the path', () => {
    expect(problems('  - telegram: kz')).toContain('steppewatch.yaml: feeds.0.telegram: must be a public channel username: 5–32 letters');
    expect(problems('  - telegram: 1almaty')).toContain('feeds.0.telegram: must be a public channel username');
    expect(problems('  - telegram: "almaty/../x"')).toContain('feeds.0.telegram: must be a public channel username');
    expect(problems('  - telegram: almaty_news\n    url: https://example.org/rss')).toContain('feeds.0.telegram: a feed has a url or a telegram channel, not both');
    expect(problems('  - name: nothing')).toContain('feeds.0.url: is required (or telegram: CHANNEL for a public Telegram channel)');
    expect(problems('  - telegram: almaty_news\n  - telegram: Almaty_News')).toContain('feeds.1.telegram: same channel as feeds.0');
  });
});
