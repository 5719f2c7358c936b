// Several replicas of the real bot on one Discord, Redis and PostgreSQL: every DM answered exactly
// once, in each person's order, also when a replica is killed mid-answer or restarted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BotProcess } from '../support/bot-process.js';
import { startWorld, type World } from '../support/e2e.js';
import type { FakeUser } from '../support/fake-discord/server.js';
import { OwnRedisServer } from '../support/redis-server.js';
import { snowflake } from '../support/builders.js';
import { DmStream } from '../../src/queue/dm-stream.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const REDELIVER_AFTER_MS = 2000;

/** The replica whose consumer holds the entry of this Discord message (consumer names end in -<pid>-<random>). */
async function holder(w: World, messageId: string): Promise<BotProcess> {
  const key = `${w.redis.prefix}{dm}:stream`;
  for (let i = 0; i < 100; i++) {
    const pending = (await w.redis.redis.xpending(key, 'answerers', '-', '+', 100)) as [string, string, number, number][];
    for (const [entryId, consumer] of pending) {
      const [[, fields] = ['', [] as string[]]] = await w.redis.redis.xrange(key, entryId, entryId);
      if (!String(fields[fields.indexOf('job') + 1]).includes(`"messageId":"${messageId}"`)) continue;
      const bot = w.bots.find((b) => b.child.pid === Number(consumer.split('-').at(-2)));
      if (bot) return bot;
    }
    await sleep(20);
  }
  throw new Error(`no replica holds message ${messageId}`);
}

function live(w: World): BotProcess[] {
  return w.bots.filter((b) => b.child.exitCode === null && b.child.signalCode === null);
}

async function twoReplicas(w: World): Promise<void> {
  while (live(w).length < 2) await w.launch();
  await w.discord.waitFor(() => w.discord.connectedSessions === 2, 10_000, 'two gateway sessions');
}

/** `people` new users each send `rounds` DMs, interleaved, as fast as possible. Returns what each sent. */
function sendRounds(w: World, name: string, people: number, rounds: number): Map<FakeUser, string[]> {
  const users = Array.from({ length: people }, (_, i) => w.discord.user(`${name}${i}`));
  const sent = new Map(users.map((u) => [u, [] as string[]]));
  for (let round = 0; round < rounds; round++) {
    for (const user of users) {
      const text = `${user.username} #${round}`;
      sent.get(user)!.push(text);
      w.discord.sendDm(user, text);
    }
  }
  return sent;
}

/** Every DM of each user answered once, in order, and stored once, in order. */
async function expectAnsweredOnceInOrder(w: World, sent: Map<FakeUser, string[]>): Promise<void> {
  for (const [user, texts] of sent) {
    await w.discord.waitForBotMessages(user, texts.length, 0, 30_000);
  }
  await sleep(REDELIVER_AFTER_MS); // time for any doubled answer to show up
  for (const [user, texts] of sent) {
    expect(w.discord.botMessagesTo(user).map((m) => m.content)).toEqual(texts.map((t) => `You said: ${t}`));
    expect((await w.storedRows(user.id)).map((r) => r.user_text)).toEqual(texts);
  }
}

