// Headless Chromium for the page tests: Debian's `chromium` package (not a browser a test tool
// downloads), driven by playwright-core. Where it is missing a test cannot run: under CI that is a
// failure that says how to install it; on a developer's machine the tests are skipped with the same
// words, printed, rather than passing silently.

import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Why the browser tests cannot run here, or null when they can. */
export function browserMissing(): string | null {
  if (existsSync(CHROMIUM)) return null;
  const why = `Chromium is not installed at ${CHROMIUM} (set CHROMIUM_PATH, or: apt-get install -y chromium; .ci/run installs it)`;
  if (process.env.CI) throw new Error(`${why}: CI must run the browser tests`);
  console.warn(`browser tests skipped: ${why}`);
  return why;
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    // As root in a container, without a GPU, and without the background calls a closed network refuses.
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
