// "Forget me" against the real bot process: after /clear-history's confirm nothing of the person's
// words or name is left in PostgreSQL or Redis, an answer being written at that moment is neither
// stored nor written back into a conversation, their queued messages go too, and the button deletes
// exactly what it promised. /logout likewise forgets for good. Server threads are conversations of
// their own, and /history says where each exchange happened.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorld, type World } from '../support/e2e.js';
import type { FakeUser } from '../support/fake-discord/server.js';

let w: World;
beforeAll(async () => {
  w = await startWorld({ env: { GUILD_MODE: 'mention', STREAM_EDIT_INTERVAL_MS: '250' } });
}, 60_000);
afterAll(() => w?.close());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const sql = <T extends Record<string, unknown>[] = Record<string, unknown>[]>(query: string, params: unknown[] = []) =>
  import('../../src/history/orm.js').then(async ({ openDatabase }) => {
    const { orm } = await openDatabase(w.databaseUrl, { migrate: false });
    try {
      return await orm.em.getConnection().execute<T>(query, params);
    } finally {
      await orm.close(true);
    }
  });

/** Every value under the world's Redis prefix, as text (strings, hashes, lists, sets, streams). */
async function everythingInRedis(): Promise<string> {
  const { redis, prefix } = w.redis;
  const out: string[] = [];
  for (const key of await redis.keys(`${prefix}*`)) {
    const type = await redis.type(key);
    if (type === 'string') out.push(key, (await redis.get(key)) ?? '');
    else if (type === 'hash') out.push(key, JSON.stringify(await redis.hgetall(key)));
    else if (type === 'list') out.push(key, ...(await redis.lrange(key, 0, -1)));
    else if (type === 'set') out.push(key, ...(await redis.smembers(key)));
    else if (type === 'stream') out.push(key, JSON.stringify(await redis.xrange(key, '-', '+')));
    else out.push(key);
  }
  return out.join('\n');
}

async function clearPrompt(user: FakeUser) {
  const run = w.discord.runCommand(user, 'clear-history');
  const prompt = await w.discord.waitFor(() => (run.response().original?.components.length ? run.response().original : null));
  const confirm = prompt.components[0].components.find((b: any) => b.style === 4);
  return { prompt, confirmId: confirm.custom_id as string };
}

async function confirmClear(user: FakeUser, prompt: { id: string; content: string }, confirmId: string) {
  await w.discord.clickButton(user, prompt.id, confirmId).responded();
  await w.discord.waitFor(() => (/Deleted|expired/.test(prompt.content) ? true : null));
}

describe('/clear-history', () => {
  it('leaves nothing of the person’s words or name in PostgreSQL or Redis', async () => {
    const zed = w.discord.user('zed_the_unforgettable');
    await w.ask(zed, 'my locker code is 7741');
    await w.discord.commandReply(zed, 'help'); // leaves their language behind
    await w.ask(zed, 'and my cat is called Biscuit');
    expect(await everythingInRedis()).toContain('Biscuit'); // the live conversation, before

    const { prompt, confirmId } = await clearPrompt(zed);
    expect(prompt.content).toMatch(/Delete all 2 saved exchanges.*Messages you send after this stay/s);
    await confirmClear(zed, prompt, confirmId);
    expect(prompt.content).toMatch(/Deleted 2 exchanges/);

    expect(await sql('select * from messages where user_id = ?', [zed.id])).toEqual([]);
    expect(await sql('select * from users where id = ?', [zed.id])).toEqual([]);
    const tombstones = await sql<Record<string, unknown>[]>('select * from erasures where user_id = ?', [zed.id]);
    expect(Object.keys(tombstones[0]!).sort()).toEqual(['erased_at', 'user_id']);
    const redis = await everythingInRedis();
    for (const words of ['7741', 'Biscuit', 'locker', 'zed_the_unforgettable']) expect(redis).not.toContain(words);
    expect(redis).not.toContain(`locale:{${zed.id}}`);

    await w.ask(zed, 'hello again');
    expect(w.openai.requestsContaining('hello again')[0]!.messages.map((m) => m.role)).toEqual(['system', 'user']);
  });

  it('does not store, or bring back into the conversation, an answer being written at the moment of the confirm; queued messages go too', async () => {
    const yan = w.discord.user('yan');
    await w.ask(yan, 'an older question');
    const { prompt, confirmId } = await clearPrompt(yan);
    w.openai.latencyMs = 1500;
    const inFlight = w.discord.sendDm(yan, 'secret in flight');
    const queued = w.discord.sendDm(yan, 'secret still queued');
    await sleep(500); // the first is with the model, the second waits for its turn
    await confirmClear(yan, prompt, confirmId);
    w.openai.latencyMs = 0;
    const answered = await w.bot.waitForLog((l) => l.msg === 'message handled' && l.messageId === inFlight.id, 10_000);
    // Erased with the rest: not recorded (no reply key comes back), not kept (words already streamed stay shown).
    expect(answered.outcome).toBe('erased');
    await sleep(1500);
    expect(await sql('select * from messages where user_id = ?', [yan.id])).toEqual([]);
    expect(w.openai.requestsContaining('secret still queued')).toEqual([]);
    expect(w.bot.logs.some((l) => l.msg === 'message handled' && l.messageId === queued.id && l.outcome === 'answered')).toBe(false);
    const redis = await everythingInRedis();
    expect(redis).not.toContain('secret');

    await w.ask(yan, 'after the clear');
    const messages = w.openai.requestsContaining('after the clear')[0]!.messages.map((m) => m.content);
    expect(messages.slice(1)).toEqual(['after the clear']);
  });

  it('deletes exactly what it promised: exchanges written after the question stay', async () => {
    const xia = w.discord.user('xia');
    await w.ask(xia, 'counted one');
    await w.ask(xia, 'counted two');
    const { prompt, confirmId } = await clearPrompt(xia);
    await w.ask(xia, 'written after the question');
    await confirmClear(xia, prompt, confirmId);
    expect(prompt.content).toMatch(/Deleted 2 exchanges/);
    const rows = await w.storedRows(xia.id);
    expect(rows.map((r) => r.user_text)).toEqual(['written after the question']);
    expect(await sql('select username from users where id = ?', [xia.id])).toEqual([{ username: null }]);
  });

  it('refuses an expired confirm button with a clear message, deleting nothing', async () => {
    const wes = w.discord.user('wes');
    await w.ask(wes, 'keep this');
    const { prompt, confirmId } = await clearPrompt(wes);
    const parts = confirmId.split(':');
    parts[parts.length - 1] = (Date.now() - 1000).toString(36); // as if pressed after it expired
    await confirmClear(wes, prompt, parts.join(':'));
    expect(prompt.content).toMatch(/confirmation has expired/);
    expect((await w.storedRows(wes.id)).map((r) => r.user_text)).toEqual(['keep this']);
  });
});

