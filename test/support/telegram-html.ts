// Telegram's HTML parse mode, as strict as the Bot API: only its tags, every tag closed in order,
// every other <, > and & escaped. Returns the visible text length or the error Telegram gives.

const ALLOWED = new Set(['b', 'strong', 'i', 'em', 'u', 'ins', 's', 'strike', 'del', 'a', 'code', 'pre', 'blockquote', 'tg-spoiler', 'span', 'tg-emoji']);
const NAMED_ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"' };

export type HtmlCheck = { ok: true; text: string } | { ok: false; error: string };

function entityAt(html: string, i: number): { text: string; length: number } | null {
  const match = /^&(#\d{1,7}|#x[0-9a-fA-F]{1,6}|[a-z]+);/u.exec(html.slice(i, i + 12));
  if (!match?.[1]) return null;
  const name = match[1];
  if (name.startsWith('#x')) return { text: String.fromCodePoint(parseInt(name.slice(2), 16)), length: match[0].length };
  if (name.startsWith('#')) return { text: String.fromCodePoint(parseInt(name.slice(1), 10)), length: match[0].length };
  const named = NAMED_ENTITIES[name];
  return named ? { text: named, length: match[0].length } : null;
}

export function checkTelegramHtml(html: string): HtmlCheck {
  const open: string[] = [];
  let text = '';
  let i = 0;
  const fail = (what: string) => ({ ok: false as const, error: `Bad Request: can't parse entities: ${what} at byte offset ${Buffer.byteLength(html.slice(0, i))}` });
  while (i < html.length) {
    const ch = html[i] ?? '';
    if (ch === '<') {
      const end = html.indexOf('>', i);
      if (end < 0) return fail('Unclosed start tag');
      const tag = html.slice(i + 1, end);
      if (tag.startsWith('/')) {
        const name = tag.slice(1).trim().toLowerCase();
        if (open.pop() !== name) return fail(`Unexpected end tag "${name}"`);
      } else {
        const match = /^([a-z-]+)((?:\s+[a-z-]+="[^"<>]*")*)\s*$/u.exec(tag);
        const name = match?.[1]?.toLowerCase();
        if (!match || !name || !ALLOWED.has(name)) return fail(`Unsupported start tag "${tag.split(/\s/u)[0] ?? ''}"`);
        if (name === 'a') {
          const href = /href="([^"]*)"/u.exec(match[2] ?? '')?.[1];
          if (href === undefined) return fail('Tag "a" must have attribute "href"');
        }
        open.push(name);
      }
      i = end + 1;
    } else if (ch === '>') {
      return fail('Unexpected ">"');
    } else if (ch === '&') {
      const entity = entityAt(html, i);
      if (!entity) return fail('Unescaped "&"');
      text += entity.text;
      i += entity.length;
    } else {
      text += ch;
      i++;
    }
  }
  if (open.length > 0) return fail(`Can't find end tag corresponding to start tag "${open.at(-1) ?? ''}"`);
  return { ok: true, text };
}
