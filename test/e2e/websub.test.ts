// WebSub push, end to end: the real CLI's `run` with http.public_url at its own server, a local
// hub, a feed that names the hub in its Link header, and the fake Bot API. Discovery, intent
// verification, signed deliveries that alert in seconds, forged ones ignored, lease renewal, and
// unsubscription when the feed leaves the config.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { followCli, freePort, type FollowedCli } from '../support/cli.js';
import { FakeTelegram, FAKE_TOKEN, type DeliveredMessage } from '../support/fake-telegram.js';
import { FeedServer, rss, type TestItem } from '../support/feed-server.js';
import { WebsubHub } from '../support/websub-hub.js';

let feeds: FeedServer;
let telegram: FakeTelegram;
let hub: WebsubHub;
let dir: string;
let running: FollowedCli | null;

beforeEach(async () => {
  feeds = await new FeedServer().start();
  telegram = await new FakeTelegram().start();
  hub = await new WebsubHub().start();
  dir = mkdtempSync(join(tmpdir(), 'steppewatch-websub-'));
  running = null;
});
afterEach(async () => {
  if (running && running.child.exitCode === null) {
    running.child.kill('SIGKILL');
    await running.exited;
  }
  await feeds.stop();
  await telegram.stop();
  await hub.stop();
  rmSync(dir, { recursive: true, force: true });
});

const CHAT = '-1001234567890';
const quiet: TestItem = { title: 'Погода в Астане: солнечно', guid: 'q1', link: 'https://ru.example.test/q1', minutesAgo: 30 };
const item = (guid: string, title: string): TestItem => ({ title, guid, link: `https://ru.example.test/${guid}`, minutesAgo: 1 });

function writeConfig(feedUrls: string[], port: number): string {
  const file = join(dir, 'steppewatch.yaml');
  writeFileSync(
    file,
    [
      'schedule: "* * * * * *"',
      'feeds:',
      ...feedUrls.map((url) => `  - url: ${url}`),
      'channels:',
      `  - chat: "${CHAT}"`,
      '    watchlists: [kazakhstan-unrest]',
      'http:',
      `  public_url: http://127.0.0.1:${port}`,
      'websub:',
      '  lease: 2h',
      '',
    ].join('\n'),
  );
  return file;
}

/** Resolves with the first message delivered to the fake Bot API from now on. */
function nextMessage(): Promise<DeliveredMessage> {
  return new Promise((resolve) => {
    telegram.onDelivered = (message) => {
      telegram.onDelivered = null;
      resolve(message);
    };
  });
}

