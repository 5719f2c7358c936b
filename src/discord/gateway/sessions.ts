// Gateway sessions kept in Redis, so a restart resumes instead of starting afresh. Discord keeps a
// session alive for a while after its connection drops, unless the bot closed it with 1000 or 1001;
// a RESUME with the session id and the last sequence seen replays every event sent since.
// https://discord.com/developers/docs/events/gateway#disconnecting
// https://discord.com/developers/docs/events/gateway#resuming
// Each session is held by one process through a lease it renews; the lease of a process that died
// (SIGKILL) lapses within LEASE_MS, and one that stopped (SIGTERM) lets go at once. A starting process
// claims a session nobody holds, so only a restarted process takes over its predecessor's session:
// live replicas keep their own.
// The sequence saved is the last one whose event was handled (put on the stream), never one ahead:
// a resume then replays a little twice at worst (the stream keeps one copy), never skips an event.
// Saved at most once per SAVE_EVERY_MS, not once per event.
import { type RedisClient, releaseIfOwner } from '../../redis.js';

/** What @discordjs/ws keeps about a session (its SessionInfo). */
export interface SessionInfo {
  sessionId: string;
  sequence: number;
  resumeURL: string;
  shardId: number;
  shardCount: number;
}

const SAVE_EVERY_MS = 1000;
const LEASE_MS = 3000;
// Discord does not say how long it keeps a session; older than this, a resume is not worth the try.
const RESUMABLE_FOR_MS = 15 * 60_000;

// KEYS: sessions hash, lease key prefix. ARGV: owner, lease ms, now, resumable ms, shard id.
// → {'claimed', JSON} for a session of the shard nobody holds, now taken; else {'held', id, savedAt,
// ms left, …} for those held (by a live process, or one that died less than a lease ago).
const CLAIM = `
local fields = redis.call('hgetall', KEYS[1])
local held = {'held'}
local best, bestAt = nil, -1
for i = 1, #fields, 2 do
  local saved = cjson.decode(fields[i + 1])
  local lease = KEYS[2] .. fields[i]
  if tonumber(ARGV[3]) - saved.savedAt > tonumber(ARGV[4]) then
    redis.call('hdel', KEYS[1], fields[i])
  elseif saved.shardId == tonumber(ARGV[5]) then
    if redis.call('exists', lease) == 0 then
      -- the newest free session: it missed the fewest events
      if saved.savedAt > bestAt then best, bestAt = i, saved.savedAt end
    else
      table.insert(held, fields[i])
      table.insert(held, tostring(saved.savedAt))
      table.insert(held, tostring(redis.call('pttl', KEYS[2] .. fields[i])))
    end
  end
end
if best then
  redis.call('set', KEYS[2] .. fields[best], ARGV[1], 'PX', ARGV[2])
  return {'claimed', fields[best + 1]}
end
return held`;

// KEYS: sessions hash, lease. ARGV: owner, lease ms, session id, JSON. Saves the session while this
// process holds it (or nobody does), renewing the lease. → 1, or 0 if another process holds it.
const SAVE = `
local holder = redis.call('get', KEYS[2])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('set', KEYS[2], ARGV[1], 'PX', ARGV[2])
redis.call('hset', KEYS[1], ARGV[3], ARGV[4])
return 1`;


/**
 * The session hooks of one process's @discordjs/ws manager (`retrieveSessionInfo`/`updateSessionInfo`),
 * backed by Redis, plus what the process needs to hand its sessions on.
 */
export class GatewaySessions {
  /** The sessions this process holds, as @discordjs/ws last told (sequence: the latest seen). */
  private readonly current = new Map<number, SessionInfo>();
  /** Shards whose first connection already looked for a session to take over. */
  private readonly claimed = new Set<number>();
  /** Sequences of events being handled, per shard (the saved sequence stays below the oldest). */
  private readonly inFlight = new Map<number, Set<number>>();
  private timer: NodeJS.Timeout | undefined;
  private closing = false;
  /** Whether each shard's session was taken over from a predecessor (for the logs and metrics). */
  readonly tookOver = new Set<number>();

  constructor(
    private readonly redis: RedisClient,
    private readonly options: {
      prefix: string;
      owner: string;
      /** Whether a saved resume URL points at a gateway this bot may send its token to. */
      trustedGateway: (url: string) => boolean;
      onSaveFailed?: (error: unknown) => void;
    },
  ) {}

  private get hashKey(): string {
    return `${this.options.prefix}{gateway}:sessions`;
  }

  private leaseKey(sessionId: string): string {
    return `${this.options.prefix}{gateway}:lease:${sessionId}`;
  }

  /** @discordjs/ws asks before each connection (and on every event): a resumable session, or null. */
  async retrieve(shardId: number): Promise<SessionInfo | null> {
    const known = this.current.get(shardId);
    if (known || this.claimed.has(shardId)) return known ?? null;
    this.claimed.add(shardId);
    const claimed = await this.claim(shardId).catch(() => null);
    if (claimed) {
      this.current.set(shardId, claimed);
      this.tookOver.add(shardId);
    }
    return claimed;
  }

