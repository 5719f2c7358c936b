import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { lines, stream };
}

const config = {
  LOG_LEVEL: 'info' as const,
  DISCORD_TOKEN: 'MTIzNDU2Nzg5.discord-secret-token',
  OPENAI_API_KEY: 'sk-proj-very-secret-key',
  DATABASE_URL: 'postgresql://bot:db-pass-word@db:5432/discord_gpt',
  REDIS_URL: 'redis://:redis-pass-word@cache:6379',
};

describe('logging', () => {
  it('never writes a secret, whether in a known field or hidden inside a message', () => {
    const { lines, stream } = capture();
    const logger = createLogger(config, stream);
    logger.info({ token: config.DISCORD_TOKEN, headers: { authorization: `Bot ${config.DISCORD_TOKEN}` } }, 'login');
    logger.error({ err: new Error(`401 Incorrect API key provided: ${config.OPENAI_API_KEY}`) }, 'model failed');
    logger.warn(`could not connect to ${config.DATABASE_URL} or ${config.REDIS_URL}`);
    const output = lines.join('');
    expect(lines).toHaveLength(3);
    for (const secret of [config.DISCORD_TOKEN, config.OPENAI_API_KEY, 'db-pass-word', 'redis-pass-word']) expect(output).not.toContain(secret);
    expect(output).toContain('[Redacted]');
    expect(output).toContain('Incorrect API key provided');
  });
});
