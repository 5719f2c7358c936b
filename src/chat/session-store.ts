// The running conversation per Discord user, kept in Redis with a sliding expiry.
// Keys carry the user id in a hash tag ({...}) so every key of one user lands on one Redis Cluster slot
// (the commit script touches the lock, the reply record and the session together).
import type { RedisClient } from '../redis.js';
import type { Lease } from './user-lock.js';
import type { RecordedReply, Turn } from './types.js';

// A recorded reply is dropped when its message is finished; this only bounds a leftover (a replica
// that died between acknowledging the message and dropping it).
const REPLY_TTL_SECONDS = 86_400;
// How long a /logout or an erasure fences answers still being written for earlier messages: longer
// than any message can take.
const FENCE_TTL_SECONDS = 86_400;

// KEYS: lock, replies, session, fence, threads. ARGV: token, message id, reply, reply TTL, turns ('' =
// leave the session), session TTL, the message's time (ms), '1' if the session is a thread's.
// → {1} written · {2} reply written, session not (the person forgot the conversation after writing
// this message) · {3} nothing written (they erased everything after writing it) · {0, existing reply}
// already recorded · {-1} the lock is not ours any more.
const COMMIT = `
if redis.call('get', KEYS[1]) ~= ARGV[1] then return {-1} end
local existing = redis.call('hget', KEYS[2], ARGV[2])
if existing then return {0, existing} end
if tonumber(redis.call('hget', KEYS[4], 'erased') or '0') >= tonumber(ARGV[7]) then return {3} end
redis.call('hset', KEYS[2], ARGV[2], ARGV[3])
redis.call('expire', KEYS[2], ARGV[4])
if ARGV[5] == '' then return {1} end
if tonumber(redis.call('hget', KEYS[4], 'session') or '0') >= tonumber(ARGV[7]) then return {2} end
redis.call('set', KEYS[3], ARGV[5], 'EX', ARGV[6])
if ARGV[8] == '1' then
  redis.call('sadd', KEYS[5], KEYS[3])
  redis.call('expire', KEYS[5], ARGV[6])
end
return {1}`;

// KEYS: session, threads, fence, replies, locale. ARGV: now (ms), fence TTL, '1' to erase everything
// (not only the conversation). Forgets the DM conversation and every server-thread conversation of
// the person, and fences answers still being written for earlier messages. → 1 if there was one.
const FORGET = `
local had = redis.call('del', KEYS[1])
for _, key in ipairs(redis.call('smembers', KEYS[2])) do had = had + redis.call('del', key) end
redis.call('del', KEYS[2])
redis.call('hset', KEYS[3], 'session', ARGV[1])
if ARGV[3] == '1' then
  redis.call('hset', KEYS[3], 'erased', ARGV[1])
  redis.call('del', KEYS[4], KEYS[5])
end
redis.call('expire', KEYS[3], ARGV[2])
if had > 0 then return 1 end
return 0`;

/** The person erased everything after sending this message: it is neither answered nor kept. */
export class MessageErased extends Error {
  constructor(readonly messageId: string) {
    super(`Message ${messageId} was erased before it was answered`);
    this.name = 'MessageErased';
  }
}

export class LeaseLost extends Error {
  constructor(userId: string) {
    super(`The lock of user ${userId} was lost to another replica`);
    this.name = 'LeaseLost';
  }
}

function parseTurns(raw: string | null | undefined): Turn[] | null {
  if (!raw) return null;
  try {
    const turns = JSON.parse(raw) as unknown;
    return Array.isArray(turns) ? (turns as Turn[]) : null;
  } catch {
    return null; // A corrupt session is treated as none: the conversation starts afresh.
  }
}

function parseReply(raw: string | null | undefined): RecordedReply | null {
  if (!raw) return null;
  try {
    return JSON.parse(raw) as RecordedReply;
  } catch {
    return null;
  }
}

export interface SessionStoreOptions {
  prefix: string;
  ttlSeconds: number;
}

/** What the answer to one message starts from. */
export interface LoadedSession {
  turns: Turn[] | null;
  /** The reply recorded for this message by an earlier attempt, if any. */
  reply: RecordedReply | null;
  /** When the person last erased everything (ms), if they did recently. */
  erasedAt: number | null;
}

/**
 * Sessions, recorded replies and language per person, all under the person's hash tag. A person has
 * one conversation in DMs and one per server thread (`place`): what they say privately never reaches
 * a public thread.
 */