  /** @discordjs/ws tells of a new session (READY), a newer sequence, or the end of a session (null). */
  update(shardId: number, info: SessionInfo | null): void {
    if (info) {
      const before = this.current.get(shardId);
      if (before && before.sessionId !== info.sessionId) void this.forget(before.sessionId);
      this.current.set(shardId, info);
      // A new session is saved at once: a process killed right after READY leaves it resumable.
      if (before?.sessionId !== info.sessionId) void this.save().catch((error: unknown) => this.options.onSaveFailed?.(error));
      return;
    }
    // Closing for a restart: @discordjs/ws forgets the session, the next process must not.
    if (this.closing) return;
    const ended = this.current.get(shardId);
    this.current.delete(shardId);
    this.inFlight.delete(shardId);
    if (ended) void this.forget(ended.sessionId);
  }

  /** An event with this sequence is being handled; call the returned function once it is. */
  handling(shardId: number, sequence: number): () => void {
    let set = this.inFlight.get(shardId);
    if (!set) this.inFlight.set(shardId, (set = new Set()));
    set.add(sequence);
    return () => set.delete(sequence);
  }

  /** Starts saving the sessions held, at most once per second. */
  start(): void {
    this.timer ??= setInterval(() => void this.save().catch((error: unknown) => this.options.onSaveFailed?.(error)), SAVE_EVERY_MS);
    this.timer.unref();
  }

  /**
   * Closes resumably and hands the sessions on: `close` ends the connections (any end of a session
   * @discordjs/ws reports meanwhile is ignored), events still being handled finish (up to `waitMs`),
   * each session is saved at the last event handled and its lease let go, so the next process to
   * start resumes it at once.
   */
  async handOver(close: () => Promise<void>, waitMs = 2000): Promise<void> {
    this.closing = true;
    clearInterval(this.timer);
    await close();
    const until = Date.now() + waitMs;
    while ([...this.inFlight.values()].some((set) => set.size > 0) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    await this.save();
    for (const info of this.current.values()) await releaseIfOwner(this.redis, this.leaseKey(info.sessionId), this.options.owner);
  }

  /** How many sessions for this shard other live processes hold (they receive its events meanwhile). */
  async othersHolding(shardId: number): Promise<number> {
    const saved = await this.redis.hvals(this.hashKey);
    let held = 0;
    for (const json of saved) {
      const info = JSON.parse(json) as SessionInfo & { savedAt: number };
      if (info.shardId !== shardId || this.current.get(shardId)?.sessionId === info.sessionId) continue;
      if (Date.now() - info.savedAt < LEASE_MS && (await this.redis.exists(this.leaseKey(info.sessionId)))) held += 1;
    }
    return held;
  }

  private async save(): Promise<void> {
    for (const [shardId, info] of this.current) {
      const pending = this.inFlight.get(shardId);
      const sequence = pending?.size ? Math.min(...pending) - 1 : info.sequence;
      const json = JSON.stringify({ ...info, sequence, savedAt: Date.now() });
      const ok = await this.redis.eval(SAVE, 2, this.hashKey, this.leaseKey(info.sessionId), this.options.owner, LEASE_MS, info.sessionId, json);
      if (ok === 0) this.current.delete(shardId); // another process resumed it: it is theirs now
    }
  }

  private async claim(shardId: number): Promise<SessionInfo | null> {
    // A held session is either a live replica's (its lease renewed every second) or a killed
    // process's (its lease lapsing within LEASE_MS). Wait for the soonest lapse among those not seen
    // renewed since the last look; a session whose save moved on belongs to a live replica.
    const renewed = new Set<string>();
    const lastSaved = new Map<string, string>();
    for (let attempt = 0; attempt < 4; attempt += 1) {
      const found = (await this.redis.eval(CLAIM, 2, this.hashKey, this.leaseKey(''), this.options.owner, LEASE_MS, Date.now(), RESUMABLE_FOR_MS, shardId)) as string[];
      if (found[0] === 'claimed') {
        const { savedAt: _, ...info } = JSON.parse(found[1]!) as SessionInfo & { savedAt: number };
        // Redis is trusted with sessions, not with the bot's token: a resume (which carries the
        // token) only ever goes to a gateway host this bot would connect to anyway.
        if (typeof info.sessionId === 'string' && Number.isInteger(info.sequence) && this.options.trustedGateway(info.resumeURL)) return info;
        await this.forget(info.sessionId);
        return null;
      }
      let wait = Infinity;
      for (let i = 1; i + 2 < found.length; i += 3) {
        const [id, savedAt, left] = [found[i]!, found[i + 1]!, Number(found[i + 2])];
        if (lastSaved.has(id) && lastSaved.get(id) !== savedAt) renewed.add(id);
        lastSaved.set(id, savedAt);
        if (!renewed.has(id) && left > 0) wait = Math.min(wait, left);
      }
      if (wait === Infinity) return null;
      await new Promise((r) => setTimeout(r, wait + 50));
    }
    return null;
  }

  private async forget(sessionId: string): Promise<void> {
    await this.redis.hdel(this.hashKey, sessionId).catch(() => undefined);
    await releaseIfOwner(this.redis, this.leaseKey(sessionId), this.options.owner).catch(() => undefined);
  }
}
