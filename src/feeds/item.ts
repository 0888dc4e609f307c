// The one model every feed format is adapted to. Nothing after parsing sees a format.

/** 'telegram': a public channel's web preview page (src/feeds/telegram-channel.ts) */
export type FeedFormat = 'rss' | 'rdf' | 'atom' | 'json' | 'telegram';

export interface Item {
  /** the feed's own identity for the item: guid/id, else link, else a hash of title and date */
  id: string;
  /** the URL of the feed the item came from */
  feedUrl: string;
  guid: string | null;
  /** absolute http(s) link, or null */
  link: string | null;
  title: string;
  /** cleaned plain text of the body: content if present, else summary/description */
  text: string;
  published: Date | null;
  author: string | null;
  /** declared by the item or feed, else guessed from the script; null when unknown */
  language: string | null;
}

export interface ParsedFeed {
  format: FeedFormat;
  title: string | null;
  link: string | null;
  language: string | null;
  items: Item[];
  /** RSS <ttl>: minutes the feed asks to be cached before it is asked again (adaptive polling's floor) */
  ttlMinutes?: number | null;
  /** WebSub: the hubs the document names (<link rel="hub">, JSON Feed `hubs`), and its rel="self" URL */
  hubs?: string[];
  self?: string | null;
}
