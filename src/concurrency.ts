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

/** Runs sections at most `limit` at once; the others wait their turn, first come first served. */
export interface Limiter {
  run<R>(section: () => Promise<R>): Promise<R>;
}

export function createLimiter(limit: number): Limiter {
  let running = 0;
  const waiting: Array<() => void> = [];
  const release = (): void => {
    const next = waiting.shift();
    if (next) next();
    else running--;
  };
  return {
    async run<R>(section: () => Promise<R>): Promise<R> {
      if (running < limit) running++;
      // A released slot passes straight to the next in line, so `running` never dips meanwhile.
      else await new Promise<void>((resolve) => waiting.push(resolve));
      try {
        return await section();
      } finally {
        release();
      }
    },
  };
}

/**
 * A limiter per key (a host) under one global limiter: a section waits first for its key's slot,
 * then for a global one, so a busy host's queue never holds slots other hosts could use.
 */
export interface KeyedLimiter {
  run<R>(key: string, section: () => Promise<R>): Promise<R>;
}

export function createKeyedLimiter(limit: number, limitFor: (key: string) => number): KeyedLimiter {
  const global = createLimiter(limit);
  const perKey = new Map<string, { limiter: Limiter; users: number }>();
  return {
    async run<R>(key: string, section: () => Promise<R>): Promise<R> {
      let entry = perKey.get(key);
      if (!entry) perKey.set(key, (entry = { limiter: createLimiter(limitFor(key)), users: 0 }));
      entry.users++;
      try {
        return await entry.limiter.run(() => global.run(section));
      } finally {
        // Keys come and go with the feeds: an idle key's limiter is dropped.
        if (--entry.users === 0) perKey.delete(key);
      }
    },
  };
}