export class SessionStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly options: SessionStoreOptions,
  ) {}

  /** The person's DM conversation, or the one of a server thread. */
  key(userId: string, place?: string): string {
    return `${this.options.prefix}session:{${userId}}${place ? `:thread:${place}` : ''}`;
  }

  private threadsKey(userId: string): string {
    return `${this.options.prefix}threads:{${userId}}`;
  }

  private fenceKey(userId: string): string {
    return `${this.options.prefix}fence:{${userId}}`;
  }

  private repliesKey(userId: string): string {
    return `${this.options.prefix}replies:{${userId}}`;
  }

  /** The user's turns, or `null` when there is no live session. Reading refreshes the expiry. */
  async load(userId: string, place?: string): Promise<Turn[] | null> {
    return parseTurns(await this.redis.getex(this.key(userId, place), 'EX', this.options.ttlSeconds));
  }

  /**
   * The session, the reply already recorded for this message if one was (a redelivered message), and
   * when the person last erased everything, in one round trip. Reading refreshes the session's expiry.
   */
  async loadForReply(userId: string, messageId: string, place?: string): Promise<LoadedSession> {
    const pipeline = this.redis
      .pipeline()
      .getex(this.key(userId, place), 'EX', this.options.ttlSeconds)
      .hget(this.repliesKey(userId), messageId)
      .hget(this.fenceKey(userId), 'erased');
    // Reading slides a thread conversation's expiry: the index that /logout and erasure go by must
    // live at least as long.
    if (place) pipeline.sadd(this.threadsKey(userId), this.key(userId, place)).expire(this.threadsKey(userId), this.options.ttlSeconds);
    const results = await pipeline.exec();
    const failed = results?.find(([error]) => error);
    if (failed?.[0]) throw failed[0] instanceof Error ? failed[0] : new Error(String(failed[0]));
    const [load, reply, erased] = (results ?? []).map(([, value]) => value as string | null);
    return { turns: parseTurns(load), reply: parseReply(reply), erasedAt: erased ? Number(erased) : null };
  }

  /**
   * Records the reply to a message, and the new session turns with it (atomically), if the lease is
   * still held and no reply was recorded yet. The turns are not written when the person forgot the
   * conversation (or erased everything) after sending the message (`sentAt`, ms): an answer being
   * written at that moment does not bring it back. Returns the reply that stands: this one, or the one
   * recorded earlier. Throws `LeaseLost` when another replica took the user's lock meanwhile.
   */
  async commit(
    lease: Lease,
    messageId: string,
    reply: RecordedReply,
    turns: readonly Turn[] | null,
    { sentAt = Date.now(), place }: { sentAt?: number; place?: string | undefined } = {},
  ): Promise<{ reply: RecordedReply; written: boolean }> {
    const result = (await this.redis.eval(
      COMMIT,
      5,
      lease.key,
      this.repliesKey(lease.userId),
      this.key(lease.userId, place),
      this.fenceKey(lease.userId),
      this.threadsKey(lease.userId),
      lease.token,
      messageId,
      JSON.stringify(reply),
      REPLY_TTL_SECONDS,
      turns ? JSON.stringify(turns) : '',
      this.options.ttlSeconds,
      sentAt,
      place ? '1' : '0',
    )) as [number, string | null];
    if (result[0] === -1) throw new LeaseLost(lease.userId);
    if (result[0] === 3) throw new MessageErased(messageId);
    if (result[0] === 0) return { reply: parseReply(result[1]) ?? reply, written: false };
    return { reply, written: true };
  }

  /** Drops the recorded reply once the message is finished with. */
  async forgetReply(userId: string, messageId: string): Promise<void> {
    await this.redis.hdel(this.repliesKey(userId), messageId);
  }

  /**
   * Forgets the person's conversations (DM and server threads); an answer still being written for an
   * earlier message will not bring them back. Returns whether there was one.
   */
  async reset(userId: string): Promise<boolean> {
    return (await this.forget(userId, false)) > 0;
  }

  /**
   * Removes everything held in Redis about the person's words: their conversations, replies recorded
   * for messages in flight, their language; and fences answers still being written for messages sent
   * before now, which are then neither recorded into a session nor answered if not begun.
   */
  async erase(userId: string): Promise<void> {
    await this.forget(userId, true);
  }

  private async forget(userId: string, everything: boolean): Promise<number> {
    return (await this.redis.eval(
      FORGET,
      5,
      this.key(userId),
      this.threadsKey(userId),
      this.fenceKey(userId),
      this.repliesKey(userId),
      this.localeKey(userId),
      Date.now(),
      FENCE_TTL_SECONDS,
      everything ? '1' : '0',
    )) as number;
  }

  /**
   * Remembers the language of the person's Discord client. Discord tells it with every slash command
   * but not with DMs, so DM replies use the last one seen (kept 30 days).
   */
  async rememberLocale(userId: string, locale: string): Promise<void> {
    await this.redis.set(this.localeKey(userId), locale, 'EX', 30 * 86_400);
  }

  async locale(userId: string): Promise<string | null> {
    return this.redis.get(this.localeKey(userId));
  }

  private localeKey(userId: string): string {
    return `${this.options.prefix}locale:{${userId}}`;
  }
}
