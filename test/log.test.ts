import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, scrub } from '../src/log.js';
import { FAKE_TOKEN } from './support/fake-telegram.js';

function capture(): { lines: string[]; stream: Writable } {
  const lines: string[] = [];
  return { lines, stream: new Writable({ write: (chunk: Buffer, _e, cb) => (lines.push(chunk.toString()), cb()) }) };
}

describe('logs', () => {
  it('never contain the bot token, wherever it appears', () => {
    const { lines, stream } = capture();
    const log = createLogger({ secrets: [FAKE_TOKEN], destination: stream });
    log.info({ url: `https://api.telegram.org/bot${FAKE_TOKEN}/sendMessage` }, 'request');
    log.error({ err: new Error(`failed with ${FAKE_TOKEN}`) }, 'oops');
    log.info({ token: 'another-secret-value', headers: { authorization: 'Bearer abc' } }, 'config');
    const out = lines.join('');
    expect(out).not.toContain(FAKE_TOKEN);
    expect(out).not.toContain('another-secret-value');
    expect(out).not.toContain('Bearer abc');
    expect(out).toContain('[redacted]');
  });

  it('scrubs short secrets too, as words of their own, without blanking those letters elsewhere', () => {
    expect(scrub('{"msg":"key k3y? sent","url":"https://x.test/?key=k3y"}', ['k3y'])).toBe('{"msg":"key [redacted]? sent","url":"https://x.test/?key=[redacted]"}');
    expect(scrub('a.b+c(d) and a.b+c(d)x', ['a.b+c(d)'])).toBe('[redacted] and [redacted]x');
  });

  it('scrubs bot tokens in Bot API URLs even when not told the token', () => {
    const { lines, stream } = capture();
    createLogger({ destination: stream }).warn(`GET /bot987654:AAE-secret_part/getMe failed`);
    expect(lines.join('')).not.toContain('AAE-secret_part');
  });

  it('scrub Authorization headers however they were logged, and URL-encoded tokens', () => {
    const { lines, stream } = capture();
    const log = createLogger({ destination: stream });
    log.warn({ request: { headers: { Authorization: 'Bearer sk-live-0123456789' } } }, 'summary endpoint failed');
    log.warn('request failed: {"authorization":"Basic dXNlcjpwYXNzd29yZA=="}');
    log.warn(`upstream said: Authorization: Bearer sk-other-0123456789abc`);
    log.warn(`GET https://api.telegram.org/bot987654%3AAAE-encoded_part/getMe`);
    const out = lines.join('');
    for (const secret of ['sk-live-0123456789', 'dXNlcjpwYXNzd29yZA', 'sk-other-0123456789abc', 'AAE-encoded_part']) expect(out).not.toContain(secret);
    expect(lines).toHaveLength(4);
  });

  it('are readable lines on a terminal, still without the token', () => {
    const { lines, stream } = capture();
    const log = createLogger({ secrets: [FAKE_TOKEN], destination: stream, pretty: true });
    log.info({ feeds: 3, url: `https://api.telegram.org/bot${FAKE_TOKEN}/getMe` }, 'cycle finished');
    const out = lines.join('');
    expect(out).not.toContain(FAKE_TOKEN);
    expect(out).toContain('cycle finished');
    expect(out).not.toMatch(/^\{/u);
  });
});
