// JSON logs on stderr (pino), made readable (pino-pretty) when a person watches a terminal.
// Secrets are scrubbed from every line on its way out, so a token inside an error message, a
// URL or a header cannot leak whatever logged it.

import { pino, type Logger as PinoLogger } from 'pino';
import { prettyFactory } from 'pino-pretty';

export type Logger = PinoLogger;

const REDACTED = '[redacted]';

/** Returns `text` with every secret replaced. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret.length >= 8) out = out.split(secret).join(REDACTED);
  return (
    out
      // Bot tokens in Bot API URLs (also URL-encoded), even ones we were not told about.
      .replace(/\/bot\d+(?::|%3A)[A-Za-z0-9_-]+/giu, `/bot${REDACTED}`)
      // Credentials in an Authorization header, however it was logged.
      .replace(/((?:^|[^a-z])authorization["']?\s*[:=]\s*["']?)[^"',}\n]*/giu, `$1${REDACTED}`)
      .replace(/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gu, `$1 ${REDACTED}`)
  );
}

export interface LoggerOptions {
  level?: string;
  secrets?: readonly string[];
  destination?: NodeJS.WritableStream;
  /** human-readable lines instead of JSON (for a terminal) */
  pretty?: boolean;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const secrets = (options.secrets ?? []).filter((s) => s.length > 0);
  const out = options.destination ?? process.stderr;
  const format = options.pretty ? prettyFactory({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' }) : null;
  const stream = {
    write: (line: string) => {
      const clean = scrub(line, secrets);
      out.write(format ? format(clean) : clean);
    },
  };
  return pino(
    {
      level: options.level ?? 'info',
      base: undefined,
      redact: {
        paths: ['token', '*.token', 'apiKey', '*.apiKey', 'headers.authorization', '*.headers.authorization', 'headers.Authorization', '*.headers.Authorization'],
        censor: REDACTED,
      },
    },
    stream,
  );
}
