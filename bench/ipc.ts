// IPC between benchmark processes: messages can arrive back to back, before anyone waits for
// them, so each side keeps an inbox and takes messages out by type, in order.

import { fork, type ChildProcess } from 'node:child_process';
import type { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';

export interface Mailbox {
  next<T>(type: string): Promise<T>;
}

/** An inbox on a ChildProcess (which may exit) or on `process` (talking to the parent). */
export function mailbox(source: EventEmitter): Mailbox {
  const inbox: Array<{ type: string }> = [];
  let exited: number | null | undefined;
  let wake: (() => void) | null = null;
  source.on('message', (message: { type: string }) => {
    inbox.push(message);
    wake?.();
  });
  source.on('exit', (code: number | null) => {
    exited = code;
    wake?.();
  });
  return {
    async next<T>(type: string): Promise<T> {
      for (;;) {
        const index = inbox.findIndex((m) => m.type === type);
        if (index >= 0) return inbox.splice(index, 1)[0] as T;
        if (exited !== undefined) throw new Error(`process exited (${exited}) before sending ${type}`);
        await new Promise<void>((resolve) => (wake = resolve));
      }
    },
  };
}

/** A benchmark process and its inbox. */
export interface Peer {
  process: ChildProcess;
  mail: Mailbox;
}

/** Forks the TypeScript module at `file` (a URL beside the caller) under tsx, with an inbox on it. */
export function startPeer(file: URL, args: string[], env: NodeJS.ProcessEnv = process.env, nodeFlags: string[] = []): Peer {
  const child = fork(fileURLToPath(file), args, { execArgv: ['--import', 'tsx', ...nodeFlags], env });
  return { process: child, mail: mailbox(child) };
}
