// What start-up is doing, and what to change when it fails. Each step that can take long is logged
// before it starts; a failure is told as the component, where it was looked for, and the setting
// to change. Addresses are shown as host:port (and database), never with a password.
import type { EventEmitter } from 'node:events';
import { inspect } from 'node:util';
import { DefaultRestOptions } from 'discord.js';
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import { maskTokens } from '../log-errors.js';

export type StartupStep = 'database' | 'redis' | 'http' | 'discord';

/** discord.js tries a request this many times (the first, then its retries) before giving up. */
const DISCORD_TRIES = DefaultRestOptions.retries + 1;

export class StartupProgress {
  private step: StartupStep | null = null;
  private emitted: unknown;
  private unwatch: (() => void) | undefined;

  constructor(private readonly config: Config) {}

  /**
   * Logs what start-up does next. `watch`: a client that reports its connection errors as events and
   * rejects with a vaguer one (ioredis: "Connection is closed."), so the event can be told instead.
   */
  begin(step: StartupStep, logger: Logger, watch?: EventEmitter): void {
    this.step = step;
    this.unwatch?.();
    this.emitted = undefined;
    if (watch) {
      const remember = (error: unknown) => (this.emitted = error);
      watch.on('error', remember);
      this.unwatch = () => watch.off('error', remember);
    }
    const c = this.config;
    if (step === 'database') logger.info({ at: postgresPlace(c.DATABASE_URL), migrate: c.MIGRATE_ON_START }, 'connecting to PostgreSQL');
    if (step === 'redis') logger.info({ at: redisPlace(c.REDIS_URL), cluster: c.REDIS_CLUSTER }, 'connecting to Redis');
    if (step === 'http') logger.info({ host: c.HTTP_HOST, port: c.HTTP_PORT }, 'starting the health and metrics server');
    if (step === 'discord') logger.info({ api: discordApi(c), timeoutS: discordWaitS(c) }, 'logging in to Discord (GET /users/@me, then the gateway)');
  }

  /** Start-up is over: later failures are not blamed on its last step. */
  done(): void {
    this.step = null;
    this.unwatch?.();
  }

