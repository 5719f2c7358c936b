// The shared inbox of every replica: one Redis Stream of incoming messages, read as one consumer group.
//
// Every replica's gateway session receives every DM, and each one offers it here; the enqueue script
// keeps the first offer only (by Discord message id) and gives it the next number in that person's
// sequence. Replicas read entries with XREADGROUP; an entry is acknowledged (and deleted) only when
// its reply was delivered and its exchange stored. An entry whose replica went quiet for the
// visibility timeout (it died, or froze) is claimed by another with XAUTOCLAIM; live replicas keep
// their entries fresh with a heartbeat. A person's entries are answered in their sequence order,
// whichever replicas hold them: an entry waits (holding no worker slot) until the person's `next`
// number reaches it, and finishing a message publishes the person's id so whichever replica holds
// the next one wakes at once. A message refused when it was queued (rate limit, empty, not allowed)
// takes no number: it waits for nothing and holds nothing up.
//
// Redis Cluster: the stream and its bookkeeping (offer dedup, per-person sequence) share the `{dm}`
// hash tag, so each script touches one slot. Per-person state elsewhere uses `{<user id>}`.
import type { AttachmentRef } from '../chat/types.js';
import type { RedisClient } from '../redis.js';

/** An incoming message as the replicas pass it around: enough to answer it without the gateway. */
export interface DmJob {
  messageId: string;
  userId: string;
  username: string;
  /** Where the message was written (a DM channel, a server channel or a thread). */
  channelId: string;
  guildId?: string;
  /** Answer in a new thread started on the message (a mention in a server channel). */
  openThread?: boolean;
  text: string;
  /** When Discord received it (ms since epoch). */
  createdAt: number;
  /** When a replica put it on the stream (ms since epoch). */
  queuedAt: number;
  /** Its attachments: Discord's metadata (signed CDN links), never their bytes. */
  attachments?: AttachmentRef[];
  /** The message's flags, kept with attachments (IS_VOICE_MESSAGE, 1 << 13, tells a voice message). */
  flags?: number;
}

/** Why a message is answered with a notice instead of the model, decided when it was queued. */
export interface Refusal {
  reason: 'empty' | 'too_long_input' | 'not_allowed' | 'rate_limited' | 'voice_message' | 'backlog';
  /** For `rate_limited`: when the person's window frees up (ms since epoch). */
  retryAt?: number;
  /** Refused without a word: the person was already told (about the limit in this window, or that their backlog is full). */
  silent?: boolean;
}

/**
 * A job handed to this replica: the stream entry, its place in the person's order (0 for a refused
 * message, which waits for nothing and holds nothing up), how often it was handed out.
 */
export interface Delivery {
  entryId: string;
  seq: number;
  job: DmJob;
  deliveries: number;
  refusal?: Refusal;
}

// An offer is remembered for an hour: every replica receives a message within moments, and a
// resumed gateway session replays what it missed within minutes. (A day would cost a busy bot
// ~100 MB of Redis per million DMs.) The per-person sequence lives a week past their last message.
const OFFER_TTL_SECONDS = 3600;
const ORDER_TTL_SECONDS = 7 * 86_400;
const RATE_WINDOW_MS = 60_000;

