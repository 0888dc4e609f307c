// Digests: the alerts collected for a chat that asked for them (/digest hourly|daily), sent as one
// message per period, split where a message would pass Telegram's limit, never inside an item.

import { chatLocale, t, type Locale } from '../i18n/i18n.js';
import type { DigestItem, Store } from '../store/store.js';
import { MESSAGE_LIMIT, unescapeHtml, visibleLength } from '../summary/render.js';
import { inQuietHours } from './quiet.js';

/** The digest's messages, headed in the chat's language: a header, then the items, as many per message as fit. */
export function digestMessages(items: DigestItem[], locale: Locale = 'en'): Array<{ storyId: number; html: string; text: string }> {
  const messages: Array<{ storyId: number; html: string; text: string }> = [];
  const heading = (html: string) => ({ html: `<b>${html}</b>`, text: unescapeHtml(html) });
  let current: DigestItem[] = [];
  const flush = () => {
    const [first] = current;
    if (!first) return;
    const head = heading(messages.length === 0 ? t(locale, 'digest.header', { count: items.length }) : t(locale, 'digest.continued'));
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

/**
 * Queues every digest that is due, and the alerts held for quiet hours that have ended, each as
 * one digest; a chat in its quiet hours waits. Returns how many chats got one.
 */
export async function queueDueDigests(store: Store, now: number): Promise<number> {
  const due = await store.dueDigests(now);
  if (due.length === 0) return 0;
  const settings = await store.chatSettings();
  let queued = 0;
  for (const { chat, items } of due) {
    const chatSettings = settings.get(chat);
    if (inQuietHours(chatSettings?.quiet, now)) continue;
    await store.queueDigest(chat, digestMessages(items, chatLocale(chatSettings)), items.map((i) => i.id), now);
    queued++;
  }
  return queued;
}
