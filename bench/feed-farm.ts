// A farm of news feeds for the ingestion benchmark, run as its own process so that serving does
// not share our event loop: `hosts` servers on 127.0.0.1, 127.0.0.2 … (all loopback), each
// serving `feedsPerHost` RSS feeds of `items` items, with ETag/304 like a real news site.
// Talks to its parent over IPC: sends {urls} when ready, answers {type:'stats'} with byte counts.

import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

const hosts = Number(process.env.FARM_HOSTS ?? 20);
const feedsPerHost = Number(process.env.FARM_FEEDS_PER_HOST ?? 50);
const itemsPerFeed = Number(process.env.FARM_ITEMS ?? 50);
// Time to first byte of a real news site (network round trip + server); 0 = answer at once.
const latencyMs = Number(process.env.FARM_LATENCY_MS ?? 0);
// Distinct events the items report (0, the default: each item one of the LEADS, whose reports all
// fold into a handful of stories). With N, each item reports one of N events, each reported by
// many feeds alike: a LEADS entry, with a sentence and a figure of the event's own before the lead;
// one event in FARM_UNREST_EVERY (default 3, as the LEADS mix) is unrest (UNREST_LEADS), the others not.
const events = Number(process.env.FARM_EVENTS ?? 0);
const unrestEvery = Number(process.env.FARM_UNREST_EVERY ?? 3);

const LEADS = [
  ['В Алматы прошёл митинг против роста цен на газ', 'Полиция задержала несколько человек у акимата. Участники требовали снизить цены.'],
  ['Kazakhstan central bank holds rate', 'The National Bank of Kazakhstan kept its base rate unchanged, citing inflation expectations.'],
  ['انفجار في ألماتي وقوات الأمن تطوق المكان', 'أفادت وسائل إعلام محلية بسماع دوي انفجار في ألماتي، وانتشرت قوات الأمن في المنطقة.'],
  ['Астанада жаңа мектеп ашылды', 'Елордада 1200 орындық жаңа мектеп ашылды, деп хабарлады қала әкімдігі.'],
  ['Football: Kairat beat Astana in Almaty', 'Kairat won 2-1 at the Central Stadium in front of 20,000 fans.'],
  ['Weather: snow expected in the north', 'Forecasters expect heavy snow in Kostanay and Petropavlovsk regions this weekend.'],
];

/** The LEADS the kazakhstan-unrest preset matches; the others it does not. */
const UNREST_LEADS = [0, 2];
const OTHER_LEADS = LEADS.map((_, i) => i).filter((i) => !UNREST_LEADS.includes(i));

/** Event `event`'s LEADS entry. */
function eventLead(event: number): number {
  const turn = Math.floor(event / unrestEvery);
  return (event % unrestEvery === 0 ? UNREST_LEADS[turn % UNREST_LEADS.length] : OTHER_LEADS[(event - turn - 1) % OTHER_LEADS.length]) ?? 0;
}

function escapeXml(text: string): string {
  return text.replace(/&/gu, '&amp;').replace(/</gu, '&lt;').replace(/>/gu, '&gt;');
}

const SYLLABLES = ['ka', 'ro', 'mi', 'tu', 'ze', 'lan', 'bor', 'vik', 'shu', 'dar', 'nel', 'gos', 'pra', 'tem', 'ful', 'xin', 'yor', 'que', 'ham', 'wes'];

/** Event `event`'s own sentence: made-up words (none a watchlist's) and a figure, the same in every report of it. */
function eventLine(event: number): string {
  let state = event + 1;
  const next = () => (state = (state * 48271) % 2147483647); // MINSTD, as bench/corpus.ts
  const words: string[] = [];
  for (let w = 0; w < 24; w++) words.push(Array.from({ length: 3 }, () => SYLLABLES[next() % SYLLABLES.length]).join(''));
  return `${words.join(' ')} ${1000 + event}.`;
}

function feedXml(host: number, feed: number, now: number): string {
  const items: string[] = [];
  for (let i = 0; i < itemsPerFeed; i++) {
    // Which event: the item's index through two MINSTD steps (one is a linear map of the index
    // while it is small), so the events are spread over feeds and over the newest items alike.
    const mixed = (((((host * feedsPerHost + feed) * itemsPerFeed + i + 1) * 48271) % 2147483647) * 48271) % 2147483647;
    const event = events > 0 ? mixed % events : -1;
    const [title, plainLead] = LEADS[event >= 0 ? eventLead(event) : (host * 7 + feed * 3 + i) % LEADS.length] ?? ['', ''];
    const lead = event >= 0 ? `${eventLine(event)} ${plainLead}` : plainLead;
    const id = `h${host}-f${feed}-i${i}`;
    items.push(
      `<item><title>${escapeXml(`${title} (${id})`)}</title><link>https://news${host}.example.test/${feed}/${i}</link>` +
        `<guid isPermaLink="false">${id}</guid><pubDate>${new Date(now - (i + 1) * 7 * 60_000).toUTCString()}</pubDate>` +
        `<description>${escapeXml(`<p>${lead}</p><p>${lead} ${lead}</p>`)}</description></item>`,
    );
  }
  return `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Feed ${host}/${feed}</title><link>https://news${host}.example.test/</link>${items.join('')}</channel></rss>`;
}

let bytes = 0;
let requests = 0;
let notModified = 0;
/** the most connections one host had open at once */
let maxConnections = 0;

async function main(): Promise<void> {
  const now = Date.now();
  const servers: Server[] = [];
  const urls: string[] = [];
  for (let h = 0; h < hosts; h++) {
    const bodies = new Map<string, { body: Buffer; etag: string }>();
    for (let f = 0; f < feedsPerHost; f++) {
      const body = Buffer.from(feedXml(h, f, now));
      bodies.set(`/feed/${f}.xml`, { body, etag: `"${createHash('sha1').update(body).digest('hex')}"` });
    }
    const server = createServer((req, res) => (latencyMs > 0 ? setTimeout(() => answer(req, res), latencyMs) : answer(req, res)));
    const answer = (req: IncomingMessage, res: ServerResponse) => {
      requests++;
      const doc = bodies.get(req.url ?? '');
      if (!doc) return void res.writeHead(404).end();
      if (req.headers['if-none-match'] === doc.etag) {
        notModified++;
        return void res.writeHead(304, { etag: doc.etag }).end();
      }
      bytes += doc.body.byteLength;
      res.writeHead(200, { 'content-type': 'application/rss+xml; charset=utf-8', etag: doc.etag }).end(doc.body);
    };
    // Connections open at once to this host: the politeness bound the worker must keep.
    let open = 0;
    server.on('connection', (socket) => {
      maxConnections = Math.max(maxConnections, ++open);
      socket.on('close', () => open--);
    });
    const address = `127.0.0.${h + 1}`;
    await new Promise<void>((resolve) => server.listen(0, address, resolve));
    const port = (server.address() as { port: number }).port;
    for (let f = 0; f < feedsPerHost; f++) urls.push(`http://${address}:${port}/feed/${f}.xml`);
    servers.push(server);
  }
  process.on('message', (message: { type: string }) => {
    if (message.type === 'stats') process.send?.({ type: 'stats', bytes, requests, notModified, maxConnections });
    if (message.type === 'stop') {
      for (const server of servers) server.close();
      process.disconnect();
    }
  });
  process.send?.({ type: 'ready', urls });
}

void main();
