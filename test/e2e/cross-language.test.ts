// One alert per story across languages, outlets and processes, end to end: the real CLI, a local
// feed server and the fake Telegram Bot API. Four outlets writing in English, Russian, Kazakh and
// Arabic report two stories; the channel gets one alert per story, and its edit names the others
// with their languages. `once` started while `run` works on the same database sends nothing twice.
// Two channels matching one report by different watchlists each see their own words in bold.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { followCli, runCli } from '../support/cli.js';
import { FakeTelegram, FAKE_TOKEN } from '../support/fake-telegram.js';
import { FeedServer, rss, type TestItem } from '../support/feed-server.js';

let feeds: FeedServer;
let telegram: FakeTelegram;
let dir: string;

beforeEach(async () => {
  feeds = await new FeedServer().start();
  telegram = await new FakeTelegram().start();
  dir = mkdtempSync(join(tmpdir(), 'steppewatch-xlang-'));
});

afterEach(async () => {
  await feeds.stop();
  await telegram.stop();
  rmSync(dir, { recursive: true, force: true });
});

const env = () => ({ DATABASE_URL: `sqlite:${join(dir, 'state.db')}`, TELEGRAM_BOT_TOKEN: FAKE_TOKEN, TELEGRAM_API_ROOT: telegram.apiRoot });

const OUTLETS = [
  { path: '/reuters.xml', name: 'Reuters', language: 'en' },
  { path: '/tass.xml', name: 'ТАСС', language: 'ru' },
  { path: '/azattyq.xml', name: 'Азаттық', language: 'kk' },
  { path: '/aljazeera.xml', name: 'الجزيرة', language: 'ar' },
] as const;

// Two stories, each told by every outlet in its own words; the same day, the same country.
const STORIES: Record<(typeof OUTLETS)[number]['language'], TestItem[]> = {
  en: [
    { title: 'Kazakh government resigns after fuel price protests', link: 'https://reuters.example.test/kazakh-government-resigns', guid: 'r1', minutesAgo: 60, description: "President Tokayev accepted the government's resignation on Wednesday after protests over a fuel price increase." },
    { title: 'Kazakhstan says 225 people died in January unrest', link: 'https://reuters.example.test/kazakhstan-225-died', guid: 'r2', minutesAgo: 55, description: 'The bodies of 225 people have been delivered to morgues since the unrest began, the prosecutor general said.' },
  ],
  ru: [
    { title: 'Токаев принял отставку правительства Казахстана', link: 'https://tass.example.test/13360001', guid: 't1', minutesAgo: 30, description: 'Президент Казахстана Касым-Жомарт Токаев принял отставку правительства на фоне протестов из-за цен на топливо.' },
    { title: 'Генпрокуратура: в ходе беспорядков в Казахстане погибли 225 человек', link: 'https://tass.example.test/13370002', guid: 't2', minutesAgo: 28, description: 'В ходе январских беспорядков погибли 225 человек, заявили в Генпрокуратуре республики.' },
  ],
  kk: [
    { title: 'Тоқаев үкіметтің отставкасын қабылдады', link: 'https://azattyq.example.test/a/31638001.html', guid: 'a1', minutesAgo: 25, description: 'Президент Қасым-Жомарт Тоқаев жанармай бағасына қарсы наразылықтан кейін үкіметтің отставкасын қабылдады.' },
    { title: 'Қаңтардағы тәртіпсіздікте 225 адам қаза тапты', link: 'https://azattyq.example.test/a/31650002.html', guid: 'a2', minutesAgo: 22, description: 'Бас прокуратураның мәліметінше, Қазақстандағы тәртіпсіздік кезінде 225 адам қаза тапты.' },
  ],
  ar: [
    { title: 'استقالة الحكومة الكازاخستانية بعد احتجاجات على أسعار الوقود', link: 'https://aljazeera.example.test/news/kazakh-government', guid: 'j1', minutesAgo: 20, description: 'قبل الرئيس الكازاخستاني توكاييف استقالة الحكومة بعد احتجاجات على ارتفاع أسعار الوقود.' },
    { title: 'النيابة الكازاخستانية: ٢٢٥ قتيلا في اضطرابات يناير', link: 'https://aljazeera.example.test/news/kazakhstan-225', guid: 'j2', minutesAgo: 15, description: 'أعلن مكتب المدعي العام في كازاخستان أن ٢٢٥ شخصا قتلوا خلال الاضطرابات.' },
  ],
};