// KEYS: stream, offer, order, rate, last handled (hash), last handled at (sorted set), the person's
// waiting entries (sorted set, kept while the backlog limit is on). ARGV: offer
// TTL, order TTL, job, refusal decided at intake ('' = none), messages per minute (0 = no limit), rate
// window ms, channel id, message id, message time (ms), server id ('' in DMs), the thread the answer
// opens ('' if none), how many of the person's messages may wait to be answered (0 = no limit).
// Keeps the first offer of a message only, and decides there — once, by the replica whose offer won —
// whether it counts against the person's per-minute limit (every message does, notices included) and
// whether it is answered: an over-limit message is refused (the first one in a window with a notice,
// the rest silently), a message refused at intake keeps its reason; only answered messages take a
// number in the person's order, and only while fewer than the backlog limit are waiting (numbered and
// not finished, counted by entry id): past it a message is refused, with a notice the first time until
// the backlog is down to half (`full` in the order hash), so one person cannot park hundreds of
// messages over a slow model. At the limit, entries gone from the stream without being finished (the
// stream trimmed or evicted) stop counting, so nobody stays refused for a backlog that is not there.
// → entry id, or nil if already offered.
const ENQUEUE = `
if not redis.call('set', KEYS[2], '1', 'NX', 'EX', ARGV[1]) then return false end
-- The newest message handled per channel (ids and times only), where a catch-up after an outage starts.
-- A mention that opens a thread marks the thread too (its id is the message's): replies there count.
local function mark(channel)
  local before = redis.call('hget', KEYS[5], channel)
  local beforeId = before and string.match(before, '^%d+') or ''
  if #ARGV[8] > #beforeId or (#ARGV[8] == #beforeId and ARGV[8] > beforeId) then
    redis.call('hset', KEYS[5], channel, ARGV[8] .. ' ' .. ARGV[10])
    redis.call('zadd', KEYS[6], ARGV[9], channel)
  end
end
mark(ARGV[7])
if ARGV[11] ~= '' then mark(ARGV[11]) end
local limit = tonumber(ARGV[5])
if limit > 0 then
  local n = redis.call('incr', KEYS[4])
  if n == 1 then redis.call('pexpire', KEYS[4], ARGV[6]) end
  if n > limit then
    local left = redis.call('pttl', KEYS[4])
    local silent = '0'
    if n > limit + 1 then silent = '1' end
    return redis.call('xadd', KEYS[1], '*', 'seq', 0, 'job', ARGV[3], 'refused', 'rate_limited', 'left', left, 'silent', silent)
  end
end
if ARGV[4] ~= '' then
  return redis.call('xadd', KEYS[1], '*', 'seq', 0, 'job', ARGV[3], 'refused', ARGV[4])
end
local backlog = tonumber(ARGV[12])
if backlog > 0 then
  local waiting = redis.call('zcard', KEYS[7])
  if waiting >= backlog then
    for _, id in ipairs(redis.call('zrange', KEYS[7], 0, -1)) do
      if #redis.call('xrange', KEYS[1], id, id) == 0 then redis.call('zrem', KEYS[7], id) end
    end
    waiting = redis.call('zcard', KEYS[7])
  end
  if waiting >= backlog then
    local silent = '0'
    if redis.call('hsetnx', KEYS[3], 'full', '1') == 0 then silent = '1' end
    redis.call('expire', KEYS[3], ARGV[2])
    return redis.call('xadd', KEYS[1], '*', 'seq', 0, 'job', ARGV[3], 'refused', 'backlog', 'silent', silent)
  end
  -- Told once per episode: a freed place or two near the limit does not earn a new notice.
  if waiting * 2 <= backlog then redis.call('hdel', KEYS[3], 'full') end
end
local seq = redis.call('hincrby', KEYS[3], 'seq', 1)
redis.call('expire', KEYS[3], ARGV[2])
local id = redis.call('xadd', KEYS[1], '*', 'seq', seq, 'job', ARGV[3])
if backlog > 0 then
  redis.call('zadd', KEYS[7], seq, id)
  redis.call('expire', KEYS[7], ARGV[2])
end
return id`;

// KEYS: stream, order, the person's waiting entries. ARGV: group, entry id, seq, order TTL, turns
// channel, user id. Moves the person's turn past this entry, acknowledges it and deletes it, at once,
// and tells every replica (one of them may hold the person's next message, waiting for its turn).
const FINISH = `
local after = tonumber(ARGV[3]) + 1
local current = tonumber(redis.call('hget', KEYS[2], 'next') or '1')
if after > current then
  redis.call('hset', KEYS[2], 'next', after)
  redis.call('publish', ARGV[5], ARGV[6] .. ' ' .. after)
end
redis.call('expire', KEYS[2], ARGV[4])
redis.call('zrem', KEYS[3], ARGV[2])
redis.call('xack', KEYS[1], ARGV[1], ARGV[2])
redis.call('xdel', KEYS[1], ARGV[2])
return 1`;

