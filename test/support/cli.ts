// Runs the compiled CLI as a child process, as a user or an outside tool would.

import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Only what the CLI needs: no developer's TELEGRAM_* or DATABASE_URL leaks into a test. */
export function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  // HTTP_PORT=0: `run` in tests that run side by side must not all want port 8080.
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'info', HTTP_PORT: '0' };
  return { ...env, ...extra };
}

/** How a test runs the CLI beyond its arguments and environment. */
export interface RunOptions {
  /** another user to run it as (only root may ask): for what root is never refused, like a read-only file */
  as?: { uid: number; gid: number };
  /** written to its standard input, which is then closed (else it has none) */
  input?: string;
}

export function startCli(args: string[], env: Record<string, string>, cwd = ROOT, options: RunOptions = {}): ChildProcess {
  const stdin = options.input === undefined ? 'ignore' : 'pipe';
  const child = spawn(process.execPath, [CLI, ...args], { cwd, env: cleanEnv(env), stdio: [stdin, 'pipe', 'pipe'], ...options.as });
  if (options.input !== undefined) child.stdin?.end(options.input);
  return child;
}

export function runCli(args: string[], env: Record<string, string> = {}, cwd = ROOT, options: RunOptions = {}): Promise<CliResult> {
  const child = startCli(args, env, cwd, options);
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The JSON log lines a run wrote to stderr. */
export function logLines(stderr: string): Array<Record<string, unknown>> {
  return stderr
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

export interface FollowedCli {
  child: ChildProcess;
  /** everything written to stderr so far */
  stderr(): string;
  /** resolves with the first JSON log line (from `after` on) that `matches`, when it is written */
  waitForLog(matches: (line: Record<string, unknown>) => boolean, after?: number): Promise<Record<string, unknown>>;
  /** how many log lines so far: pass as `after` to wait for a later one */
  logCount(): number;
  exited: Promise<number | null>;
}

/** Starts the CLI and follows its JSON log lines, for tests that wait on what a long run says. */
export function followCli(args: string[], env: Record<string, string>, cwd = ROOT): FollowedCli {
  const child = startCli(args, env, cwd);
  let stderr = '';
  const lines: Array<Record<string, unknown>> = [];
  const waiters = new Set<{ matches: (line: Record<string, unknown>) => boolean; after: number; resolve: (line: Record<string, unknown>) => void }>();
  let partial = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    for (const part of parts) {
      if (!part.startsWith('{')) continue;
      const line = JSON.parse(part) as Record<string, unknown>;
      lines.push(line);
      for (const waiter of waiters) {
        if (lines.length > waiter.after && waiter.matches(line)) {
          waiters.delete(waiter);
          waiter.resolve(line);
        }
      }
    }
  });
  child.stdout?.resume();
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  return {
    child,
    stderr: () => stderr,
    logCount: () => lines.length,
    waitForLog(matches, after = 0) {
      const found = lines.slice(after).find(matches);
      if (found) return Promise.resolve(found);
      return new Promise((resolve) => waiters.add({ matches, after, resolve }));
    },
    exited,
  };
}

/** A port free on 127.0.0.1 just now, for a child process to listen on. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
