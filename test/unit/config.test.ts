import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { ConfigError, configSchema, parseConfig } from '../../src/config/index.js';

const minimal = { DISCORD_TOKEN: 'discord-token', OPENAI_API_KEY: 'sk-test' };

describe('configuration', () => {
  it('fills every default from a minimal environment', () => {
    const config = parseConfig(minimal);
    expect(config).toMatchObject({
      OPENAI_MODEL: 'gpt-3.5-turbo',
      SESSION_TTL_SECONDS: 3600,
      CONTEXT_TOKEN_BUDGET: 3000,
      REDIS_URL: 'redis://127.0.0.1:6379',
      DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/discord_gpt',
      LOG_LEVEL: 'info',
      DEPLOY_COMMANDS_ON_START: true,
      REDIS_CLUSTER: false,
      REDELIVER_AFTER_MS: 15_000,
      WORKER_CONCURRENCY: 500,
      LOG_MESSAGE_CONTENT: false,
    });
    expect(config.DISCORD_API_URL).toBeUndefined();
    expect(config.SYSTEM_PROMPT.length).toBeGreaterThan(10);
  });

  it('treats empty values as unset', () => {
    expect(parseConfig({ ...minimal, OPENAI_MODEL: '', DISCORD_API_URL: '' }).OPENAI_MODEL).toBe('gpt-3.5-turbo');
  });

  it('coerces numbers and booleans from strings', () => {
    const config = parseConfig({ ...minimal, SESSION_TTL_SECONDS: '120', LOG_MESSAGE_CONTENT: 'true', DISCORD_API_URL: 'http://127.0.0.1:9999/api' });
    expect(config.SESSION_TTL_SECONDS).toBe(120);
    expect(config.LOG_MESSAGE_CONTENT).toBe(true);
    expect(config.DISCORD_API_URL).toBe('http://127.0.0.1:9999/api');
  });

  it('lists every problem at once, by variable name', () => {
    let error: unknown;
    try {
      parseConfig({ SESSION_TTL_SECONDS: 'soon', REDIS_URL: 'localhost:6379', LOG_LEVEL: 'loud', DISCORD_API_URL: 'not a url' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    for (const key of ['DISCORD_TOKEN is required', 'OPENAI_API_KEY is required', 'SESSION_TTL_SECONDS', 'REDIS_URL', 'LOG_LEVEL', 'DISCORD_API_URL']) {
      expect(problems).toContain(key);
    }
    expect((error as ConfigError).problems).toHaveLength(6);
  });

  it('documents every setting in .env.example and the README', () => {
    const example = readFileSync('.env.example', 'utf8');
    const readme = readFileSync('README.md', 'utf8');
    for (const key of Object.keys(configSchema.shape)) {
      expect(example, key).toMatch(new RegExp(`^#? ?${key}=`, 'm'));
      expect(readme, key).toContain(`\`${key}\``);
    }
  });
});