// KEYS: stream. ARGV: group, consumer, entry ids… Resets the idle time of the entries this consumer
// still owns (without touching ones another replica claimed meanwhile); returns the ones it lost.
const HEARTBEAT = `
local lost = {}
for i = 3, #ARGV do
  local p = redis.call('xpending', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
  if p[1] and p[1][2] == ARGV[2] then
    redis.call('xclaim', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID')
  else
    table.insert(lost, ARGV[i])
  end
end
return lost`;

// KEYS: stream. ARGV: group, consumer. Removes the consumer from the group if it holds no entries.
const LEAVE = `
if #redis.call('xpending', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2]) > 0 then return 0 end
redis.call('xgroup', 'delconsumer', KEYS[1], ARGV[1], ARGV[2])
return 1`;

// KEYS: stream, order, the person's waiting entries. ARGV: group, the person's id, the erasure's time (ms). Removes every
// unfinished entry of the person written before the erasure (their words, waiting to be answered) —
// not one they sent after it — and moves their turn past the removed ones, so their next message
// does not wait for ones that are gone. → how many.
const PURGE = `
local removed = 0
local last = 0
for _, entry in ipairs(redis.call('xrange', KEYS[1], '-', '+')) do
  local fields = entry[2]
  for i = 1, #fields, 2 do
    if fields[i] == 'job' then
      local ok, job = pcall(cjson.decode, fields[i + 1])
      if ok and job.userId == ARGV[2] and tonumber(job.createdAt) <= tonumber(ARGV[3]) then
        redis.call('xack', KEYS[1], ARGV[1], entry[1])
        redis.call('xdel', KEYS[1], entry[1])
        redis.call('zrem', KEYS[3], entry[1])
        removed = removed + 1
        for j = 1, #fields, 2 do
          if fields[j] == 'seq' then last = math.max(last, tonumber(fields[j + 1])) end
        end
      end
    end
  end
end
local next = tonumber(redis.call('hget', KEYS[2], 'next') or '1')
if last + 1 > next then redis.call('hset', KEYS[2], 'next', last + 1) end
return removed`;

type RawEntry = [id: string, fields: string[] | null];

export interface DmStreamOptions {
  prefix: string;
  group?: string;
}

export class DmStream {
  readonly group: string;

  constructor(
    private readonly redis: RedisClient,
    private readonly options: DmStreamOptions,
  ) {
    this.group = options.group ?? 'answerers';
  }

  get key(): string {
    return `${this.options.prefix}{dm}:stream`;
  }

  private offerKey(messageId: string): string {
    return `${this.options.prefix}{dm}:offer:${messageId}`;
  }

  private orderKey(userId: string): string {
    return `${this.options.prefix}{dm}:order:${userId}`;
  }

  /** The person's messages waiting to be answered (entry ids by sequence number), for the backlog limit. */
  private waitingKey(userId: string): string {
    return `${this.options.prefix}{dm}:waiting:${userId}`;
  }

  /** Creates the consumer group (and the stream) if missing; a new group starts from the oldest entry. */
  async ensureGroup(): Promise<void> {
    try {
      await this.redis.xgroup('CREATE', this.key, this.group, '0', 'MKSTREAM');
    } catch (error) {
      if (!String(error).includes('BUSYGROUP')) throw error;
    }
  }

  /**
   * Puts a message on the stream unless some replica already did, counting it against the person's
   * per-minute limit (`ratePerMinute`, 0 = none) and refusing it while `maxWaiting` of the person's
   * messages already wait (0 = no limit). Returns whether this call added it.
   */
  async enqueue(
    job: DmJob,
    { refusal, ratePerMinute = 0, maxWaiting = 0 }: { refusal?: Refusal['reason'] | undefined; ratePerMinute?: number; maxWaiting?: number } = {},
  ): Promise<boolean> {
    const id = await this.redis.eval(
      ENQUEUE,
      7,
      this.key,
      this.offerKey(job.messageId),
      this.orderKey(job.userId),
      this.rateKey(job.userId),
      this.lastHandledKey,
      this.lastHandledAtKey,
      this.waitingKey(job.userId),
      OFFER_TTL_SECONDS,
      ORDER_TTL_SECONDS,
      JSON.stringify(job),
      refusal ?? '',
      ratePerMinute,
      RATE_WINDOW_MS,
      job.channelId,
      job.messageId,
      job.createdAt,
      job.guildId ?? '',
      job.openThread ? job.messageId : '',
      maxWaiting,
    );
    return id !== null;
  }