describe('two replicas', () => {
  let w: World;
  beforeAll(async () => {
    w = await startWorld({ env: { REDELIVER_AFTER_MS: String(REDELIVER_AFTER_MS) } });
  }, 60_000);
  afterAll(() => w?.close());

  it('answer 50 DMs from 10 people exactly once each, in each person’s order, sharing the work', async () => {
    await twoReplicas(w);
    w.openai.reset();
    w.openai.latencyMs = 50;
    const sent = sendRounds(w, 'many', 10, 5);
    await expectAnsweredOnceInOrder(w, sent);
    expect(w.openai.requests).toHaveLength(50);
    const ids = new Set([...sent.keys()].map((u) => u.id));
    const answered = live(w).map((b) => b.logs.filter((l) => l.msg === 'message handled' && l.outcome === 'answered' && ids.has(l.userId)).length);
    expect(answered[0]! + answered[1]!).toBe(50); // one answer per DM, across both
    for (const count of answered) expect(count).toBeGreaterThan(0);
    // Finished entries are acknowledged and deleted: nothing is left on the stream.
    expect(await w.redis.redis.xlen(`${w.redis.prefix}{dm}:stream`)).toBe(0);
  });

  it('split Discord’s global request budget between them', async () => {
    await twoReplicas(w);
    await Promise.all(live(w).map((b) => b.waitForLog((l) => l.msg === 'sharing the Discord request budget' && l.replicas === 2, 15_000)));
    for (const b of live(w)) expect(b.logs.filter((l) => l.msg === 'sharing the Discord request budget').at(-1)).toMatchObject({ perReplica: 25, total: 50 });
  });

  it('answer a slash command once, though both receive it', async () => {
    await twoReplicas(w);
    const una = w.discord.user('una');
    const run = w.discord.runCommand(una, 'help');
    await run.responded();
    await sleep(500);
    const callbacks = w.discord.requests.filter((r) => r.method === 'POST' && r.path.startsWith(`/interactions/${run.id}/`));
    expect(callbacks).toHaveLength(1);
    const handled = live(w).flatMap((b) => b.logs.filter((l) => l.msg === 'interaction handled' && l.interactionId === run.id));
    expect(handled).toHaveLength(1);
    expect(handled[0]).toMatchObject({ outcome: 'ok' });
  });

  it('recover a DM whose replica was killed while waiting for a slow model: answered once by the other', async () => {
    await twoReplicas(w);
    const latency = 3000;
    w.openai.reset();
    w.openai.latencyMs = latency;
    const vic = w.discord.user('vic');
    const sent = w.discord.sendDm(vic, 'are you still there?');
    await w.discord.waitFor(() => w.openai.requests.length === 1, 5000, 'the model request');
    const victim = await holder(w, sent.id);
    const killedAt = Date.now();
    await victim.stop('SIGKILL');
    const expected = 'You said: are you still there?';
    await w.discord.waitFor(() => w.discord.botMessagesTo(vic).find((m) => m.content === expected), 15_000, 'the whole answer');
    const recoveryMs = Date.now() - killedAt;
    process.stdout.write(`SIGKILL recovery: answered ${recoveryMs} ms after the kill (visibility timeout ${REDELIVER_AFTER_MS} ms + model ${latency} ms)\n`);
    // Within the visibility timeout plus the model's latency, with slack for the takeover poll (≤ 250 ms),
    // the lock's expiry and the bot's own work.
    expect(recoveryMs).toBeLessThan(REDELIVER_AFTER_MS + latency + 1000);
    await sleep(REDELIVER_AFTER_MS);
    expect(w.discord.botMessagesTo(vic).map((m) => m.content)).toEqual([expected]);
    expect(w.openai.requests).toHaveLength(2); // the survivor asked again: the first answer never came back
    expect(await w.storedRows(vic.id)).toHaveLength(1);
    const survivor = live(w)[0]!;
    expect(survivor.logs.some((l) => l.msg === 'taking over an abandoned message')).toBe(true);
  });

  it('keep a person’s order when the replica answering their first message dies and the second waits elsewhere', async () => {
    await twoReplicas(w);
    w.openai.reset();
    w.openai.latencyMs = 1500;
    const zoe = w.discord.user('zoe');
    const first = w.discord.sendDm(zoe, 'first');
    await w.discord.waitFor(() => w.openai.requests.length === 1, 5000, 'the first model request');
    w.discord.sendDm(zoe, 'second');
    w.discord.sendDm(zoe, 'third');
    await sleep(200); // both read by some replica, waiting for their turn
    await (await holder(w, first.id)).stop('SIGKILL');
    await w.discord.waitFor(() => w.discord.botMessagesTo(zoe).filter((m) => m.content.startsWith('You said: ')).length === 3 && w.discord.botMessagesTo(zoe).at(-1)!.content === 'You said: third', 20_000, 'three answers');
    await sleep(REDELIVER_AFTER_MS);
    expect(w.discord.botMessagesTo(zoe).map((m) => m.content)).toEqual(['You said: first', 'You said: second', 'You said: third']);
    expect((await w.storedRows(zoe.id)).map((r) => r.user_text)).toEqual(['first', 'second', 'third']);
    const session = JSON.parse((await w.redis.redis.get(`${w.redis.prefix}session:{${zoe.id}}`))!) as { role: string; content: string }[];
    expect(session.filter((t) => t.role === 'user').map((t) => t.content)).toEqual(['first', 'second', 'third']);
  });

  it('recover a DM killed mid-stream by editing the half-shown answer, not posting a second one', async () => {
    await twoReplicas(w);
    w.openai.reset();
    const words = Array.from({ length: 30 }, (_, i) => `word${i}`).join(' ');
    w.openai.setReply(() => words);
    w.openai.chunkDelayMs = 100;
    const wes = w.discord.user('wes');
    const sent = w.discord.sendDm(wes, 'tell me a long story');
    const [partial] = await w.discord.waitForBotMessages(wes, 1, 0, 10_000);
    expect(partial!.content.length).toBeLessThan(words.length);
    await (await holder(w, sent.id)).stop('SIGKILL');
    const hitsBefore = w.discord.nonceHits;
    await w.discord.waitFor(() => w.discord.messages.get(partial!.id)?.content === words, 20_000, 'the answer completed in place');
    await sleep(REDELIVER_AFTER_MS);
    expect(w.discord.botMessagesTo(wes).map((m) => m.content)).toEqual([words]);
    expect(w.discord.nonceHits).toBeGreaterThan(hitsBefore); // the survivor found the half-shown message by its nonce
    expect((await w.storedRows(wes.id)).map((r) => r.gpt_response)).toEqual([words]);
  });

  it('give up with an apology on a message handed out too often (it may be what kills replicas)', async () => {
    await twoReplicas(w);
    w.openai.reset();
    const yan = w.discord.user('yan');
    const stream = new DmStream(w.redis.redis, { prefix: w.redis.prefix });
    // As if a replica took the message and died, four times over: a "ghost" consumer takes it in
    // the same transaction that queues it (so no live replica gets it first), then it is handed out
    // again and again.
    const job = { messageId: snowflake(), userId: yan.id, username: 'yan', channelId: yan.dmChannelId, text: 'deadly', createdAt: Date.now(), queuedAt: Date.now() };
    const results = await w.redis.redis
      .multi()
      .hset(`${w.redis.prefix}{dm}:order:${yan.id}`, 'seq', 1)
      .xadd(stream.key, '*', 'seq', '1', 'job', JSON.stringify(job))
      .xreadgroup('GROUP', stream.group, 'ghost', 'COUNT', 1, 'STREAMS', stream.key, '>')
      .exec();
    const entryId = results![1]![1] as string;
    for (let i = 0; i < 4; i++) await w.redis.redis.xclaim(stream.key, stream.group, 'ghost', 0, entryId);
    const [apology] = await w.discord.waitForBotMessages(yan, 1, 0, 10_000);
    expect(apology!.content).toBe('Something went wrong on my side. Please try again.');
    await sleep(REDELIVER_AFTER_MS);
    expect(w.discord.botMessagesTo(yan)).toHaveLength(1);
    expect(w.openai.requests).toHaveLength(0);
    expect(await w.redis.redis.xlen(stream.key)).toBe(0);
    expect(live(w).some((b) => b.logs.some((l) => l.msg === 'giving up on a message that was handed out too often' && l.deliveries === 6))).toBe(true);
  });

  it('lose and double nothing while each replica is restarted in turn and DMs keep arriving', async () => {
    await twoReplicas(w);
    w.openai.reset();
    w.openai.latencyMs = 300;
    const users = Array.from({ length: 6 }, (_, i) => w.discord.user(`roll${i}`));
    const sent = new Map(users.map((u) => [u, [] as string[]]));
    let sending = true;
    const sender = (async () => {
      for (let n = 0; sending; n++) {
        const user = users[n % users.length]!;
        const text = `${user.username} #${sent.get(user)!.length}`;
        sent.get(user)!.push(text);
        w.discord.sendDm(user, text);
        await sleep(60);
      }
    })();
    for (const replica of live(w)) {
      await sleep(400);
      expect(await replica.stop('SIGTERM')).toBe(0);
      await twoReplicas(w);
    }
    await sleep(400);
    sending = false;
    await sender;
    const total = [...sent.values()].reduce((n, texts) => n + texts.length, 0);
    expect(total).toBeGreaterThan(30);
    await expectAnsweredOnceInOrder(w, sent);
    expect(w.openai.requests).toHaveLength(total);
  });
});

