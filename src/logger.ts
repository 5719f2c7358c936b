// Structured logging (pino). Secrets are redacted by path and by value, so a token that ends up
// inside an error message or a URL never reaches the log. Errors go through one serializer
// (log-errors.ts) that keeps the diagnosis and drops what a person wrote.
import pino, { type Logger } from 'pino';
import type { Config } from './config/index.js';
import { serializeError } from './log-errors.js';

export type { Logger };

const REDACT_PATHS = [
  'token',
  '*.token',
  'apiKey',
  '*.apiKey',
  'password',
  '*.password',
  'authorization',
  '*.authorization',
  '*.headers.authorization',
  'DISCORD_TOKEN',
  'OPENAI_API_KEY',
  '*.DISCORD_TOKEN',
  '*.OPENAI_API_KEY',
];

/** The values that must never be written, whatever field they hide in. */
export function secretsOf(config: Pick<Config, 'DISCORD_TOKEN' | 'OPENAI_API_KEY' | 'DATABASE_URL' | 'REDIS_URL'>): string[] {
  const secrets = [config.DISCORD_TOKEN, config.OPENAI_API_KEY];
  for (const url of [config.DATABASE_URL, config.REDIS_URL]) {
    try {
      const password = decodeURIComponent(new URL(url).password);
      if (password) secrets.push(password);
    } catch {
      // An unparsable URL was already rejected by the config schema.
    }
  }
  return secrets.filter((s) => s.length >= 4);
}

export function createLogger(
  config: Pick<Config, 'LOG_LEVEL'> & Parameters<typeof secretsOf>[0],
  destination?: pino.DestinationStream,
): Logger {
  const secrets = secretsOf(config);
  const scrub = (line: string) => secrets.reduce((out, secret) => out.split(secret).join('[Redacted]'), line);
  const stream = destination ?? pino.destination({ dest: 1, sync: true });
  return pino(
    {
      level: config.LOG_LEVEL,
      redact: { paths: REDACT_PATHS, censor: '[Redacted]' },
      serializers: { err: serializeError, error: serializeError, cause: serializeError },
      hooks: {
        // Given no message, pino would write the error's own (a statement with its values, say).
        logMethod(args, method) {
          const [first, ...rest] = args as unknown[];
          const error = first instanceof Error ? first : (first as { err?: unknown } | null)?.err;
          if (error === undefined || rest.length > 0 || typeof first !== 'object') return method.apply(this, args);
          const { message, type } = serializeError(error);
          return method.call(this, first as object, message ?? type);
        },
      },
      base: { service: 'discord-gpt' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    // Value-based scrubbing as the last line of defence (error messages, URLs).
    { write: (line: string) => stream.write(scrub(line)) },
  );
}
