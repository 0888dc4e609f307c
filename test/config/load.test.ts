import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config/load.js';

const FILE = 'test.yaml';

function problems(yaml: string, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    parseConfig(yaml, FILE, env);
  } catch (error) {
    if (error instanceof ConfigError) return error.message.split('\n');
    throw error;
  }
  throw new Error('config was accepted');
}

const MINIMAL = `feeds:\n  - url: https://example.test/rss\n`;

describe('parseConfig', () => {
  it('fills defaults for a minimal config', () => {
    const config = parseConfig(MINIMAL, FILE, {});
    expect(config.schedule).toBe('*/5 * * * *');
    expect(config.fetch).toEqual({
      timeoutMs: 20_000,
      connectTimeoutMs: 10_000,
      maxBytes: 10 * 1024 * 1024,
      concurrency: 256,
      perHost: 6,
      hosts: new Map(),
      reportFailingAfterMs: 6 * 3_600_000,
      allowPrivate: [],
    });
    expect(config.backlog).toEqual({ windowMs: 24 * 3_600_000, maxItems: 10 });
    expect(config.dedup.windowMs).toBe(72 * 3_600_000);
    expect(config.watchlists.has('kazakhstan-unrest')).toBe(true);
  });

  it('rejects unknown keys, at any depth, naming their path', () => {
    expect(problems(`${MINIMAL}colour: blue\nfetch:\n  timout: 5s\n`).sort()).toEqual([
      `${FILE}: colour: unknown key`,
      `${FILE}: fetch.timout: unknown key`,
    ]);
  });

  it('names the path and the problem of each bad value', () => {
    expect(
      problems(`feeds:\n  - url: javascript:alert(1)\n    language: Arabic\nbacklog:\n  window: a day\nchannels:\n  - chat: my channel\n    watchlists: []\n`),
    ).toEqual([
      `${FILE}: feeds.0.url: must be an http(s) URL`,
      `${FILE}: feeds.0.language: must be a language code such as ar, ru, kk, en`,
      `${FILE}: channels.0.chat: must be a @channel_username or a numeric chat id`,
      `${FILE}: channels.0.watchlists: name at least one watchlist`,
      `${FILE}: backlog.window: "a day" is not a duration (write e.g. 90s, 15m, 24h, 7d)`,
    ]);
  });

  it('requires feeds', () => {
    expect(problems('schedule: "* * * * *"\n')).toEqual([`${FILE}: feeds: is required`]);
  });

  it('interpolates ${VAR} and ${VAR:-default} in values', () => {
    const yaml = `${MINIMAL}channels:\n  - chat: "\${CHANNEL}"\n    watchlists: [kazakhstan-unrest]\n  - chat: "\${OTHER:-@fallback_chan}"\n    watchlists: [kazakhstan-unrest]\n`;
    const config = parseConfig(yaml, FILE, { CHANNEL: '-1001234' });
    expect(config.channels.map((c) => c.chat)).toEqual(['-1001234', '@fallback_chan']);
    expect(problems(yaml, {})).toEqual([`${FILE}: channels.0.chat: environment variable CHANNEL is not set`]);
  });

  it('does not let an environment value inject YAML structure', () => {
    const yaml = `${MINIMAL}channels:\n  - chat: "\${CHANNEL}"\n    watchlists: [kazakhstan-unrest]\n`;
    expect(problems(yaml, { CHANNEL: '@chan\n    thread_id: 5' })).toEqual([
      `${FILE}: channels.0.chat: must be a @channel_username or a numeric chat id`,
    ]);
  });

  it('checks cron, queries and watchlist references', () => {
    const lines = problems(
      `schedule: "61 * * * *"\n${MINIMAL}watchlists:\n  mine: 'almaty ("protest'\nchannels:\n  - chat: "@chan_name"\n    watchlists: [mine, other]\n`,
    );
    expect(lines[0]).toMatch(/^test\.yaml: schedule: "61 \* \* \* \*" is not a cron expression/u);
    expect(lines[1]).toBe(`${FILE}: watchlists.mine: unclosed quote at position 9`);
    expect(lines[2]).toMatch(/^test\.yaml: channels\.0\.watchlists\.1: unknown watchlist "other" \(known: kazakhstan-unrest/u);
    expect(lines).toHaveLength(3);
  });

  it('reports YAML syntax errors with line and column', () => {
    expect(problems('feeds:\n  - url: "https://x.test\n')[0]).toMatch(/^test\.yaml: line \d+, column \d+: /u);
  });

  it('lets a config watchlist override a preset of the same name', () => {
    const config = parseConfig(`${MINIMAL}watchlists:\n  kazakhstan-unrest: 'almaty'\n`, FILE, {});
    expect(config.watchlists.get('kazakhstan-unrest')?.query).toBe('almaty');
  });
});
