// Digests: the alerts collected for a chat that asked for them (/digest hourly|daily), sent as one
// message per period, split where a message would pass Telegram's limit, never inside an item.

import type { DigestItem, Store } from '../store/store.js';
import { MESSAGE_LIMIT, visibleLength } from '../summary/render.js';

/** The digest's messages: a header, then the items, as many per message as fit. */
export function digestMessages(items: DigestItem[]): Array<{ storyId: number; html: string; text: string }> {
  const messages: Array<{ storyId: number; html: string; text: string }> = [];
  const header = (n: number) => ({ html: `<b>Digest</b> · ${n} ${n === 1 ? 'story' : 'stories'}`, text: `Digest · ${n} ${n === 1 ? 'story' : 'stories'}` });
  let current: DigestItem[] = [];
  const flush = () => {
    const [first] = current;
    if (!first) return;
    const head = messages.length === 0 ? header(items.length) : { html: '<b>Digest</b> (continued)', text: 'Digest (continued)' };
    messages.push({ storyId: first.storyId, html: [head.html, ...current.map((i) => i.html)].join('\n\n'), text: [head.text, ...current.map((i) => i.text)].join('\n\n') });
    current = [];
  };
  for (const item of items) {
    const candidate = [...current, item];
    const html = ['<b>Digest</b> (continued) · 0000 stories', ...candidate.map((i) => i.html)].join('\n\n');
    if (current.length > 0 && visibleLength(html) > MESSAGE_LIMIT) flush();
    current.push(item);
  }
  flush();
  return messages;
}

/** Queues every digest that is due; returns how many chats got one. */
export async function queueDueDigests(store: Store, now: number): Promise<number> {
  const due = await store.dueDigests(now);
  for (const { chat, items } of due) await store.queueDigest(chat, digestMessages(items), items.map((i) => i.id), now);
  return due.length;
}
