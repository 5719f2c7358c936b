// Which replica runs which shard, when the bot has more than one. DMs only ever arrive on shard 0, and
// Discord lets several sessions hold one shard, so every replica keeps a shard-0 session of its own
// (DMs keep flowing however many replicas die). Every other shard is run by one replica at a time,
// through a lease in Redis it renews; a dead replica's lease lapses and a live one takes the shard
// over (resuming the session the dead one left, so the events in between are replayed).
// https://discord.com/developers/docs/events/gateway#sharding
import { type RedisClient, releaseIfOwner, renewIfOwner } from '../../redis.js';


export class ShardLeases {
  constructor(
    private readonly redis: RedisClient,
    private readonly options: { prefix: string; owner: string; leaseMs: number },
  ) {}

  private key(shardId: number, shardCount: number): string {
    return `${this.options.prefix}{gateway}:shard:${shardCount}:${shardId}`;
  }

  /**
   * Renews the leases on `held`, and takes every free shard (1 … shardCount-1) but those in `avoid`
   * (just handed on, for a replica under its share to take): a shard nobody runs loses events, so it
   * is taken first and shared out after. Returns the shards this replica no longer holds and those it gained.
   */
  async balance(held: ReadonlySet<number>, shardCount: number, avoid: ReadonlySet<number>): Promise<{ lost: number[]; gained: number[] }> {
    const lost: number[] = [];
    for (const shardId of held) {
      if (!(await renewIfOwner(this.redis, this.key(shardId, shardCount), this.options.owner, this.options.leaseMs))) lost.push(shardId);
    }
    const gained: number[] = [];
    for (let shardId = 1; shardId < shardCount; shardId += 1) {
      if (held.has(shardId) || avoid.has(shardId)) continue;
      if ((await this.redis.set(this.key(shardId, shardCount), this.options.owner, 'PX', this.options.leaseMs, 'NX')) === 'OK') gained.push(shardId);
    }
    return { lost, gained };
  }

  async release(shardId: number, shardCount: number): Promise<void> {
    await releaseIfOwner(this.redis, this.key(shardId, shardCount), this.options.owner);
  }
}
