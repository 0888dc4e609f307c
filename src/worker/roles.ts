// What exactly one worker on a database does at a time. Each role is held through the store
// (PostgreSQL: a session advisory lock, freed when the holder's connection goes; SQLite: a
// renewed lease), so a second worker takes it over when the first dies, with no consensus of ours.

import type { Logger } from '../log.js';
import type { Store } from '../store/store.js';

/** Drains the outbox, keeping Telegram's limits (they are per bot token), and tells admins of failing feeds. */
export const SENDER_ROLE = 'sender';
/** Long-polls getUpdates: Telegram allows one poller per token (409 Conflict otherwise). */
export const BOT_ROLE = 'bot';
/** Queues the digests that are due. */
export const DIGESTS_ROLE = 'digests';
/** Forgets what is past retention. */
export const PRUNE_ROLE = 'prune';
/** Asks WebSub hubs to subscribe, renew and unsubscribe (src/worker/push.ts); any worker answers their callbacks. */
export const WEBSUB_ROLE = 'websub';

export const ROLES = [SENDER_ROLE, BOT_ROLE, DIGESTS_ROLE, PRUNE_ROLE, WEBSUB_ROLE] as const;
export type Role = (typeof ROLES)[number];

export interface RoleDuty {
  /** ends the duty (if running) and stops trying for the role; the role is left to the store's close */
  stop(): Promise<void>;
  /** whether the duty runs now */
  active(): boolean;
}

/**
 * Runs `duty` while this process holds `role`: tries to take it now and every `everyMs` after,
 * and aborts the duty as soon as the role is known lost (its lease or connection gone), so two
 * processes never do it at once for longer than it takes to notice.
 */
export function whileHolding(
  options: { store: Pick<Store, 'tryRole' | 'heldRoles'>; role: Role; everyMs: number; log: Logger },
  duty: (signal: AbortSignal) => Promise<void>,
): RoleDuty {
  const { store, role, log } = options;
  let current: { abort: AbortController; done: Promise<void> } | null = null;
  let stopped = false;
  let checking = false;
  const check = async (): Promise<void> => {
    if (stopped || checking) return;
    checking = true;
    try {
      if (current) {
        if (!store.heldRoles().includes(role)) {
          log.warn({ role }, 'role lost; another worker takes it over');
          current.abort.abort();
        }
        return;
      }
      if (!(await store.tryRole(role)) || stopped) return;
      log.info({ role }, 'role taken');
      const abort = new AbortController();
      const done = duty(abort.signal)
        .catch((error: unknown) => log.error({ err: error, role }, 'role duty failed'))
        .finally(() => {
          if (current?.abort === abort) current = null;
        });
      current = { abort, done };
    } catch (error) {
      log.warn({ err: (error as Error).message, role }, 'could not ask for a role; trying again');
    } finally {
      checking = false;
    }
  };
  void check();
  const timer = setInterval(() => void check(), options.everyMs);
  timer.unref();
  return {
    active: () => current !== null,
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      const running = current;
      running?.abort.abort();
      await running?.done;
    },
  };
}
