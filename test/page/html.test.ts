import { describe, expect, it } from 'vitest';
import { html, httpHref, trusted } from '../../src/page/html.js';

describe('page markup', () => {
  it('escapes every value unless it is markup built the same way', () => {
    const title = `"><script>alert('x')</script> & co`;
    expect(html`<td title="${title}">${title}</td>`.markup).toBe(
      '<td title="&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; co">&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; co</td>',
    );
    const cell = html`<b>${'<i>'}</b>`;
    expect(html`<td>${cell}</td>`.markup).toBe('<td><b>&lt;i&gt;</b></td>');
    expect(html`<ul>${['<a>', html`<li>${1}</li>`, null, undefined, false]}</ul>`.markup).toBe('<ul>&lt;a&gt;<li>1</li></ul>');
    expect(html`${trusted('<b>kept</b>')}`.markup).toBe('<b>kept</b>');
  });

  it('lets only http(s) links reach an href', () => {
    expect(httpHref('https://tass.example/1?a=1&b=2')).toBe('https://tass.example/1?a=1&b=2');
    expect(httpHref('javascript:alert(1)')).toBeNull();
    expect(httpHref('JaVaScRiPt:alert(1)')).toBeNull();
    expect(httpHref('data:text/html,<script>')).toBeNull();
    expect(httpHref('//evil.example/x')).toBeNull();
    expect(httpHref(null)).toBeNull();
  });
});
