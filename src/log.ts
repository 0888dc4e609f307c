// JSON logs on stderr (pino), made readable (pino-pretty) when a person watches a terminal.
// Secrets are scrubbed from every line on its way out, so a token inside an error message, a
// URL or a header cannot leak whatever logged it. (On the serialised line rather than through
// pino's redact paths: those cost four times the rest of a log call; see bench/ops.ts.)

import { format } from 'node:util';
import createDebug from 'debug';
import { pino, type Logger as PinoLogger } from 'pino';
import { prettyFactory } from 'pino-pretty';

export type Logger = PinoLogger;

const REDACTED = '[redacted]';

/** Returns `text` with every secret replaced. Each rule runs only on lines that could need it. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (!out.includes(secret)) continue;
    // A long secret wherever it appears; a short one only as a word of its own, so that a
    // three-letter key does not blank those letters out of every line.
    out = secret.length >= 8 ? out.split(secret).join(REDACTED) : out.replace(new RegExp(`(?<![\\p{L}\\p{N}])${escapeRegExp(secret)}(?![\\p{L}\\p{N}])`, 'gu'), REDACTED);
  }
  // Bot tokens in Bot API URLs (also URL-encoded), even ones we were not told about.
  if (out.includes('/bot')) out = out.replace(/\/bot\d+(?::|%3A)[A-Za-z0-9_-]+/giu, `/bot${REDACTED}`);
  // Fields named as secrets, whatever their value (a JSON line: keys are quoted).
  if (out.includes('"token"') || out.includes('"apiKey"')) out = out.replace(/"(token|apiKey)":"(?:[^"\\]|\\.)*"/gu, `"$1":"${REDACTED}"`);
  // Credentials in an Authorization header, however it was logged.
  if (out.includes('uthorization') || out.includes('UTHORIZATION')) {
    out = out.replace(/((?:^|[^a-z])authorization["']?\s*[:=]\s*["']?)[^"',}\n]*/giu, `$1${REDACTED}`);
  }
  if (out.includes('Bearer') || out.includes('Basic')) out = out.replace(/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gu, `$1 ${REDACTED}`);
  return out;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/gu, '\\$&');
}

/**
 * Libraries' own debug output (`DEBUG=telegraf:*` prints the Bot API's URLs, token included)
 * goes through the same scrubber as our logs.
 */
export function scrubLibraryDebug(secrets: readonly string[]): void {
  const known = secrets.filter((s) => s.length > 0);
  createDebug.log = (...args: unknown[]): void => {
    process.stderr.write(`${scrub(format(...args), known)}\n`);
  };
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
  return pino({ level: options.level ?? 'info', base: undefined }, stream);
}
