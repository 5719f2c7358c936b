// Errors built by the real libraries (discord.js, ioredis, openai) against tiny local servers, logged
// through the bot's logger: what the library keeps of the request must not reach the line.
import { once } from 'node:events';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { REST, Routes } from 'discord.js';
import { Redis } from 'ioredis';
import OpenAI from 'openai';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { serializeError } from '../../src/log-errors.js';

const SECRET = 'violet-otter-whispers-4417';
const FILE_BYTES = 'exported-history-bytes-9932';
const TOKEN = 'aW50ZXJhY3Rpb246MTIzNDU2Nzg5OnNlY3JldA';
const config = {
  LOG_LEVEL: 'info' as const,
  DISCORD_TOKEN: 'MTIzNDU2Nzg5.discord-secret-token',
  OPENAI_API_KEY: 'sk-proj-very-secret-key',
  DATABASE_URL: 'postgresql://bot@db:5432/discord_gpt',
  REDIS_URL: 'redis://cache:6379',
};

function logged(log: (logger: ReturnType<typeof createLogger>) => void): { text: string; lines: Record<string, any>[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  log(createLogger(config, stream));
  return { text: lines.join(''), lines: lines.map((l) => JSON.parse(l)) };
}

const servers: { close(): unknown }[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

/** An HTTP server that answers every request with `status` and `body`. */
async function answering(status: number, body: unknown): Promise<string> {
  const server: Server = createHttpServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body)));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  servers.push({
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function discordFailure(status: number, body: unknown): Promise<unknown> {
  const rest = new REST({ api: `${await answering(status, body)}/api`, retries: 0 });
  return rest
    .patch(Routes.webhookMessage('123456789012345678', TOKEN, '@original'), {
      body: { content: SECRET, embeds: [{ description: SECRET }] },
      files: [{ name: 'history.md', data: Buffer.from(FILE_BYTES) }],
      auth: false,
    })
    .then(
      () => expect.fail('the request should fail'),
      (error: unknown) => error,
    );
}

describe('errors in log lines', () => {
  it('keeps what discord.js says went wrong, without the request body or the interaction token', async () => {
    const refused = await discordFailure(400, { message: 'Invalid Form Body', code: 50035 });
    const failed = await discordFailure(500, { message: 'Internal Server Error', code: 0 });
    const { text, lines } = logged((log) => {
      log.error({ err: refused }, 'interaction failed');
      log.warn({ error: failed }, 'could not report the failure');
    });
    for (const leak of [SECRET, FILE_BYTES, TOKEN]) expect(text).not.toContain(leak);
    expect(lines[0]!.err).toMatchObject({
      type: 'DiscordAPIError',
      name: 'DiscordAPIError[50035]',
      message: 'Invalid Form Body',
      code: 50035,
      status: 400,
      method: 'PATCH',
      route: '/webhooks/123456789012345678/[token]/messages/@original',
    });
    expect(lines[0]!.err.stack).toMatch(/^at /);
    expect(lines[1]!.error).toMatchObject({ type: 'HTTPError', status: 500, method: 'PATCH', route: '/webhooks/123456789012345678/[token]/messages/@original' });
  });

  it('keeps the Redis command name and the reply, not the arguments (a queued job holds the text)', async () => {
    // A Redis that refuses every command, as one over its maxmemory does.
    const server = createTcpServer((socket) => socket.on('data', () => socket.write("-OOM command not allowed when used memory > 'maxmemory'.\r\n")));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    servers.push(server);
    const redis = new Redis({ port: (server.address() as AddressInfo).port, host: '127.0.0.1', enableReadyCheck: false, maxRetriesPerRequest: 0, lazyConnect: true });
    const job = JSON.stringify({ messageId: '1', text: SECRET });
    const error = await redis.eval('return redis.call("XADD", KEYS[1], "*", "job", ARGV[1])', 1, 'dm', job).catch((e: unknown) => e);
    redis.disconnect();
    expect((error as { command?: { args: unknown[] } }).command?.args).toContain(job); // what ioredis keeps
    const { text, lines } = logged((log) => log.error({ err: error }, 'could not queue the message'));
    expect(text).not.toContain(SECRET);
    expect(lines[0]!.err).toMatchObject({ type: 'ReplyError', command: 'eval', message: expect.stringContaining('OOM command not allowed') });
  });

  it('keeps the status and what the OpenAI API said, not the body it echoed', async () => {
    const baseURL = `${await answering(400, { error: { code: 'bad_request', param: 'messages', echoed: SECRET } })}/v1`;
    const client = new OpenAI({ apiKey: config.OPENAI_API_KEY, baseURL, maxRetries: 0 });
    const error = await client.chat.completions.create({ model: 'gpt-3.5-turbo', messages: [{ role: 'user', content: SECRET }] }).catch((e: unknown) => e);
    expect(String(error)).toContain(SECRET); // the SDK's own message is the echoed body
    const { text, lines } = logged((log) => log.error({ err: new Error('model failed', { cause: error }) }, 'message failed'));
    expect(text).not.toContain(SECRET);
    expect(lines[0]!.err.cause).toMatchObject({ type: 'BadRequestError', status: 400, code: 'bad_request', message: '400' });
  });

  it('withholds a message that holds an SQL statement, and masks tokens in any message', () => {
    const error = new Error(`insert into "messages" ("user_text") values ('${SECRET}') - relation refused`);
    const { text, lines } = logged((log) => {
      log.error({ err: error }, 'history save failed');
      log.error({ err: new Error(`fetch failed for /api/v10/interactions/123/${TOKEN}/callback`) }, 'interaction failed');
    });
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(TOKEN);
    expect(lines[1]!.err.message).toBe('fetch failed for /api/v10/interactions/123/[token]/callback');
  });

  it('names the error when a line gives no message of its own, without its text', () => {
    const { lines } = logged((log) => log.error(new Error(`insert into messages values ('${SECRET}')`)));
    expect(lines[0]!.msg).not.toContain(SECRET);
    expect(lines[0]!.err.type).toBe('Error');
  });

  it('follows causes to a limited depth and never throws on odd values', () => {
    const circular = new Error('outer') as Error & { cause?: unknown; self?: unknown };
    circular.cause = circular;
    circular.self = circular;
    const deep = Array.from({ length: 20 }, (_, i) => i).reduce<unknown>((cause, i) => new Error(`level ${i}`, { cause }), new Error('root'));
    const hostile = new Proxy(
      {},
      {
        get() {
          throw new Error('no');
        },
        getPrototypeOf() {
          throw new Error('no');
        },
      },
    );
    const throwingGetter = Object.defineProperty(new Error('getter'), 'code', {
      get() {
        throw new Error('no');
      },
    });
    for (const value of [null, undefined, 'a string', 42, {}, circular, deep, hostile, throwingGetter, new AggregateError([new Error('a'), 'b'])]) {
      expect(() => serializeError(value)).not.toThrow();
    }
    expect(serializeError(circular).cause).toEqual({ type: 'Error', message: '[Circular]' });
    let depth = 0;
    for (let e: any = serializeError(deep); e?.cause; e = e.cause) depth++;
    expect(depth).toBe(4);
    expect(serializeError(null)).toEqual({ type: 'null' });
    expect(serializeError('plain reason')).toEqual({ type: 'string', message: 'plain reason' });
    expect(serializeError(new AggregateError([new Error('a')], 'all failed')).errors).toMatchObject([{ type: 'Error', message: 'a' }]);
    const { lines } = logged((log) => log.error({ err: circular }, 'odd'));
    expect(lines[0]!.err).toMatchObject({ type: 'Error', message: 'outer' });
  });
});
