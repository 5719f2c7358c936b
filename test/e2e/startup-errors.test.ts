// Start-up failures, as an operator meets them: the bot (started as `npm start` starts it) stops with
// one line that names the component, where it looked, and the setting to change, and it says in its
// log what it is about to do before each step that can take long.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer as createHttpServer } from 'node:http';
import { type Server, type Socket, createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, startCommand } from '../support/bot-process.js';
import { dropDatabase, freshDatabaseUrl } from '../support/database.js';
import { FakeDiscord } from '../support/fake-discord/server.js';
import { REDIS_URL, freshPrefix } from '../support/redis.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const database = freshDatabaseUrl('startup');
const servers: Server[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  await dropDatabase(database.name);
});

/** Listens on a free port of 127.0.0.1 until the tests end (its connections are cut then). */
async function listen(server: Server): Promise<number> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const close = server.close.bind(server);
  server.close = (callback) => {
    for (const socket of sockets) socket.destroy();
    return close(callback);
  };
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  servers.push(server);
  return (server.address() as { port: number }).port;
}

/** Runs the bot until it exits (it is expected to fail); its stderr and the `msg` of each log line. */
async function startUp(env: Record<string, string>): Promise<{ code: number | null; stderr: string; steps: string[] }> {
  const { nodeArgs, entry } = startCommand();
  const child = spawn(process.execPath, [...nodeArgs, entry], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ENV_FILE: '/nonexistent/.env',
      DISCORD_TOKEN: 'not-a-real-token',
      OPENAI_API_KEY: 'sk-not-used',
      DATABASE_URL: database.url,
      REDIS_URL,
      REDIS_KEY_PREFIX: freshPrefix('startup'),
      HTTP_PORT: '0',
      LOG_LEVEL: 'info',
      DISCORD_API_URL: 'http://127.0.0.1:9/api',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const [code] = (await once(child, 'exit')) as [number | null];
  // The log lines that announce a step (others, such as the errors a client logs, are left out).
  const steps = stdout.split('\n').flatMap((line) => (line.startsWith('{') ? [String((JSON.parse(line) as { msg?: string }).msg)] : [])).filter((msg) => /^(connecting|starting|logging in)/.test(msg));
  return { code, stderr, steps };
}

describe('start-up failures name what to change', () => {
  it('PostgreSQL not there: names DATABASE_URL and the address, never the password', async () => {
    const port = await freePort();
    const run = await startUp({ DATABASE_URL: `postgresql://bot:s3cret-pw@127.0.0.1:${port}/somewhere` });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `Start-up failed: PostgreSQL at DATABASE_URL (127.0.0.1:${port}/somewhere) refused the connection. Is PostgreSQL running there? Start it, or set DATABASE_URL to where it runs.\n`,
    );
    expect(run.steps).toEqual(['connecting to PostgreSQL']);
  });

  it('Redis not there: names REDIS_URL and the address', async () => {
    const port = await freePort();
    const run = await startUp({ REDIS_URL: `redis://:s3cret-pw@127.0.0.1:${port}` });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `Start-up failed: Redis at REDIS_URL (127.0.0.1:${port}) refused the connection. Is Redis running there? Start it, or set REDIS_URL to where it runs.\n`,
    );
    expect(run.steps.slice(-1)).toEqual(['connecting to Redis']);
  });

  it('the health port taken: names HTTP_PORT, auto and how to turn the server off', async () => {
    const port = await listen(createServer());
    const run = await startUp({ HTTP_PORT: String(port) });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`Start-up failed: HTTP_PORT ${port} is in use on 127.0.0.1 (set HTTP_PORT to a free port, auto for any free one (reported in the log), or 0 to turn the health server off).\n`);
    // A second replica on one machine stops before doing anything: no database, no migration.
    expect(run.steps).toEqual(['starting the health and metrics server']);
  });

  it('a Discord that never answers: says so after the set wait, naming DISCORD_API_URL and the request', async () => {
    const port = await listen(createServer(() => undefined)); // accepts, never answers
    const run = await startUp({ DISCORD_API_URL: `http://127.0.0.1:${port}/api`, DISCORD_REQUEST_TIMEOUT_MS: '1000' });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      new RegExp(`^Start-up failed: Discord at DISCORD_API_URL \\(http://127\\.0\\.0\\.1:${port}/api\\) did not answer within 4 s \\(GET /users/@me at login\\)\\. Check DISCORD_API_URL`),
    );
    expect(run.steps.slice(-1)).toEqual(['logging in to Discord (GET /users/@me, then the gateway)']);
  });

  it('a DISCORD_API_URL that is not Discord’s API (404): says what the setting must look like', async () => {
    const port = await listen(createHttpServer((_, res) => res.writeHead(404, { 'content-type': 'text/html' }).end('<h1>Not Found</h1>')));
    const run = await startUp({ DISCORD_API_URL: `http://127.0.0.1:${port}/v10` });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `Start-up failed: Discord at DISCORD_API_URL (http://127.0.0.1:${port}/v10) answered 404 to GET http://127.0.0.1:${port}/v10/v10/users/@me at login. DISCORD_API_URL must be the API base without the version, e.g. https://discord.com/api (or empty for Discord itself).\n`,
    );
  });

  it('a token Discord refuses: names DISCORD_TOKEN and where to get a new one', async () => {
    const discord = await new FakeDiscord().start();
    try {
      const run = await startUp({ DISCORD_API_URL: discord.apiUrl, DISCORD_TOKEN: 'revoked.token' });
      expect(run.code).toBe(1);
      expect(run.stderr).toBe('Start-up failed: Discord refused DISCORD_TOKEN (401). Reset the token (developer portal → your application → Bot → Reset Token) and set DISCORD_TOKEN.\n');
    } finally {
      await discord.stop();
    }
  });
});