function writeConfig(channels = `channels:\n  - chat: "@kz_alerts"\n    watchlists: [kazakhstan-unrest]\n`): string {
  const file = join(dir, 'steppewatch.yaml');
  const feedLines = OUTLETS.map((o) => `  - { url: "${feeds.url}${o.path}", name: "${o.name}", language: ${o.language} }`).join('\n');
  writeFileSync(file, `feeds:\n${feedLines}\n${channels}delivery:\n  max_wait: 20s\n`);
  return file;
}

const okCalls = (method: string) => telegram.calls.filter((c) => c.method === method && c.status === 200);

it('four outlets in four languages: one alert per story, edited to name the others and their languages', async () => {
  const file = writeConfig();
  // The English wire is first; the others report the same stories by the next poll.
  feeds.set('/reuters.xml', rss('Reuters', STORIES.en));
  for (const o of OUTLETS.slice(1)) feeds.set(o.path, rss(o.name, []));
  const first = await runCli(['once', '--config', file], env());
  expect(first.code, first.stderr).toBe(0);
  expect(okCalls('sendMessage')).toHaveLength(2);

  for (const o of OUTLETS.slice(1)) feeds.set(o.path, rss(o.name, STORIES[o.language]));
  const second = await runCli(['once', '--config', file], env());
  expect(second.code, second.stderr).toBe(0);
  // Six more reports, no more alerts: each story's alert is edited instead.
  expect(okCalls('sendMessage')).toHaveLength(2);
  const texts = telegram.sentTo('@kz_alerts');
  expect(texts).toHaveLength(2);
  for (const text of texts) {
    expect(text).toMatch(/Also reported by: .*ТАСС<\/a> \(ru\).*Азаттық<\/a> \(kk\).*الجزيرة<\/a>\s*\(ar\)/su);
  }
  expect(texts[0]).toContain('government');
  expect(texts[1]).toContain('225');
});

it('once started while run works on the same database sends no story twice', async () => {
  const file = writeConfig();
  // Slow feeds, so that both processes poll them at the same time.
  for (const o of OUTLETS) feeds.set(o.path, { body: rss(o.name, STORIES[o.language]), delayMs: 400 });
  const worker = followCli(['run', '--config', file], env());
  try {
    const once = await runCli(['once', '--config', file], env());
    expect(once.code, once.stderr).toBe(0);
    await worker.waitForLog((line) => line.msg === 'cycle finished');
  } finally {
    worker.child.kill('SIGTERM');
    await worker.exited;
  }
  const sends = okCalls('sendMessage');
  expect(sends.map((c) => c.body.chat_id)).toEqual(['@kz_alerts', '@kz_alerts']);
  // Two different stories (the first line may be the breaking mark).
  const titles = telegram.sentTo('@kz_alerts').map((t) => t.split('\n').find((line) => !line.includes('BREAKING')));
  expect(new Set(titles).size).toBe(2);
});

it("each destination's alert shows the words its own watchlists matched", async () => {
  const file = writeConfig(`watchlists:
  protests: 'almaty AND protest*'
  curfew: 'almaty AND curfew'
channels:
  - chat: "@protest_desk"
    watchlists: [protests]
  - chat: "@curfew_desk"
    watchlists: [curfew]
`);
  const item: TestItem = {
    title: 'Almaty tense after night of unrest',
    link: 'https://reuters.example.test/almaty-tense',
    guid: 'x1',
    minutesAgo: 5,
    description: 'Thousands of protesters marched through central Almaty on Thursday. Police detained dozens near the main square. Authorities extended the curfew in Almaty until 19 January.',
  };
  feeds.set('/reuters.xml', rss('Reuters', [item]));
  for (const o of OUTLETS.slice(1)) feeds.set(o.path, rss(o.name, []));
  const run = await runCli(['once', '--config', file], env());
  expect(run.code, run.stderr).toBe(0);
  const [protest] = telegram.sentTo('@protest_desk');
  const [curfew] = telegram.sentTo('@curfew_desk');
  expect(protest).toContain('<b>protesters</b>');
  expect(protest).not.toContain('<b>curfew</b>');
  expect(protest).toContain('#protests');
  expect(protest).not.toContain('#curfew');
  expect(curfew).toContain('<b>curfew</b>');
  expect(curfew).not.toContain('<b>protesters</b>');
  expect(curfew).toContain('#curfew');
});