  /** One line for "Start-up failed: …". */
  explain(error: unknown): string {
    const c = this.config;
    const codes = codesOf(error).concat(codesOf(this.emitted));
    const has = (...wanted: string[]) => wanted.some((code) => codes.includes(code));
    const message = messageOf(error);
    switch (this.step) {
      case 'database': {
        const where = `PostgreSQL at DATABASE_URL (${postgresPlace(c.DATABASE_URL)})`;
        const user = decodeURIComponent(new URL(c.DATABASE_URL).username) || 'postgres';
        if (has('ECONNREFUSED')) return `${where} refused the connection. Is PostgreSQL running there? Start it, or set DATABASE_URL to where it runs.`;
        if (has('ENOTFOUND', 'EAI_AGAIN')) return `${where}: that host name was not found. Fix the host in DATABASE_URL.`;
        if (has('28P01', '28000')) return `${where} refused user "${user}" (${message}). Fix the user and password in DATABASE_URL.`;
        if (has('42501')) return `${where}: the database does not exist and user "${user}" may not create it. Create it, give the user CREATEDB, or point DATABASE_URL at an existing database.`;
        if (has('ETIMEDOUT') || /timeout acquiring a connection/i.test(message)) return `${where} did not answer. Check the host and port in DATABASE_URL, and that this machine can reach it.`;
        return `${where}: ${message}. Check DATABASE_URL.`;
      }
      case 'redis': {
        const where = `Redis at REDIS_URL (${redisPlace(c.REDIS_URL)})`;
        if (has('ECONNREFUSED')) return `${where} refused the connection. Is Redis running there? Start it, or set REDIS_URL to where it runs.`;
        if (has('ENOTFOUND', 'EAI_AGAIN')) return `${where}: that host name was not found. Fix the host in REDIS_URL.`;
        if (/WRONGPASS|NOAUTH|invalid password/i.test(`${message} ${messageOf(this.emitted)}`)) return `${where} refused the credentials. Fix the user and password in REDIS_URL.`;
        if (/did not answer/.test(message)) return `${where} did not answer within 10 s. Check the host and port in REDIS_URL${c.REDIS_CLUSTER ? ', and that it is a Redis Cluster node (REDIS_CLUSTER=true)' : ''}.`;
        return `${where}: ${messageOf(this.emitted) || message}. Check REDIS_URL.`;
      }
      case 'http': {
        if (has('EADDRINUSE')) return `HTTP_PORT ${c.HTTP_PORT} is in use on ${c.HTTP_HOST} (set HTTP_PORT to a free port, auto for any free one (reported in the log), or 0 to turn the health server off).`;
        if (has('EACCES')) return `HTTP_PORT ${c.HTTP_PORT} needs privileges this process lacks (set HTTP_PORT above 1023, or 0 to turn the health server off).`;
        if (has('EADDRNOTAVAIL', 'ENOTFOUND')) return `HTTP_HOST ${c.HTTP_HOST} is not an address of this machine (set HTTP_HOST, e.g. 127.0.0.1, or 0.0.0.0 for every interface).`;
        return `the health server on HTTP_HOST ${c.HTTP_HOST}, HTTP_PORT ${c.HTTP_PORT}: ${message}.`;
      }
      case 'discord': {
        const where = `Discord at DISCORD_API_URL (${discordApi(c)})`;
        const { status, method, url } = (error ?? {}) as { status?: number; method?: string; url?: string };
        // The whole URL shows a DISCORD_API_URL that already ends in /v10 (discord.js adds another).
        const request = `${(method ?? 'GET').toUpperCase()} ${url ? maskTokens(url.split('?')[0]!) : '/users/@me'}`;
        if (has('TokenInvalid') || status === 401) return 'Discord refused DISCORD_TOKEN (401). Reset the token (developer portal → your application → Bot → Reset Token) and set DISCORD_TOKEN.';
        if (has('AbortError', 'UND_ERR_CONNECT_TIMEOUT', 'ETIMEDOUT')) return `${where} did not answer within ${discordWaitS(c)} s (${request} at login). Check DISCORD_API_URL (empty means Discord itself) and that this machine can reach it; DISCORD_REQUEST_TIMEOUT_MS is the wait per try.`;
        if (has('ECONNREFUSED')) return `${where} refused the connection (${request} at login). Check DISCORD_API_URL (empty means Discord itself).`;
        if (has('ENOTFOUND', 'EAI_AGAIN')) return `${where}: that host name was not found. Check DISCORD_API_URL (empty means Discord itself) and DNS.`;
        if (status) return `${where} answered ${status} to ${request} at login${status === 404 ? '. DISCORD_API_URL must be the API base without the version, e.g. https://discord.com/api (or empty for Discord itself)' : ` (${message})`}.`;
        return `${where}: ${message}.`;
      }
      default:
        return message;
    }
  }
}

function postgresPlace(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  return `${url.hostname}:${url.port || 5432}${url.pathname}`;
}

function redisPlace(redisUrl: string): string {
  const url = new URL(redisUrl);
  return `${url.hostname}:${url.port || 6379}`;
}

function discordApi(config: Config): string {
  if (!config.DISCORD_API_URL) return `${DefaultRestOptions.api}, DISCORD_API_URL is empty`;
  const url = new URL(config.DISCORD_API_URL);
  url.username = '';
  url.password = '';
  return url.toString().replace(/\/$/, '');
}

function discordWaitS(config: Config): number {
  return Math.round((config.DISCORD_REQUEST_TIMEOUT_MS * DISCORD_TRIES) / 1000);
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (error === undefined) return '';
  return typeof error === 'string' ? error : inspect(error, { depth: 1, breakLength: Infinity });
}

/** Every `code`, SQL state and error name in an error, its causes and its aggregated errors. */
function codesOf(error: unknown, depth = 0): string[] {
  if (!error || typeof error !== 'object' || depth > 4) return [];
  const e = error as { code?: unknown; sqlState?: unknown; name?: unknown; cause?: unknown; previous?: unknown; errors?: unknown };
  const own = [e.code, e.sqlState, e.name].filter((v): v is string => typeof v === 'string');
  const nested = [e.cause, e.previous, ...(Array.isArray(e.errors) ? (e.errors as unknown[]) : [])].flatMap((inner) => codesOf(inner, depth + 1));
  return [...own, ...nested];
}
