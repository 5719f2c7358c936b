// Starts the real bot the way `npm start` does (compiled, same node flags, configured by environment only)
// against the fakes, with a fresh database and Redis prefix, and waits for its `ready` log line.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { FakeDiscord } from './fake-discord/server.js';
import type { FakeOpenAI } from './fake-openai.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The command `npm start` runs after its build step (package.json "start"), so tests start the bot
 * exactly as an operator does: same flags, same compiled entry point.
 */
export function startCommand(): { nodeArgs: string[]; entry: string } {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: { start: string } };
  const [node, ...rest] = pkg.scripts.start.trim().split(/\s+/);
  if (node !== 'node') throw new Error(`Unexpected start script: ${pkg.scripts.start}`);
  return { nodeArgs: rest.slice(0, -1), entry: rest.at(-1)! };
}

/** A TCP port that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface BotProcess {
  child: ChildProcess;
  /** Base URL of the bot's health and metrics server. */
  opsUrl: string;
  logs: Record<string, any>[];
  stdout: string[];
  stderr: string[];
  waitForLog(predicate: (line: Record<string, any>) => boolean, timeoutMs?: number): Promise<Record<string, any>>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function startBot(
  { discord, openai, databaseUrl, redisPrefix, redisUrl = 'redis://127.0.0.1:6379' }: { discord: FakeDiscord; openai: FakeOpenAI; databaseUrl: string; redisPrefix: string; redisUrl?: string },
  env: Record<string, string> = {},
  { entry = startCommand().entry, nodeArgs = startCommand().nodeArgs }: { entry?: string; nodeArgs?: string[] } = {},
): Promise<BotProcess> {
  const httpPort = env.HTTP_PORT ?? String(await freePort());
  // A .ts entry (the floor bot in bench/) runs through the tsx loader; the bot runs compiled.
  const loader = entry.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const child = spawn(process.execPath, [...nodeArgs, ...loader, entry], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      // Nothing from a developer's .env leaks in: every setting the bot needs is given here.
      ENV_FILE: '/nonexistent/.env',
      DISCORD_TOKEN: discord.token,
      DISCORD_API_URL: discord.apiUrl,
      OPENAI_API_KEY: 'sk-fake-key-for-tests',
      OPENAI_BASE_URL: openai.baseUrl,
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisUrl,
      REDIS_KEY_PREFIX: redisPrefix,
      LOG_LEVEL: 'debug',
      OPENAI_MAX_RETRIES: '1',
      OPENAI_TIMEOUT_MS: '5000',
      RATE_LIMIT_PER_MINUTE: '0',
      OUTBOX_FLUSH_INTERVAL_MS: '300',
      ...env,
      HTTP_PORT: httpPort,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, any>[] = [];
  const stdout: string[] = [];
  const stderr: string[] = [];
  const waiters = new Set<() => void>();
  let buffered = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines) {
      stdout.push(line);
      try {
        logs.push(JSON.parse(line));
      } catch {
        // not JSON: kept in stdout only
      }
    }
    for (const waiter of [...waiters]) waiter();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
  const exited = once(child, 'exit');

  const waitForLog = (predicate: (line: Record<string, any>) => boolean, timeoutMs = 20_000) =>
    new Promise<Record<string, any>>((resolve, reject) => {
      const check = () => {
        const found = logs.find(predicate);
        if (found) {
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
        }
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`bot log line not seen in ${timeoutMs} ms.\nstderr: ${stderr.join('')}\nstdout tail: ${stdout.slice(-20).join('\n')}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });

  const bot: BotProcess = {
    child,
    opsUrl: `http://127.0.0.1:${httpPort}`,
    logs,
    stdout,
    stderr,
    waitForLog,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      const [code] = await exited;
      return code as number | null;
    },
  };
  await Promise.race([
    waitForLog((l) => l.msg === 'ready', 30_000),
    exited.then(() => {
      throw new Error(`bot exited before ready.\nstderr: ${stderr.join('')}\nstdout: ${stdout.join('\n')}`);
    }),
  ]);
  return bot;
}