describe('a replica frozen past the visibility timeout with a message waiting for its turn', () => {
  let w: World;
  beforeAll(async () => {
    w = await startWorld({ env: { REDELIVER_AFTER_MS: '1000', STREAM_REPLIES: 'false' } });
  }, 60_000);
  afterAll(() => w?.close());

  it('does not answer, once it wakes, what the other replica took over and answered meanwhile', async () => {
    const frozen = w.bot; // alone for now: it takes both messages
    w.openai.latencyMs = 60_000; // its model request for 'first' outlasts the test: it is still answering when frozen
    const fay = w.discord.user('fay');
    w.discord.sendDm(fay, 'first');
    await w.discord.waitFor(() => w.openai.requests.length === 1, 5000, 'the first model request');
    w.discord.sendDm(fay, 'second'); // waits on the same replica for its turn
    await frozen.waitForLog((l) => l.msg === 'taking messages from the shared stream');
    await sleep(200);
    await w.launch();
    w.openai.latencyMs = 50;
    frozen.child.kill('SIGSTOP');
    const survivor = w.bots.at(-1)!;
    try {
      // The other replica takes both over and answers them in order; the frozen one hears the
      // finished turns only when it wakes.
      await w.discord.waitFor(() => w.discord.botMessagesTo(fay).length === 2, 15_000, 'both answered by the other replica');
    } finally {
      frozen.child.kill('SIGCONT');
    }
    expect(survivor.logs.filter((l) => l.msg === 'taking over an abandoned message').length).toBe(2);
    const hitsBefore = w.discord.nonceHits;
    await sleep(3000); // the woken replica hears the finished turns, and its turn for 'second' comes
    expect(w.discord.botMessagesTo(fay).map((m) => m.content)).toEqual(['You said: first', 'You said: second']);
    expect(w.openai.requestsContaining('second')).toHaveLength(1);
    expect(w.discord.nonceHits).toBe(hitsBefore); // not saved by Discord's forgiveness either
    const session = JSON.parse((await w.redis.redis.get(`${w.redis.prefix}session:{${fay.id}}`))!) as { role: string; content: string }[];
    expect(session.filter((t) => t.role === 'user').map((t) => t.content)).toEqual(['first', 'second']);
    expect((await w.storedRows(fay.id)).map((r) => r.user_text)).toEqual(['first', 'second']);
  }, 40_000);
});

