import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/log.js';
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

  it('scrubs bot tokens in Bot API URLs even when not told the token', () => {
    const { lines, stream } = capture();
    createLogger({ destination: stream }).warn(`GET /bot987654:AAE-secret_part/getMe failed`);
    expect(lines.join('')).not.toContain('AAE-secret_part');
  });
});
