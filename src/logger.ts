// Structured logging (pino). Secrets are redacted by path and by value, so a token that ends up
// inside an error message or a URL never reaches the log.
import pino, { type Logger } from 'pino';
import type { Config } from './config/index.js';

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
      base: { service: 'discord-gpt' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    // Value-based scrubbing as the last line of defence (error messages, URLs).
    { write: (line: string) => stream.write(scrub(line)) } as pino.DestinationStream,
  );
}
