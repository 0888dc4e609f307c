import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { watchConfigFile, type ConfigWatcher } from '../../src/config/watch.js';

let dir: string;
let watcher: ConfigWatcher | null;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'steppewatch-watch-'));
  watcher = null;
});
afterEach(() => {
  watcher?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('watchConfigFile', () => {
  it('notices a change of the file, also when an editor replaces it by a rename', async () => {
    const file = join(dir, 'steppewatch.yaml');
    writeFileSync(file, 'schedule: "*/5 * * * *"\n');
    const changes: string[] = [];
    let changed: () => void = () => undefined;
    watcher = watchConfigFile(
      file,
      () => {
        changes.push('change');
        changed();
      },
      20,
    );
    expect(watcher).not.toBeNull();
    const next = () => new Promise<void>((resolve) => (changed = resolve));

    let seen = next();
    writeFileSync(file, 'schedule: "*/10 * * * *"\n');
    await seen;

    // A replacement by rename, as editors and Kubernetes ConfigMaps write.
    seen = next();
    writeFileSync(join(dir, 'steppewatch.yaml.tmp'), 'schedule: "*/15 * * * *"\n');
    renameSync(join(dir, 'steppewatch.yaml.tmp'), file);
    await seen;
    expect(changes).toHaveLength(2);
  });
});
