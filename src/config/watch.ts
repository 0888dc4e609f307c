// Notices when the config file changes. Watches the file's folder rather than the file: editors
// and Kubernetes ConfigMaps replace the file (a new inode, or a swapped symlink), which a watch on
// the file itself would miss. Any event there re-reads the file; only a change of its bytes counts.

import { createHash } from 'node:crypto';
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';

export interface ConfigWatcher {
  close(): void;
}

function digest(file: string): string {
  try {
    return createHash('sha256').update(readFileSync(file)).digest('hex');
  } catch {
    return 'unreadable';
  }
}

/**
 * Calls `onChange` once the file's content differs from what it was, after the writes settle
 * (`debounceMs`). Returns null when the folder cannot be watched (SIGHUP still reloads).
 */
export function watchConfigFile(file: string, onChange: () => void, debounceMs = 300): ConfigWatcher | null {
  let last = digest(file);
  let timer: NodeJS.Timeout | null = null;
  const check = (): void => {
    timer = null;
    const now = digest(file);
    if (now === last) return;
    last = now;
    onChange();
  };
  let watcher: FSWatcher;
  try {
    watcher = watch(dirname(file), { persistent: false }, () => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(check, debounceMs);
    });
  } catch {
    return null;
  }
  // A folder that goes away ends the watch; SIGHUP still works.
  watcher.on('error', () => watcher.close());
  return {
    close() {
      if (timer) clearTimeout(timer);
      watcher.close();
    },
  };
}
