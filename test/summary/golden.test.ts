// Golden alerts: the seed article in both templates, and Russian and Kazakh reports, rendered as
// Telegram would receive them. A change to how alerts read shows here as a diff to review; the
// files are rewritten with `npx vitest run -u` (never in CI).

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadPresets } from '../../src/config/load.js';
import type { Item } from '../../src/feeds/item.js';
import { indexDocument } from '../../src/match/document.js';
import { matchWatchlist, type Watchlist } from '../../src/match/matcher.js';
import { DEFAULT_RENDER, renderHtml, type RenderOptions, type Template } from '../../src/summary/render.js';
import { summarize } from '../../src/summary/summarize.js';
import { checkTelegramHtml } from '../support/telegram-html.js';

const SEED = readFileSync(new URL('../fixtures/seed-almaty-ar.txt', import.meta.url), 'utf8');
const preset = loadPresets().get('kazakhstan-unrest') as Watchlist;
const PUBLISHED = new Date('2022-01-07T09:30:00Z');

function golden(item: Omit<Item, 'id' | 'feedUrl' | 'guid' | 'author' | 'published'>, source: string, template: Template): string {
  const full: Item = { id: 'g', feedUrl: 'https://feed.test/rss', guid: null, author: null, published: PUBLISHED, ...item };
  const match = matchWatchlist(preset, indexDocument(full.title, full.text));
  if (!match) throw new Error(`the preset does not match ${full.title}`);
  const options: RenderOptions = { ...DEFAULT_RENDER, template, timeZone: 'Asia/Almaty', now: new Date('2022-01-07T09:45:00Z') };
  const html = renderHtml(
    { summary: summarize(full, match.forms), source, link: full.link, time: PUBLISHED, watchlists: ['kazakhstan-unrest'], matchedForms: match.forms, language: full.language },
    options,
  );
  expect(checkTelegramHtml(html).ok).toBe(true);
  return html;
}

const seed = { title: 'انفجارات في ألما آتا', text: SEED, link: 'https://www.aljazeera.net/news/2022/1/7/almaty', language: 'ar' };

describe('golden alerts', () => {
  it('the seed article, full', async () => {
    await expect(golden(seed, 'الجزيرة نت', 'full')).toMatchFileSnapshot('golden/seed-ar.full.html');
  });

  it('the seed article, compact', async () => {
    await expect(golden(seed, 'الجزيرة نت', 'compact')).toMatchFileSnapshot('golden/seed-ar.compact.html');
  });

  it('a Russian report', async () => {
    const item = {
      title: 'В Алматы протестующие захватили здание акимата',
      text: 'Протестующие ворвались в здание акимата Алматы и подожгли его, сообщает корреспондент. Полиция применила светошумовые гранаты и слезоточивый газ. По данным МВД, пострадали 317 сотрудников полиции, т.е. больше, чем сообщалось утром. Движение в центре города перекрыто.',
      link: 'https://ru.example.test/almaty-akimat',
      language: 'ru',
    };
    await expect(golden(item, 'Интерфакс', 'full')).toMatchFileSnapshot('golden/akimat-ru.full.html');
  });

  it('a Kazakh report', async () => {
    const item = {
      title: 'Жаңаөзенде наразылық акциясы жалғасуда',
      text: 'Жаңаөзен тұрғындары сұйытылған газ бағасының екі есе өскеніне наразылық білдіріп, алаңға жиналды. Президент Тоқаев үкіметке жағдайды тұрақтандыруды тапсырды. Полиция бірнеше адамды ұстады.',
      link: 'https://kk.example.test/zhanaozen',
      language: 'kk',
    };
    await expect(golden(item, 'Азаттық', 'full')).toMatchFileSnapshot('golden/zhanaozen-kk.full.html');
  });
});