describe('steppewatch run with WebSub', () => {
  it('subscribes at the hub a feed names, alerts on a signed push at once, ignores forged ones, renews, and unsubscribes a removed feed', async () => {
    const topic = `${feeds.url}/news.xml`;
    feeds.set('/news.xml', { body: rss('Лента', [quiet]), headers: { link: `<${hub.url}>; rel="hub", <${topic}>; rel="self"` } });
    feeds.set('/other.xml', rss('Другая', [quiet]));
    const port = await freePort();
    const config = writeConfig([topic], port);
    // The first lease is short, so it is renewed within the test; the renewal's is long.
    hub.grantSeconds = 3;
    running = followCli(['run', '--config', config], {
      DATABASE_URL: `sqlite:${join(dir, 'state.db')}`,
      TELEGRAM_BOT_TOKEN: FAKE_TOKEN,
      TELEGRAM_API_ROOT: telegram.apiRoot,
      HTTP_PORT: String(port),
      LOG_LEVEL: 'debug',
    });

    // Discovery from the Link header, then the subscription request with a secret of its own.
    const subscribe = await hub.nextRequest((r) => r.mode === 'subscribe');
    expect(subscribe).toMatchObject({ topic, leaseSeconds: 7200 });
    expect(subscribe.callback).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${port}/websub/[A-Za-z0-9_-]{16,}$`, 'u'));
    expect(subscribe.secret?.length).toBeGreaterThanOrEqual(32);
    const verified = await hub.nextVerification((v) => v.request === subscribe);
    expect(verified).toMatchObject({ status: 200, confirmed: true });
    hub.grantSeconds = 3600;

    // Intent for a topic we never asked for, or at a callback we never gave, is refused.
    expect((await hub.verifyIntent({ ...subscribe, topic: 'https://elsewhere.example/feed.xml' })).status).toBe(404);
    expect((await hub.verifyIntent({ ...subscribe, callback: `http://127.0.0.1:${port}/websub/not-ours` })).status).toBe(404);

    // Unsigned and badly signed deliveries are acknowledged and ignored.
    expect(await hub.publish(topic, rss('Лента', [item('u1', 'Забастовка в Жанаозене: рабочие вышли на площадь'), quiet]), { signing: 'none' })).toEqual([202]);
    expect(await hub.publish(topic, rss('Лента', [item('b1', 'Взрыв в Астане: объявлено чрезвычайное положение'), quiet]), { signing: 'wrong' })).toEqual([202]);
    // A signed one alerts, through the same pipeline as a poll.
    const alerted = nextMessage();
    expect(await hub.publish(topic, rss('Лента', [item('s1', 'Митинг в Алматы разогнан полицией'), quiet]), { algorithm: 'sha512' })).toEqual([202]);
    expect((await alerted).text).toContain('Митинг в Алматы');
    expect(telegram.messages.map((m) => m.text)).toEqual([expect.stringContaining('Митинг в Алматы')]);

    // The short lease is renewed before it ends, at the same callback.
    const renewal = await hub.nextRequest((r) => r.mode === 'subscribe' && r !== subscribe);
    expect(renewal).toMatchObject({ topic, callback: subscribe.callback, secret: subscribe.secret });
    expect(await hub.nextVerification((v) => v.request === renewal)).toMatchObject({ confirmed: true });

    // The feed leaves the config: the hub is asked to unsubscribe, and the intent is confirmed.
    writeConfig([`${feeds.url}/other.xml`], port);
    const unsubscribe = await hub.nextRequest((r) => r.mode === 'unsubscribe');
    expect(unsubscribe).toMatchObject({ topic, callback: subscribe.callback, secret: null });
    expect(await hub.nextVerification((v) => v.request === unsubscribe)).toMatchObject({ status: 200, confirmed: true });
    // A delivery to the ended subscription is not taken.
    expect((await fetch(subscribe.callback, { method: 'POST', body: 'x' })).status).toBe(410);

    running.child.kill('SIGTERM');
    expect(await running.exited).toBe(0);
    expect(running.stderr()).not.toContain(subscribe.secret ?? '(none)');
    expect(running.stderr()).not.toContain(FAKE_TOKEN);
  });

  it('finds the hub in the document when the headers name none, and takes nothing pushed once the hub denies the subscription', async () => {
    const topic = `${feeds.url}/atom.xml`;
    const atom = `<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Лента</title><id>urn:feed</id>
      <link rel="hub" href="${hub.url}"/><link rel="self" href="${topic}"/>
      <entry><id>urn:q1</id><title>Погода в Астане: солнечно</title><link href="https://ru.example.test/q1"/><updated>${new Date(Date.now() - 30 * 60_000).toISOString()}</updated></entry></feed>`;
    feeds.set('/atom.xml', { body: atom, contentType: 'application/atom+xml' });
    const port = await freePort();
    hub.denying = true;
    running = followCli(['run', '--config', writeConfig([topic], port)], {
      DATABASE_URL: `sqlite:${join(dir, 'state.db')}`,
      TELEGRAM_BOT_TOKEN: FAKE_TOKEN,
      TELEGRAM_API_ROOT: telegram.apiRoot,
      HTTP_PORT: String(port),
    });
    const subscribe = await hub.nextRequest((r) => r.mode === 'subscribe');
    expect(subscribe.topic).toBe(topic);
    expect(await hub.nextVerification((v) => v.request === subscribe)).toMatchObject({ status: 200, confirmed: true });
    await running.waitForLog((l) => l.msg === 'WebSub hub denied the subscription; polling goes on');
    // A callback whose subscription was denied takes nothing.
    expect((await fetch(subscribe.callback, { method: 'POST', body: atom })).status).toBe(410);
    running.child.kill('SIGTERM');
    expect(await running.exited).toBe(0);
  });
});
