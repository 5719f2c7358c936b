// `npm run commands:deploy` on its own: registers the commands with one idempotent bulk overwrite.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FakeDiscord } from '../support/fake-discord/server.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSX_CLI = fileURLToPath(new URL('../../node_modules/tsx/dist/cli.mjs', import.meta.url));
let discord: FakeDiscord;

beforeAll(async () => {
  discord = await new FakeDiscord().start();
});
afterAll(() => discord?.stop());

const deploy = (env: Record<string, string>) =>
  promisify(execFile)(process.execPath, [TSX_CLI, 'commands/deploy.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, ENV_FILE: '/nonexistent/.env', OPENAI_API_KEY: 'unused', ...env },
  });

it('registers every command with a bulk overwrite, and again without duplicates', async () => {
  const env = { DISCORD_TOKEN: discord.token, DISCORD_API_URL: discord.apiUrl };
  await deploy(env);
  await deploy(env);
  const puts = discord.requests.filter((r) => r.method === 'PUT' && r.path === `/applications/${discord.applicationId}/commands`);
  expect(puts).toHaveLength(2);
  expect(discord.commands.map((c) => c.name).sort()).toEqual(['clear-history', 'help', 'history', 'instructions', 'logout', 'model', 'privacy', 'stats', 'usage']);
});

it('fails with a readable message when the token is wrong', async () => {
  const result = await deploy({ DISCORD_TOKEN: 'wrong', DISCORD_API_URL: discord.apiUrl }).then(
    () => ({ code: 0, stderr: '' }),
    (error: { code: number; stderr: string }) => error,
  );
  expect(result.code).toBe(1);
  expect(result.stderr).toMatch(/Could not register commands: .*401|Unauthorized/);
  expect(result.stderr).not.toContain('    at ');
});
