// The long-running worker: a cycle at start, then on the cron schedule; cycles never overlap;
// SIGINT/SIGTERM stop scheduling, let the running cycle wind down and close the store.

import cron from 'node-cron';
import type { Logger } from '../log.js';
import { runCycle, type CycleDeps } from './cycle.js';

export interface Worker {
  /** resolves once the worker has stopped */
  readonly stopped: Promise<void>;
  /** stops scheduling, aborts what can be aborted and waits for the running cycle */
  stop(reason: string): Promise<void>;
}

export function startWorker(deps: Omit<CycleDeps, 'signal'> & { log: Logger }): Worker {
  const { config, log } = deps;
  const shutdown = new AbortController();
  let running: Promise<void> | null = null;
  let resolveStopped: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => {
    resolveStopped = resolve;
  });

  const tick = (): void => {
    if (shutdown.signal.aborted) return;
    if (running) {
      log.warn('previous cycle still running; this one is skipped');
      return;
    }
    running = runCycle({ ...deps, signal: shutdown.signal })
      .then(() => undefined)
      .catch((error: unknown) => {
        log.error({ err: error }, 'cycle failed');
      })
      .finally(() => {
        running = null;
      });
  };

  const task = cron.schedule(config.schedule, tick, {
    name: 'poll',
    ...(config.timezone ? { timezone: config.timezone } : {}),
  });
  log.info({ schedule: config.schedule, feeds: config.feeds.length, channels: config.channels.length }, 'worker started');
  tick();

  let stopping: Promise<void> | null = null;
  const stop = (reason: string): Promise<void> => {
    stopping ??= (async () => {
      log.info({ reason }, 'stopping');
      await task.stop();
      shutdown.abort();
      await running;
      resolveStopped();
    })();
    return stopping;
  };
  return { stopped, stop };
}
