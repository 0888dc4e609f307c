// The schedule's tick: how often `run` looks for due feeds. Adaptive polling cannot poll a feed
// more often than that (check-config and /feeds say so).

import cron from 'node-cron';

/** The longest gap between the next runs of `schedule` (its period; the worst case if irregular), in ms. */
export function scheduleTickMs(schedule: string, timezone?: string): number {
  const task = cron.createTask(schedule, () => undefined, timezone ? { timezone } : {});
  try {
    const runs = task.getNextRuns(25).map((d) => d.getTime());
    let longest = 0;
    for (let i = 1; i < runs.length; i++) longest = Math.max(longest, (runs[i] ?? 0) - (runs[i - 1] ?? 0));
    return longest;
  } finally {
    void task.destroy();
  }
}
