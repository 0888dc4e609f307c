// `steppewatch run` as a service: the worker, the bot, the health and metrics server, signals
// (SIGTERM/SIGINT stop gracefully, a second one exits at once, SIGHUP reloads) and config reload
// when the file changes. The store is the caller's to open and close.

import { loadConfig, type Config } from '../config/load.js';
import { watchConfigFile } from '../config/watch.js';
import type { AlertSink } from '../delivery/sink.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/store.js';
import type { Embedder } from '../dedup/embeddings.js';
import type { Summarizer } from '../summary/llm.js';
import type { Bot } from '../bot/bot.js';
import { currentReadiness, startHttpServer, type HttpServer, type HttpSources } from './http.js';
import { createOperatorPage } from '../page/page.js';
import type { Credentials } from '../page/access.js';
import { Metrics } from './metrics.js';
import { startWorker, type Worker, type WorkerStatus } from './worker.js';
import { BOT_ROLE, whileHolding, type RoleDuty } from './roles.js';

export interface ServiceOptions {
  configFile: string;
  config: Config;
  store: Store;
  sink: AlertSink;
  summarizer: Summarizer;
  /** an embeddings endpoint for folds across languages, when configured */
  embedder: Embedder | null;
  log: Logger;
  /** where the health server listens (port 0: no server), and the operator page's access when http.page is on */
  http: { host: string; port: number; page?: { credentials: Credentials | null; secrets: readonly string[] } | null };
  /** the bot (null without a token), reading the config in use through `config` */
  createBot: (config: () => Config) => Bot | null;
}

/** Keys read once at start: a reload that changes them needs a restart to take effect. */
function restartOnlyChanges(before: Config, after: Config): string[] {
  const keys: Array<[string, (c: Config) => unknown]> = [
    ['http', (c) => c.http],
    ['bot.webhook', (c) => c.bot.webhook],
    ['summary.timeout', (c) => c.summary.timeoutMs],
  ];
  return keys.filter(([, read]) => JSON.stringify(read(before)) !== JSON.stringify(read(after))).map(([name]) => name);
}

/** Runs until SIGTERM or SIGINT, then stops gracefully and resolves; exit code 0. */
export async function runService(options: ServiceOptions): Promise<number> {
  const { configFile, store, sink, summarizer, embedder, log } = options;
  let config = options.config;
  const metrics = new Metrics({ store, config: () => config });
  let worker: Worker | null = null;
  const starting: WorkerStatus = { startedAt: Date.now(), running: false, lastCycleFinishedAt: null, lastCycleError: null, periodMs: 0, roles: [] };

  // Signals are ours from the start: a SIGTERM while starting stops gracefully too.
  let signals = 0;
  let stopRequested: NodeJS.Signals | null = null;
  const onStop = (signal: NodeJS.Signals): void => {
    signals++;
    if (signals > 1) {
      log.warn({ signal }, 'second signal: exiting now; queued alerts stay in the store');
      process.exit(130);
    }
    stopRequested = signal;
    void worker?.stop(signal);
  };
  const onHangup = (): void => reload('SIGHUP');
  process.on('SIGINT', onStop);
  process.on('SIGTERM', onStop);
  process.on('SIGHUP', onHangup);

  // Bound first: a taken port is a config error, found before any work starts.
  let http: HttpServer | null = null;
  try {
    if (options.http.port > 0) {
      const status = (): WorkerStatus => worker?.status() ?? starting;
      const access = options.http.page;
      const page = access
        ? createOperatorPage({
            store,
            config: () => config,
            worker: async () => {
              const { verdict, status: now } = await currentReadiness({ status, store });
              return { ready: verdict.ready, reasons: verdict.reasons, lastCycleFinishedAt: now.lastCycleFinishedAt, roles: now.roles };
            },
            credentials: access.credentials,
            secrets: access.secrets,
          })
        : undefined;
      const sources: HttpSources = { status, store, metrics, push: { endpoint: () => worker?.push ?? null, maxBytes: config.fetch.maxBytes }, ...(page ? { page } : {}) };
      http = await startHttpServer({ host: options.http.host, port: options.http.port, log, sources });
    }
  } catch (error) {
    for (const [signal, listener] of [['SIGINT', onStop], ['SIGTERM', onStop], ['SIGHUP', onHangup]] as const) process.off(signal, listener);
    throw error;
  }

  if (config.http.publicUrl !== null && !http) log.warn({ publicUrl: config.http.publicUrl }, 'http.public_url is set but the HTTP server is off (HTTP_PORT=0): WebSub hubs cannot reach this worker');
  const running = startWorker({ config, store, sink, log, summarizer, embedder, observer: metrics });
  worker = running;
  if (stopRequested !== null) void running.stop(stopRequested);
  // Watched from the worker's start: a change made while the bot announces its menus counts.
  const watcher = watchConfigFile(configFile, () => reload('file changed'));
  const bot = options.createBot(() => config);
  const botStopped = new AbortController();
  await bot?.announceCommands();
  // A webhook reaches whichever worker the proxy sends it to; long polling is one worker's at a
  // time (Telegram answers a second poller with 409), the one that holds the bot role.
  let botDuty: RoleDuty | null = null;
  let polling: Promise<void> | undefined;
  if (bot && config.bot.webhook) polling = bot.serveWebhook(config.bot.webhook, botStopped.signal).then((served) => served.closed);
  else if (bot) botDuty = whileHolding({ store, role: BOT_ROLE, everyMs: config.workers.roleCheckMs, log }, (signal) => bot.poll(signal));

  /** A new config is validated in full before it replaces the one in use; a bad one changes nothing. */
  function reload(trigger: string): void {
    let next: Config;
    try {
      next = loadConfig(configFile);
    } catch (error) {
      metrics.configReloaded(false);
      log.error({ trigger, file: configFile, problems: (error as Error).message.split('\n') }, 'new config rejected; the one in use stays');
      return;
    }
    // Against the config the process started with: that is what these keys still are.
    const needRestart = restartOnlyChanges(options.config, next);
    config = next;
    worker?.reload(next);
    metrics.configReloaded(true);
    log.info(
      { trigger, file: configFile, schedule: next.schedule, feeds: next.feeds.length, watchlists: next.watchlists.size, channels: next.channels.length },
      'config reloaded; the next cycle uses it',
    );
    if (needRestart.length > 0) log.warn({ keys: needRestart }, 'these settings changed but take effect only after a restart');
  }
  void running.stopped.then(() => botStopped.abort());

  await running.stopped;
  await botDuty?.stop();
  await polling;
  watcher?.close();
  await http?.close();
  process.off('SIGHUP', onHangup);
  return 0;
}
