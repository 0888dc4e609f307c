// The operator's window into a running worker: /healthz (the process answers), /readyz (the store
// answers and cycles keep finishing), /metrics (Prometheus). Read-only, GET and HEAD only.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../log.js';
import { storeProblem } from '../store/problem.js';
import type { Store } from '../store/store.js';
import type { Metrics } from './metrics.js';
import type { WorkerStatus } from './worker.js';

export interface Readiness {
  ready: boolean;
  /** why not, in words an operator can act on */
  reasons: string[];
}

/**
 * Ready when the store answers and the last cycle finished within two schedule periods (a slow
 * cycle may make the scheduler skip one tick, two in a row mean trouble).
 */
export function readiness(status: WorkerStatus, storeError: string | null, now: number): Readiness {
  const reasons: string[] = [];
  if (storeError !== null) reasons.push(`store: ${storeError}`);
  // A store that answers reads but failed the last cycle (read-only, disk full) is not ready now,
  // not two schedule periods later.
  else if (status.storeProblem) reasons.push(`store: ${status.storeProblem}`);
  if (status.lastCycleFinishedAt === null) {
    reasons.push(status.running ? 'the first cycle is still running' : `no cycle has finished yet${status.lastCycleError ? ` (last error: ${status.lastCycleError})` : ''}`);
  } else {
    const sinceMs = now - status.lastCycleFinishedAt;
    if (sinceMs > 2 * status.periodMs) {
      reasons.push(
        `the last cycle finished ${Math.round(sinceMs / 1000)} s ago, more than two schedule periods (${Math.round((2 * status.periodMs) / 1000)} s)` +
          (status.lastCycleError ? `; last error: ${status.lastCycleError}` : status.running ? '; a cycle is running' : ''),
      );
    }
  }
  if (status.deliveryProblem) reasons.push(`delivery paused: ${status.deliveryProblem}`);
  return { ready: reasons.length === 0, reasons };
}

export interface HttpSources {
  status: () => WorkerStatus;
  store: Pick<Store, 'ping'>;
  metrics: Metrics;
}

/** The port is taken or the host cannot be bound: the operator must choose another. */
export class HttpServerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HttpServerError';
  }
}

export interface HttpServer {
  port: number;
  close(): Promise<void>;
}

function reply(response: ServerResponse, status: number, type: string, body: string): void {
  response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  response.end(body);
}

async function handle(request: IncomingMessage, response: ServerResponse, sources: HttpSources): Promise<void> {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('allow', 'GET, HEAD');
    reply(response, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
    return;
  }
  const path = (request.url ?? '/').split('?')[0];
  const json = 'application/json; charset=utf-8';
  switch (path) {
    case '/healthz':
      reply(response, 200, json, `${JSON.stringify({ status: 'ok', uptimeSeconds: Math.round(process.uptime()) })}\n`);
      return;
    case '/readyz': {
      const storeError = await sources.store.ping().then(
        () => null,
        (error: unknown) => storeProblem(error) ?? (error as Error).message,
      );
      const status = sources.status();
      const verdict = readiness(status, storeError, Date.now());
      const body = {
        ...verdict,
        cycleRunning: status.running,
        // what this worker does for all the workers on the database
        roles: status.roles,
        lastCycleFinishedAt: status.lastCycleFinishedAt === null ? null : new Date(status.lastCycleFinishedAt).toISOString(),
      };
      reply(response, verdict.ready ? 200 : 503, json, `${JSON.stringify(body)}\n`);
      return;
    }
    case '/metrics':
      reply(response, 200, sources.metrics.registry.contentType, await sources.metrics.registry.metrics());
      return;
    default:
      reply(response, 404, 'text/plain; charset=utf-8', 'not found: try /healthz, /readyz or /metrics\n');
  }
}

export async function startHttpServer(options: { host: string; port: number; sources: HttpSources; log: Logger }): Promise<HttpServer> {
  const { host, port, sources, log } = options;
  const server = createServer((request, response) => {
    handle(request, response, sources).catch((error: unknown) => {
      log.error({ err: error, path: request.url }, 'health server request failed');
      if (!response.headersSent) reply(response, 500, 'text/plain; charset=utf-8', 'internal error\n');
      else response.destroy();
    });
  });
  // A scraper that keeps its connection open must not hold up shutdown.
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      const why = error.code === 'EADDRINUSE' ? 'is in use' : error.code === 'EADDRNOTAVAIL' ? 'is not an address of this machine' : error.message;
      reject(new HttpServerError(`health server: ${host}:${port} ${why}; set HTTP_PORT (0 turns the server off) or HTTP_HOST`));
    });
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  log.info({ host, port: bound }, 'health server listening (/healthz, /readyz, /metrics)');
  return {
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