describe('/logout', () => {
  it('forgets for good: an answer being written at that moment does not bring the conversation back', async () => {
    const vic = w.discord.user('vic');
    await w.ask(vic, 'remember the password swordfish');
    w.openai.latencyMs = 1200;
    const inFlight = w.discord.sendDm(vic, 'one more thing');
    await sleep(400);
    expect((await w.discord.commandReply(vic, 'logout')).content).toMatch(/forgotten our current conversation/);
    w.openai.latencyMs = 0;
    await w.bot.waitForLog((l) => l.msg === 'message handled' && l.messageId === inFlight.id, 10_000);
    await w.ask(vic, 'what do you remember?');
    const request = w.openai.requestsContaining('what do you remember?')[0]!;
    expect(JSON.stringify(request.messages)).not.toContain('swordfish');
    expect(request.messages.map((m) => m.role)).toEqual(['system', 'user']);
    // History stays, as /logout promises.
    expect((await w.storedRows(vic.id)).map((r) => r.user_text)).toContain('remember the password swordfish');
  });
});

describe('in a server thread', () => {
  it('keeps its own conversation: what was said in DMs never reaches it, and /history says where', async () => {
    const { guildId, channelId } = w.discord.createGuild();
    const uma = w.discord.user('uma');
    await w.ask(uma, 'privately: my diagnosis is X');
    await sleep(300); // GUILD_CREATE reaches the bot
    const asked = w.discord.sendGuildMessage(uma, channelId, 'public question');
    await w.discord.waitFor(() => w.discord.botMessagesIn(asked.id).find((m) => m.content === 'You said: public question'));
    const request = w.openai.requestsContaining('public question')[0]!;
    expect(JSON.stringify(request.messages)).not.toContain('diagnosis');
    const followUpMessage = w.discord.sendGuildMessage(uma, asked.id, 'follow-up in the thread');
    await w.discord.waitFor(() => w.discord.botMessagesIn(asked.id).find((m) => m.content === 'You said: follow-up in the thread'));
    for (const m of [asked, followUpMessage]) await w.bot.waitForLog((l) => l.msg === 'message handled' && l.messageId === m.id);
    const followUp = w.openai.requestsContaining('follow-up in the thread')[0]!;
    expect(followUp.messages.map((m) => m.content).slice(1)).toEqual(['public question', 'You said: public question', 'follow-up in the thread']);
    // And the DM conversation did not take in the thread's words.
    await w.ask(uma, 'back in DMs');
    expect(JSON.stringify(w.openai.requestsContaining('back in DMs')[0]!.messages)).not.toContain('public question');

    const rows = await sql<{ user_text: string; guild_id: string | null; channel_id: string | null }[]>(
      'select user_text, guild_id, channel_id from messages where user_id = ? order by id',
      [uma.id],
    );
    expect(rows.map((r) => [r.user_text, r.guild_id, r.channel_id])).toEqual([
      ['privately: my diagnosis is X', null, null],
      ['public question', guildId, asked.id],
      ['follow-up in the thread', guildId, asked.id],
      ['back in DMs', null, null],
    ]);
    const page = await w.discord.commandReply(uma, 'history');
    const shown = JSON.stringify(page.embeds);
    expect(shown).toContain(`<#${asked.id}>`);
  });
});
