// The bot's log never holds what a person wrote, what the model answered, or an interaction token,
// even when the libraries' errors carry them: a reply Discord refuses (discord.js keeps the request
// body), an interaction webhook that fails (its URL holds the token), a database error (the INSERT
// with its values), a Redis error (the queued job among the command's arguments). Every line the bot
// wrote is searched. Also: an interaction this replica answered after Discord's 3 seconds is logged
// and counted as expired.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/history/orm.js';
import { startWorld, type World } from '../support/e2e.js';
import { OwnRedisServer } from '../support/redis-server.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const server = new OwnRedisServer();
let w: World;
/** Every text this test made a person write or the model answer. */
const sent: string[] = [];

function secret(label: string): string {
  const text = `${label}-${randomBytes(6).toString('hex')}`;
  sent.push(text);
  return text;
}

/** Lines of any bot process (stdout and stderr) holding a sent text or an interaction token. */
function leaks(): string[] {
  const needles = [...sent, ...w.discord.interactions.keys()];
  const lines = w.bots.flatMap((b) => [...b.stdout, ...b.stderr.join('').split('\n')]);
  return lines.filter((line) => needles.some((needle) => line.includes(needle))).map((line) => line.slice(0, 2000));
}

/** The error of a log line, or one of its causes, that `match` accepts. */
function errorIn(line: Record<string, any>, match: (err: Record<string, any>) => boolean): Record<string, any> | undefined {
  for (let err = line.err; err && typeof err === 'object'; err = err.cause) if (match(err)) return err;
  return undefined;
}

beforeAll(async () => {
  await server.start();
  w = await startWorld({ redisUrl: server.url });
}, 60_000);
afterAll(async () => {
  const admin = new Redis(server.url);
  await admin.config('SET', 'maxmemory', '0').catch(() => undefined);
  admin.disconnect();
  await w?.close();
  await server.stop();
});

describe('the log', () => {
  it('holds no reply text when Discord refuses the reply', async () => {
    const ann = w.discord.user('ann');
    const reply = secret('model-reply'); // one word: the first streamed post already holds all of it
    w.openai.setReply(reply);
    // The streamed first post and the post of the whole answer.
    w.discord.failNext(/^POST \/channels\/\d+\/messages$/, 400, 2);
    const message = w.discord.sendDm(ann, secret('dm'));
    const line = await w.bot.waitForLog((l) => l.messageId === message.id && errorIn(l, (e) => e.status === 400) !== undefined);
    expect(w.discord.requests.some((r) => r.method === 'POST' && JSON.stringify(r.body ?? null).includes(reply))).toBe(true);
    w.openai.reset();
    expect(leaks()).toEqual([]);
    expect(errorIn(line, (e) => e.status === 400)).toMatchObject({ method: 'POST', route: expect.stringMatching(/^\/channels\/\d+\/messages$/) });
  });

  it('holds no history text and no interaction token when a /history reply fails', async () => {
    const ben = w.discord.user('ben');
    await w.ask(ben, secret('remembered'));
    w.discord.failNext(/^PATCH \/webhooks\/\d+\/[^/]+\/messages\/@original$/, 400, 1);
    const run = w.discord.runCommand(ben, 'history');
    const line = await w.bot.waitForLog((l) => l.interactionId === run.id && l.msg === 'interaction failed');
    await w.bot.waitForLog((l) => l.interactionId === run.id && l.msg === 'interaction handled');
    expect(leaks()).toEqual([]);
    expect(line.err).toMatchObject({ status: 400, method: 'PATCH', route: expect.stringMatching(/^\/webhooks\/\d+\/\[token\]\/messages\/@original$/) });
  });

  it('holds no message text when PostgreSQL refuses the INSERT', async () => {
    const { orm } = await openDatabase(w.databaseUrl, { migrate: false });
    const conn = orm.em.getConnection();
    try {
      // The refusal's detail repeats the text too, as a constraint's detail repeats the conflicting values.
      await conn.execute(`create function refuse_history() returns trigger language plpgsql as $$ begin raise exception 'history refused' using detail = new.user_text, table = tg_table_name; end $$`);
      await conn.execute(`create trigger refuse_history before insert on messages for each row execute function refuse_history()`);
      const cat = w.discord.user('cat');
      const { message } = await w.ask(cat, secret('unstored'));
      const line = await w.bot.waitForLog((l) => l.messageId === message.id && errorIn(l, (e) => e.code === 'P0001') !== undefined);
      expect(leaks()).toEqual([]);
      expect(errorIn(line, (e) => e.code === 'P0001')).toMatchObject({ table: 'messages' });
    } finally {
      await conn.execute('drop trigger if exists refuse_history on messages');
      await orm.close(true);
    }
  });

  it('holds no message text when Redis refuses to queue the message', async () => {
    const admin = new Redis(server.url);
    try {
      await admin.config('SET', 'maxmemory-policy', 'noeviction');
      await admin.config('SET', 'maxmemory', '1');
      const dan = w.discord.user('dan');
      const { message, replies } = await w.ask(dan, secret('unqueued'));
      expect(replies.map((r) => r.content).join('\n')).toMatch(/memory is briefly unavailable/i);
      const line = await w.bot.waitForLog((l) => l.messageId === message.id && errorIn(l, (e) => e.type === 'ReplyError' || e.name === 'ReplyError') !== undefined);
      expect(JSON.stringify(line.err)).toMatch(/OOM/);
      expect(leaks()).toEqual([]);
    } finally {
      await admin.config('SET', 'maxmemory', '0');
      admin.disconnect();
    }
  });
});

describe('an interaction answered after Discord’s 3 seconds', () => {
  it('is logged at warn and counted as expired, not as answered by another replica', async () => {
    const eve = w.discord.user('eve');
    // The replica is frozen (a long pause, a starved CPU) while Discord's window runs out.
    w.bot.child.kill('SIGSTOP');
    const run = w.discord.runCommand(eve, 'help');
    await sleep(3500).finally(() => w.bot.child.kill('SIGCONT'));
    const warn = await w.bot.waitForLog((l) => l.interactionId === run.id && l.level === 40);
    expect(warn.msg).toBe('interaction expired before this replica answered');
    expect(warn.err).toMatchObject({ code: 10062, status: 404, route: expect.stringMatching(/^\/interactions\/\d+\/\[token\]\/callback$/) });
    const handled = await w.bot.waitForLog((l) => l.interactionId === run.id && l.msg === 'interaction handled');
    expect(handled.outcome).toBe('expired');
    const metrics = await (await fetch(`${w.bot.opsUrl}/metrics`)).text();
    expect(metrics).toMatch(/bot_commands_total\{command="help",outcome="expired"\} 1/);
    expect(leaks()).toEqual([]);
  });
});
