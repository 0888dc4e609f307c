// The environment contract (DESIGN.md), validated once at start-up.

import { z } from 'zod';
import { DEFAULT_CONFIG_FILE } from './config/paths.js';
import { DEFAULT_API_ROOT } from './delivery/telegram.js';
import { DEFAULT_DATABASE_URL } from './store/open.js';

const emptyAsUndefined = (value: unknown) => (value === '' ? undefined : value);

const EnvSchema = z.object({
  TELEGRAM_BOT_TOKEN: z.preprocess(
    emptyAsUndefined,
    z.string().regex(/^\d+:[A-Za-z0-9_-]+$/u, { message: 'does not look like a bot token (123456:ABC…)' }).optional(),
  ),
  TELEGRAM_API_ROOT: z.preprocess(
    emptyAsUndefined,
    z.url({ protocol: /^https?$/u, message: 'must be an http(s) URL' }).default(DEFAULT_API_ROOT),
  ),
  DATABASE_URL: z.preprocess(emptyAsUndefined, z.string().default(DEFAULT_DATABASE_URL)),
  STEPPEWATCH_CONFIG: z.preprocess(emptyAsUndefined, z.string().default(DEFAULT_CONFIG_FILE)),
  // An OpenAI-compatible chat endpoint for summaries; off unless both URL and model are set.
  SUMMARY_API_URL: z.preprocess(emptyAsUndefined, z.url({ protocol: /^https?$/u, message: 'must be an http(s) URL' }).optional()),
  SUMMARY_MODEL: z.preprocess(emptyAsUndefined, z.string().optional()),
  SUMMARY_API_KEY: z.preprocess(emptyAsUndefined, z.string().optional()),
  // An OpenAI-compatible embeddings endpoint (its full URL) for cross-language folding; off unless set.
  EMBEDDINGS_API_URL: z.preprocess(emptyAsUndefined, z.url({ protocol: /^https?$/u, message: 'must be an http(s) URL' }).optional()),
  EMBEDDINGS_MODEL: z.preprocess(emptyAsUndefined, z.string().optional()),
  EMBEDDINGS_API_KEY: z.preprocess(emptyAsUndefined, z.string().optional()),
  // The health and metrics server of `run`; they override the config's http.port and http.host.
  HTTP_PORT: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .regex(/^\d{1,5}$/u, { message: 'must be a port number, 0 to turn the server off' })
      .transform(Number)
      .refine((port) => port <= 65535, { message: 'must be a port number, 0 to turn the server off' })
      .optional(),
  ),
  HTTP_HOST: z.preprocess(emptyAsUndefined, z.string().optional()),
  // Basic auth for the operator page (http.page); they override the config's http.auth.
  HTTP_AUTH_USER: z.preprocess(emptyAsUndefined, z.string().regex(/^[^:]*$/u, { message: 'must not contain ":"' }).optional()),
  HTTP_AUTH_PASSWORD: z.preprocess(emptyAsUndefined, z.string().min(12, { message: 'must be at least 12 characters' }).optional()),
  LOG_LEVEL: z.preprocess(
    emptyAsUndefined,
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ),
});

export type Env = z.output<typeof EnvSchema>;

export class EnvError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EnvError';
  }
}

/** Reads the variables steppewatch uses; throws EnvError naming each bad one. */
export function readEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const parsed = EnvSchema.safeParse(source);
  if (parsed.success) return parsed.data;
  // Never echo the value: it may be the token.
  throw new EnvError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('\n'));
}