  /** Per channel, the newest message put on the stream (`<message id> <server id or nothing>`). */
  get lastHandledKey(): string {
    return `${this.options.prefix}{dm}:last-handled`;
  }

  /** Per channel, when its newest message handled was written (ms), to find the recent ones. */
  get lastHandledAtKey(): string {
    return `${this.options.prefix}{dm}:last-handled-at`;
  }

  private rateKey(userId: string): string {
    return `${this.options.prefix}{dm}:rate:${userId}`;
  }

  /** The channel on which replicas hear that a person's turn moved on (`<user id> <next seq>` per message). */
  get turnsChannel(): string {
    return `${this.options.prefix}{dm}:turns`;
  }

  /** The lowest sequence number of the person's that may be answered now. */
  async nextTurn(userId: string): Promise<number> {
    return Number((await this.redis.hget(this.orderKey(userId), 'next')) ?? 1);
  }

  /** Up to `count` new entries for `consumer`, waiting up to `blockMs` for one (on a connection of its own). */
  async read(reader: RedisClient, consumer: string, count: number, blockMs: number): Promise<Delivery[]> {
    const result = (await reader.xreadgroup('GROUP', this.group, consumer, 'COUNT', count, 'BLOCK', blockMs, 'STREAMS', this.key, '>')) as
      | [string, RawEntry[]][]
      | null;
    return this.usable(result?.[0]?.[1] ?? [], () => 1);
  }

  /** Takes over entries no replica has touched for `minIdleMs` (their replica died or froze). */
  async claimIdle(consumer: string, minIdleMs: number, count: number): Promise<Delivery[]> {
    const [, entries] = (await this.redis.xautoclaim(this.key, this.group, consumer, minIdleMs, '0-0', 'COUNT', count)) as [string, RawEntry[], string[]];
    if (!entries.length) return [];
    // How often each was handed out, counting this time (a message that kills every replica must not loop forever).
    const pending = (await this.redis.xpending(this.key, this.group, entries[0]![0], entries.at(-1)![0], entries.length, consumer)) as [string, string, number, number][];
    const deliveries = new Map(pending.map(([id, , , times]) => [id, times]));
    return this.usable(entries, (id) => deliveries.get(id) ?? 2);
  }

  /** Parses entries; one that cannot be read (not written by this bot) is acknowledged and dropped, not retried forever. */
  private usable(entries: RawEntry[], deliveries: (entryId: string) => number): Delivery[] {
    const usable: Delivery[] = [];
    for (const entry of entries) {
      const delivery = parse(entry, deliveries(entry[0]));
      if (delivery) usable.push(delivery);
      else if (entry[1]) void this.redis.multi().xack(this.key, this.group, entry[0]).xdel(this.key, entry[0]).exec().catch(() => undefined);
    }
    return usable;
  }

  /** The consumer the entry is handed to now, or null once it is finished (acknowledged) or erased. */
  async holderOf(entryId: string): Promise<string | null> {
    const [entry] = (await this.redis.xpending(this.key, this.group, entryId, entryId, 1)) as [string, string, number, number][];
    return entry?.[1] ?? null;
  }

  /** Keeps this consumer's entries from being claimed as abandoned. Returns the ids it no longer owns. */
  async heartbeat(consumer: string, entryIds: readonly string[]): Promise<string[]> {
    if (!entryIds.length) return [];
    return (await this.redis.eval(HEARTBEAT, 1, this.key, this.group, consumer, ...entryIds)) as string[];
  }

  /** The message is done with: the person's next message may go, and the entry is acknowledged and deleted. */
  async finish(delivery: Delivery): Promise<void> {
    const { userId } = delivery.job;
    await this.redis.eval(FINISH, 3, this.key, this.orderKey(userId), this.waitingKey(userId), this.group, delivery.entryId, delivery.seq, ORDER_TTL_SECONDS, this.turnsChannel, userId);
  }

