import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { importOpml, OpmlError, readOpml, writeOpml } from '../../src/opml/opml.js';
import { runCli } from '../support/cli.js';

const OPML = `<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0"><head><title>Reader export</title></head><body>
  <outline text="Kazakhstan">
    <outline type="rss" text="Tengrinews" xmlUrl="https://tengrinews.kz/news.rss"/>
    <outline type="rss" text="Astana Times &amp; Co" title="The Astana Times" xmlUrl="https://astanatimes.com/feed/"/>
    <outline text="Nested"><outline type="rss" text="Azattyq" xmlUrl="https://www.azattyq.org/api/"/></outline>
  </outline>
  <outline type="rss" text="Evil" xmlUrl="javascript:alert(1)"/>
  <outline type="rss" text="Existing" xmlUrl="https://example.test/existing.xml"/>
</body></opml>`;

const CONFIG = `# my config: comments must survive an import
schedule: "*/10 * * * *"
feeds:
  # the first feed
  - url: https://example.test/existing.xml
    name: Existing
channels: []
`;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'steppewatch-opml-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('OPML', () => {
  it('reads feeds from nested outlines and skips non-http(s) URLs', async () => {
    const { feeds, skipped } = await readOpml(OPML);
    expect(feeds).toEqual([
      { url: 'https://tengrinews.kz/news.rss', title: 'Tengrinews' },
      { url: 'https://astanatimes.com/feed/', title: 'The Astana Times' },
      { url: 'https://www.azattyq.org/api/', title: 'Azattyq' },
      { url: 'https://example.test/existing.xml', title: 'Existing' },
    ]);
    expect(skipped).toEqual(['javascript:alert(1)']);
  });

  it('adds only missing feeds to the config, keeping its comments, and is idempotent', async () => {
    const file = join(dir, 'steppewatch.yaml');
    writeFileSync(file, CONFIG);
    const first = await importOpml(OPML, file, {});
    expect(first.added.map((f) => f.url)).toEqual(['https://tengrinews.kz/news.rss', 'https://astanatimes.com/feed/', 'https://www.azattyq.org/api/']);
    expect(first.present).toBe(1);
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('# my config: comments must survive an import');
    expect(text).toContain('# the first feed');
    expect(loadConfig(file, {}).feeds.map((f) => f.name)).toEqual(['Existing', 'Tengrinews', 'The Astana Times', 'Azattyq']);

    const second = await importOpml(OPML, file, {});
    expect(second).toMatchObject({ added: [], present: 4 });
  });

  it('leaves the config untouched when the OPML is not OPML', async () => {
    const file = join(dir, 'steppewatch.yaml');
    writeFileSync(file, CONFIG);
    await expect(importOpml('<html><body>hi</body></html>', file, {})).rejects.toBeInstanceOf(OpmlError);
    await expect(importOpml('<opml><body>', file, {})).rejects.toThrow(/not valid XML/u);
    expect(readFileSync(file, 'utf8')).toBe(CONFIG);
  });

  it('exports what it imports', async () => {
    const file = join(dir, 'a.yaml');
    writeFileSync(file, CONFIG);
    await importOpml(OPML, file, {});
    const exported = writeOpml(loadConfig(file, {}));
    const back = await readOpml(exported);
    expect(back.feeds.map((f) => f.url)).toEqual(loadConfig(file, {}).feeds.map((f) => f.url));
    expect(exported).toContain('text="The Astana Times"');
  });

  it('works from the command line', async () => {
    const config = join(dir, 'steppewatch.yaml');
    const opml = join(dir, 'feeds.opml');
    writeFileSync(config, CONFIG);
    writeFileSync(opml, OPML);
    const imported = await runCli(['opml', 'import', opml, '--config', config]);
    expect(imported.code).toBe(0);
    expect(imported.stdout).toContain(`${config}: 3 feeds added, 1 already there`);
    const exported = await runCli(['opml', 'export', '--config', config]);
    expect(exported.stdout).toContain('xmlUrl="https://www.azattyq.org/api/"');
    const bad = await runCli(['opml', 'import', join(dir, 'nope.opml'), '--config', config]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('cannot read');
  });
});
