// Concurrency helpers: a pool with a global and a per-key (per-host) limit, and a serial section.

/**
 * Runs `task` over `inputs`, at most `limit` at once and at most `perKey` at once for one key
 * (a host). A free slot goes to the first input whose host has room, so feeds of a slow host
 * queue behind each other without holding slots the other hosts could use.
 * Rejects with the first task error (tasks already running are left to finish).
 */
export function runPooled<T>(
  inputs: readonly T[],
  keyOf: (input: T) => string,
  limits: { limit: number; perKey: number },
  task: (input: T) => Promise<void>,
): Promise<void> {
  const pending = [...inputs];
  const active = new Map<string, number>();
  let running = 0;
  let failed = false;
  return new Promise((resolve, reject) => {
    const pump = (): void => {
      if (failed) return;
      if (pending.length === 0 && running === 0) {
        resolve();
        return;
      }
      while (running < limits.limit) {
        const index = pending.findIndex((input) => (active.get(keyOf(input)) ?? 0) < limits.perKey);
        if (index < 0) return;
        const input = pending.splice(index, 1)[0] as T;
        const key = keyOf(input);
        active.set(key, (active.get(key) ?? 0) + 1);
        running++;
        task(input)
          .then(
            () => undefined,
            (error: unknown) => {
              failed = true;
              reject(error instanceof Error ? error : new Error(String(error)));
            },
          )
          .finally(() => {
            active.set(key, (active.get(key) ?? 1) - 1);
            running--;
            pump();
          });
      }
    };
    pump();
  });
}

/** Serialises async sections: each runs after the previous one has settled. */
export function createSerialQueue(): <R>(section: () => Promise<R>) => Promise<R> {
  let tail: Promise<unknown> = Promise.resolve();
  return <R>(section: () => Promise<R>) => {
    const run = tail.then(section, section);
    tail = run.catch(() => undefined);
    return run;
  };
}
