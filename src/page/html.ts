// HTML for the operator page, written as tagged templates that escape every value by default:
// html`<td>${feed.title}</td>` cannot inject markup, whatever the feed calls itself. Only what
// is itself built with `html` (or passed through `trusted`, for text this module's callers made
// safe) goes in unescaped. A template library would add a second language to read and lose the
// type checks; this is the whole of what the page needs.

/** Markup known to be safe: built by `html`, or vouched for with `trusted`. */
export class SafeHtml {
  constructor(readonly markup: string) {}
  toString(): string {
    return this.markup;
  }
}

/** What a template takes: text (escaped), numbers, safe markup, lists of them; nothing for null, undefined and false. */
export type HtmlValue = string | number | SafeHtml | null | undefined | false | readonly HtmlValue[];

/** Escapes text for HTML content and for double- or single-quoted attribute values. */
export function escapeText(text: string): string {
  return text.replace(/&/gu, '&amp;').replace(/</gu, '&lt;').replace(/>/gu, '&gt;').replace(/"/gu, '&quot;').replace(/'/gu, '&#39;');
}

function render(value: HtmlValue): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof SafeHtml) return value.markup;
  if (Array.isArray(value)) return (value as readonly HtmlValue[]).map(render).join('');
  return escapeText(String(value));
}

export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? '');
  });
  return new SafeHtml(out);
}

/** Markup made safe elsewhere (the bot's messages, whose values the catalog escapes). */
export function trusted(markup: string): SafeHtml {
  return new SafeHtml(markup);
}

/** A link's href when it is http(s), else null: nothing else may reach an href on the page. */
export function httpHref(link: string | null | undefined): string | null {
  if (!link) return null;
  try {
    const url = new URL(link);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}
