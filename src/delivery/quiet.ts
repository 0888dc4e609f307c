// Quiet hours: whether a moment falls in a chat's quiet time, read on its own clock.

import type { QuietHours } from '../store/store.js';

const clocks = new Map<string, Intl.DateTimeFormat>();

/** Minutes after midnight at `at` in `zone`. */
function minutesIn(zone: string, at: number): number {
  let clock = clocks.get(zone);
  if (!clock) clocks.set(zone, (clock = new Intl.DateTimeFormat('en-GB', { timeZone: zone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })));
  const parts = clock.formatToParts(new Date(at));
  const value = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return value('hour') * 60 + value('minute');
}

/** Whether `at` is in the quiet time (which may run past midnight: 23:00–07:00). */
export function inQuietHours(quiet: QuietHours | null | undefined, at: number): boolean {
  if (!quiet) return false;
  const now = minutesIn(quiet.zone, at);
  return quiet.from < quiet.to ? now >= quiet.from && now < quiet.to : now >= quiet.from || now < quiet.to;
}
