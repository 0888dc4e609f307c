// JSON logs on stderr (pino). Secrets are scrubbed from every line on its way out, so a token
// inside an error message or a URL cannot leak whatever logged it.

import { pino, type Logger as PinoLogger } from 'pino';

export type Logger = PinoLogger;

const REDACTED = '[redacted]';

/** Returns `text` with every secret replaced. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret.length >= 8) out = out.split(secret).join(REDACTED);
  // Bot tokens in Bot API URLs, even ones we were not told about.
  return out.replace(/\/bot\d+:[A-Za-z0-9_-]+/gu, `/bot${REDACTED}`);
}

export interface LoggerOptions {
  level?: string;
  secrets?: readonly string[];
  destination?: NodeJS.WritableStream;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const secrets = (options.secrets ?? []).filter((s) => s.length > 0);
  const out = options.destination ?? process.stderr;
  const stream = { write: (line: string) => out.write(scrub(line, secrets)) };
  return pino(
    {
      level: options.level ?? 'info',
      base: undefined,
      redact: { paths: ['token', '*.token', 'headers.authorization', '*.headers.authorization'], censor: REDACTED },
    },
    stream,
  );
}