describe('a replica stopped with an answer it cannot finish within its grace period', () => {
  let w: World;
  beforeAll(async () => {
    w = await startWorld({ env: { REDELIVER_AFTER_MS: '20000', SHUTDOWN_GRACE_MS: '500' } });
  }, 60_000);
  afterAll(() => w?.close());

  it('hands the message to the other replica at once instead of after the visibility timeout', async () => {
    await twoReplicas(w);
    w.openai.latencyMs = 3000;
    const ora = w.discord.user('ora');
    const sent = w.discord.sendDm(ora, 'take your time');
    await w.discord.waitFor(() => w.openai.requests.length === 1, 5000, 'the model request');
    const stoppedAt = Date.now();
    expect(await (await holder(w, sent.id)).stop('SIGTERM')).toBe(0);
    await w.discord.waitFor(() => w.discord.botMessagesTo(ora).find((m) => m.content === 'You said: take your time'), 15_000, 'the answer');
    // Grace (0.5 s) + takeover poll + the model (3 s), far from the 20 s visibility timeout.
    expect(Date.now() - stoppedAt).toBeLessThan(6000);
    await sleep(500);
    expect(w.discord.botMessagesTo(ora)).toHaveLength(1);
    expect(await w.storedRows(ora.id)).toHaveLength(1);
  });
});

describe('two replicas on a Redis Cluster', () => {
  const server = new OwnRedisServer({ cluster: true });
  let w: World;
  beforeAll(async () => {
    await server.start();
    w = await startWorld({ redisUrl: server.url, env: { REDIS_CLUSTER: 'true', REDELIVER_AFTER_MS: String(REDELIVER_AFTER_MS) } });
  }, 60_000);
  afterAll(async () => {
    await w?.close();
    await server.stop();
  });

  it('answer DMs once and in order, and serve commands: every script and pipeline stays in one slot', async () => {
    await twoReplicas(w);
    w.openai.latencyMs = 30;
    const sent = sendRounds(w, 'slot', 3, 3);
    const users = [...sent.keys()];
    await expectAnsweredOnceInOrder(w, sent);
    const history = await w.discord.commandReply(users[0]!, 'history');
    expect(history.embeds).toHaveLength(3);
    expect((await w.discord.commandReply(users[0]!, 'logout')).content).toMatch(/forgotten our current conversation/);
    const problems = live(w).flatMap((b) => b.logs.filter((l) => l.level >= 40 || /CROSSSLOT/.test(JSON.stringify(l))));
    expect(problems).toEqual([]);
  });
});
