// The operator's window into a running worker: /healthz (the process answers), /readyz (the store
// answers and cycles keep finishing), /metrics (Prometheus), and with http.page the operator page
// at / (src/page/). Read-only, GET and HEAD only; but with http.public_url, WebSub hubs GET and
// POST /websub/<id> (src/worker/push.ts).

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../log.js';
import { storeProblem } from '../store/problem.js';
import type { Store } from '../store/store.js';
import type { Metrics } from './metrics.js';
import type { WorkerStatus } from './worker.js';
import type { PushEndpoint } from './push.js';
import type { OperatorPage } from '../page/page.js';

const WEBSUB_PATH = /^\/websub\/([A-Za-z0-9_-]{1,64})$/u;

/** A request body up to `maxBytes`, or null when it is longer (the rest is not read). */
async function readBody(request: IncomingMessage, maxBytes: number): Promise<Uint8Array | null> {
  const declared = Number(request.headers['content-length'] ?? Number.NaN);
  if (declared > maxBytes) return null;
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of request) {
    const bytes = chunk as Buffer;
    total += bytes.byteLength;
    if (total > maxBytes) return null;
    chunks.push(bytes);
  }
  return Buffer.concat(chunks);
}

/** A hub's verification (GET) or delivery (POST) at /websub/<id>; true when the path was one. */
async function handlePush(request: IncomingMessage, response: ServerResponse, sources: HttpSources): Promise<boolean> {
  const url = new URL(request.url ?? '/', 'http://callback');
  const id = WEBSUB_PATH.exec(url.pathname)?.[1];
  const endpoint = sources.push?.endpoint();
  if (id === undefined || !endpoint || !sources.push) return false;
  const text = 'text/plain; charset=utf-8';
  if (request.method === 'GET') {
    const verdict = await endpoint.verify(id, url.searchParams);
    reply(response, verdict.status, text, verdict.body);
    return true;
  }
  if (request.method !== 'POST') {
    response.setHeader('allow', 'GET, POST');
    reply(response, 405, text, 'method not allowed\n');
    return true;
  }
  const body = await readBody(request, sources.push.maxBytes);
  if (!body) {
    response.setHeader('connection', 'close');
    reply(response, 413, text, 'too large\n');
    return true;
  }
  const header = (name: string): string | null => {
    const value = request.headers[name];
    return Array.isArray(value) ? value.join(', ') : (value ?? null);
  };
  // Answered as soon as the signature is checked; the content goes through the pipeline after.
  const status = await endpoint.deliver(id, { body, contentType: header('content-type'), signature: header('x-hub-signature'), link: header('link') });
  reply(response, status, text, '');
  return true;
}

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
  /** WebSub callbacks at /websub/<id> (http.public_url set), with the cap on a pushed body (fetch.max_bytes) */
  push?: { endpoint: () => PushEndpoint | null; maxBytes: number };
  /** the operator page at / (http.page: true) */
  page?: OperatorPage;
}

/** The worker's readiness as /readyz answers it: the store pinged, the last cycle's age, delivery. */
export async function currentReadiness(sources: Pick<HttpSources, 'status' | 'store'>): Promise<{ verdict: Readiness; status: WorkerStatus }> {
  const storeError = await sources.store.ping().then(
    () => null,
    (error: unknown) => storeProblem(error) ?? (error as Error).message,
  );
  const status = sources.status();
  return { verdict: readiness(status, storeError, Date.now()), status };
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
  if (await handlePush(request, response, sources)) return;
  if (sources.page && (await sources.page.serve(request, response))) return;
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
      const { verdict, status } = await currentReadiness(sources);
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
  if (sources.page) log.info({ url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}/` }, 'operator page served');
  return {
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