  /**
   * Removes the person's unfinished messages sent up to `before` (ms) from the stream: they erased
   * everything. A replica answering one of them finds it erased (see ConversationService) and drops it.
   */
  async purge(userId: string, before: number): Promise<number> {
    return (await this.redis.eval(PURGE, 3, this.key, this.orderKey(userId), this.waitingKey(userId), this.group, userId, before)) as number;
  }

  /** Makes entries this consumer holds look abandoned (idle for `idleMs`), so another replica takes them now. */
  async handBack(consumer: string, entryIds: readonly string[], idleMs: number): Promise<void> {
    if (!entryIds.length) return;
    await this.redis.xclaim(this.key, this.group, consumer, 0, ...entryIds, 'IDLE', idleMs, 'JUSTID');
  }

  /** Leaves the group if this consumer holds no entries (a clean shutdown). Returns whether it left. */
  async leave(consumer: string): Promise<boolean> {
    return ((await this.redis.eval(LEAVE, 1, this.key, this.group, consumer)) as number) > 0;
  }

  /**
   * Records that this replica is alive and returns how many are (seen within `ttlMs`). Redis lists a
   * consumer only once it was handed an entry, so the group itself cannot tell idle replicas apart
   * from gone ones.
   */
  async announce(consumer: string, ttlMs: number): Promise<number> {
    const now = Date.now();
    const results = await this.redis
      .pipeline()
      .zadd(this.replicasKey, now, consumer)
      .zremrangebyscore(this.replicasKey, '-inf', now - ttlMs)
      .zcard(this.replicasKey)
      .exec();
    const failed = results?.find(([error]) => error);
    if (failed?.[0]) throw failed[0];
    return Number(results?.[2]?.[1] ?? 1);
  }

  /** How many replicas announced themselves within `ttlMs`. */
  async replicaCount(ttlMs = 10_000): Promise<number> {
    return Math.max(1, await this.redis.zcount(this.replicasKey, Date.now() - ttlMs, '+inf'));
  }

  /** This replica is going away: it no longer counts as alive. */
  async retire(consumer: string): Promise<void> {
    await this.redis.zrem(this.replicasKey, consumer);
  }

  private get replicasKey(): string {
    return `${this.options.prefix}{dm}:replicas`;
  }

  /** Removes consumers of replicas long gone: they hold no entries and have not read for `idleMs`. */
  async pruneConsumers(idleMs: number): Promise<string[]> {
    const consumers = (await this.redis.xinfo('CONSUMERS', this.key, this.group)) as (string | number)[][];
    const gone: string[] = [];
    for (const fields of consumers) {
      const info = Object.fromEntries(fields.flatMap((v, i, all) => (i % 2 ? [] : [[String(v), all[i + 1]]])));
      if (Number(info.pending) === 0 && Number(info.idle) > idleMs) gone.push(String(info.name));
    }
    for (const name of gone) await this.redis.eval(LEAVE, 1, this.key, this.group, name);
    return gone;
  }

  /** Messages waiting or being answered. */
  depth(): Promise<number> {
    return this.redis.xlen(this.key);
  }
}

function parse([entryId, fields]: RawEntry, deliveries: number): Delivery | null {
  if (!fields) return null; // deleted under us
  const value = (name: string) => fields[fields.indexOf(name) + 1];
  try {
    const job = JSON.parse(value('job') ?? '') as DmJob;
    const seq = Number(value('seq'));
    if (!job.messageId || !job.userId || !Number.isInteger(seq)) return null;
    const reason = value('refused') as Refusal['reason'] | undefined;
    if (!fields.includes('refused') || !reason) return { entryId, seq, job, deliveries };
    const left = Number(value('left'));
    const refusal: Refusal = { reason, ...(left > 0 ? { retryAt: job.queuedAt + left } : {}), ...(value('silent') === '1' ? { silent: true } : {}) };
    return { entryId, seq, job, deliveries, refusal };
  } catch {
    return null;
  }
}
