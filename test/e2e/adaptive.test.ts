// Adaptive polling as an operator meets it: `once` polls, `check-config` then says each feed's
// interval and why (the real CLI against a local feed server and a SQLite store).

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { FeedServer, rss } from '../support/feed-server.js';

let feeds: FeedServer;
let dir: string;

beforeEach(async () => {
  feeds = await new FeedServer().start();
  dir = mkdtempSync(join(tmpdir(), 'steppewatch-adaptive-'));
});
afterEach(async () => {
  await feeds.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('check-config after polling', () => {
  it("shows each feed's interval and why, and the bounds and the schedule's limit", async () => {
    const busy = Array.from({ length: 30 }, (_, i) => ({ title: `Entry ${i}`, guid: `b${i}`, minutesAgo: i * 10 }));
    feeds.set('/cached.xml', { body: rss('Cached', [{ title: 'Old', guid: 'c1', minutesAgo: 600 }]), headers: { 'cache-control': 'max-age=7200' } });
    feeds.set('/ttl.xml', rss('Ttl', [{ title: 'Old', guid: 't1', minutesAgo: 600 }]).replace('<channel>', '<channel><ttl>180</ttl>'));
    feeds.set('/busy.xml', rss('Busy', busy));
    const file = join(dir, 'steppewatch.yaml');
    writeFileSync(
      file,
      `schedule: "*/5 * * * *"\npolling:\n  min: 2m\n  max: 90m\nfeeds:\n  - url: ${feeds.url}/cached.xml\n  - url: ${feeds.url}/ttl.xml\n  - url: ${feeds.url}/busy.xml\n  - url: ${feeds.url}/new.xml\n`,
    );
    const env = { DATABASE_URL: `sqlite:${join(dir, 'state.db')}` };
    const before = await runCli(['check-config', '--config', file], env);
    expect(before.code).toBe(0);
    expect(before.stdout).toContain('(intervals not shown: no store yet)');

    expect((await runCli(['once', '--config', file], env)).code).toBe(0);
    feeds.set('/new.xml', rss('New', []));
    const after = await runCli(['check-config', '--config', file], env);
    expect(after.code).toBe(0);
    expect(after.stderr).toBe('');
    const lines = after.stdout.split('\n');
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}polling: +adaptive \(run\): 2 min to 1 h 30 min by each feed's entries over 7 d, .*the schedule's tick \(5 min\) is the shortest$/u));
    const intervalOf = (path: string) => lines[lines.findIndex((line) => line.includes(`<${feeds.url}${path}>`)) + 1];
    expect(intervalOf('/cached.xml')).toBe('        interval: 2 h — Cache-Control max-age=7200');
    expect(intervalOf('/ttl.xml')).toBe('        interval: 3 h — ttl 180 min');
    // 30 entries in the last five hours, known since this first poll (counted over six hours at
    // least): 120 a day, a poll every 3 min wanted, the schedule's five minutes the limit.
    expect(intervalOf('/busy.xml')).toBe('        interval: 3 min — 120 entries/day (the schedule ticks every 5 min: polled then)');
    // It failed (404): no pace yet.
    expect(intervalOf('/new.xml')).toBe('        interval: not chosen yet (chosen after its first answer)');
  });
});
