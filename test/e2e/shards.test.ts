// A bot in many servers must shard. DMs only arrive on shard 0, so every replica keeps a shard-0
// session (DMs flow however many replicas die); the other shards are leased among the replicas, and a
// dead replica's shards are taken over (resumed) within the lease. Discord's 4011 (sharding required)
// makes the bot start again with the shards Discord recommends instead of stopping.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startWorld, type World } from '../support/e2e.js';
import { shardOf } from '../support/fake-discord/gateway.js';
import type { FakeDiscord } from '../support/fake-discord/server.js';

const SHARDS = 4;
const LEASE_MS = 3000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Servers until every shard of `shards` has one: shard id → its server's channel. */
async function guildsOnEveryShard(discord: FakeDiscord, shards: number): Promise<Map<number, string>> {
  const byShard = new Map<number, string>();
  while (byShard.size < shards) {
    const { guildId, channelId } = discord.createGuild();
    if (!byShard.has(shardOf(guildId, shards))) byShard.set(shardOf(guildId, shards), channelId);
    await sleep(1); // the server id's time part picks the shard
  }
  return byShard;
}

let w: World | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});
afterAll(() => w?.close());

const live = (world: World) => world.bots.filter((b) => b.child.exitCode === null && b.child.signalCode === null);

/** A mention in this channel, answered in the thread the bot opens on it. */
async function mentionAnswered(world: World, channelId: string, text: string, timeoutMs = 15_000): Promise<void> {
  const asked = world.discord.sendGuildMessage(world.discord.user(`u${text.length}`), channelId, text);
  await world.discord.waitFor(() => world.discord.botMessagesIn(asked.id).some((m) => m.content === `You said: ${text}`), timeoutMs, `an answer to "${text}"`);
  await sleep(300);
  expect(world.discord.botMessagesIn(asked.id).filter((m) => m.content === `You said: ${text}`)).toHaveLength(1);
}

describe('a sharded bot', () => {
  it('runs shard 0 on every replica and shares the others; a killed replica’s shards are taken over', async () => {
    let channels = new Map<number, string>();
    w = await startWorld({
      env: (discord) => {
        void guildsOnEveryShard(discord, SHARDS).then((c) => (channels = c));
        discord.gateway.maxConcurrency = 16; // a large bot's buckets: shards identify side by side
        return { GUILD_MODE: 'mention', REDELIVER_AFTER_MS: String(LEASE_MS) };
      },
    });
    // (The servers were created before the first replica connected; Discord now recommends 4 shards.)
    await w.discord.waitFor(() => channels.size === SHARDS, 5000, 'servers on every shard');
    w.discord.gateway.minimumShards = SHARDS;
    await w.bot.stop('SIGTERM');
    await w.launch();
    await w.launch();
    const held = () => w!.discord.gateway.sessionsByShard();
    await w.discord.waitFor(() => held().get(0) === 2 && [1, 2, 3].every((s) => held().get(s) === 1), 30_000, 'shard 0 on both replicas, 1-3 once each');

    // DMs (shard 0) and mentions on every shard: each answered once.
    const ann = w.discord.user('ann');
    for (let i = 0; i < 3; i++) await w.ask(ann, `dm ${i}`);
    expect(w.discord.botMessagesTo(ann).map((m) => m.content)).toEqual([0, 1, 2].map((i) => `You said: dm ${i}`));
    for (const [shard, channelId] of channels) await mentionAnswered(w, channelId, `on shard ${shard}`);

    // Kill the replica running shard 2: the other takes it over within the lease, and keeps DMs flowing.
    const holder = live(w).find((b) => b.logs.some((l) => l.msg === 'gateway shard taken' && l.shardId === 2))!;
    expect(holder).toBeDefined();
    const resumesBefore = w.discord.gatewayStats.resumes;
    const killedAt = Date.now();
    await holder.stop('SIGKILL');
    await w.ask(ann, 'dm after the kill');
    await mentionAnswered(w, channels.get(2)!, 'on shard 2 after the kill', LEASE_MS + 10_000);
    const recovered = Date.now() - killedAt;
    expect(w.discord.gatewayStats.resumes).toBeGreaterThan(resumesBefore); // taken over by RESUME
    const survivor = live(w)[0]!;
    expect(survivor.logs.some((l) => l.msg === 'gateway shard taken' && l.shardId === 2)).toBe(true);
    process.stdout.write(`shard 2 back ${recovered} ms after its replica was killed\n`);
  }, 120_000);

  it('starts again with the shards Discord requires when it closes with 4011, instead of stopping', async () => {
    w = await startWorld({ env: { GUILD_MODE: 'mention', REDELIVER_AFTER_MS: String(LEASE_MS) } });
    const channels = await guildsOnEveryShard(w.discord, 2);
    w.discord.gateway.maxGuildsPerShard = Math.ceil(w.discord.guilds.size / 2);
    // The next IDENTIFY (after Discord drops the session) would hold too many servers.
    w.discord.dropGatewayConnections(4009); // session timed out: identify anew
    await w.discord.waitFor(() => w!.discord.gateway.shardingRequired > 0, 15_000, '4011');
    await w.discord.waitFor(() => w!.discord.gateway.sessionsByShard().get(1) === 1, 30_000, 'shard 1 running');
    for (const [shard, channelId] of channels) await mentionAnswered(w, channelId, `after 4011 on shard ${shard}`);
    const dm = w.discord.user('dee');
    await w.ask(dm, 'still here?');
    expect(w.discord.botMessagesTo(dm).at(-1)!.content).toBe('You said: still here?');
  }, 90_000);
});
