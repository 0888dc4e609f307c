// The one model every feed format is adapted to. Nothing after parsing sees a format.

export type FeedFormat = 'rss' | 'rdf' | 'atom' | 'json';

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
}
