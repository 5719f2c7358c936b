// The running conversation per Discord user, kept in Redis with a sliding expiry.
// Keys carry the user id in a hash tag ({...}) so every key of one user lands on one Redis Cluster slot
// (the commit script touches the lock, the reply record and the session together).
import type { RedisClient } from '../redis.js';
import type { Lease } from './user-lock.js';
import type { RecordedReply, Turn } from './types.js';

// A recorded reply is dropped when its message is finished; this only bounds a leftover (a replica
// that died between acknowledging the message and dropping it).
const REPLY_TTL_SECONDS = 86_400;

// KEYS: lock, reply, session. ARGV: token, reply, reply TTL, turns ('' = leave the session), session TTL.
// → {1} written · {0, existing reply} already recorded · {-1} the lock is not ours any more.
const COMMIT = `
if redis.call('get', KEYS[1]) ~= ARGV[1] then return {-1} end
local existing = redis.call('get', KEYS[2])
if existing then return {0, existing} end
redis.call('set', KEYS[2], ARGV[2], 'EX', ARGV[3])
if ARGV[4] ~= '' then redis.call('set', KEYS[3], ARGV[4], 'EX', ARGV[5]) end
return {1}`;

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

export class SessionStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly options: SessionStoreOptions,
  ) {}

  key(userId: string): string {
    return `${this.options.prefix}session:{${userId}}`;
  }

  /** The user's turns, or `null` when there is no live session. Reading refreshes the expiry. */
  async load(userId: string): Promise<Turn[] | null> {
    return parseTurns(await this.redis.getex(this.key(userId), 'EX', this.options.ttlSeconds));
  }

  /**
   * The session, and the reply already recorded for this message if one was (a redelivered message),
   * in one round trip. Reading refreshes the session's expiry.
   */
  async loadForReply(userId: string, messageId: string): Promise<{ turns: Turn[] | null; reply: RecordedReply | null }> {
    const results = await this.redis.pipeline().getex(this.key(userId), 'EX', this.options.ttlSeconds).get(this.replyKey(userId, messageId)).exec();
    const [load, reply] = results ?? [];
    if (load?.[0] || reply?.[0]) throw load?.[0] ?? reply?.[0];
    return { turns: parseTurns(load?.[1] as string | null), reply: parseReply(reply?.[1] as string | null) };
  }

  /**
   * Records the reply to a message, and the new session turns with it (atomically), if the lease is
   * still held and no reply was recorded yet. Returns the reply that stands: this one, or the one
   * recorded earlier. Throws `LeaseLost` when another replica took the user's lock meanwhile.
   */
  async commit(lease: Lease, messageId: string, reply: RecordedReply, turns: readonly Turn[] | null): Promise<{ reply: RecordedReply; written: boolean }> {
    const result = (await this.redis.eval(
      COMMIT,
      3,
      lease.key,
      this.replyKey(lease.userId, messageId),
      this.key(lease.userId),
      lease.token,
      JSON.stringify(reply),
      REPLY_TTL_SECONDS,
      turns ? JSON.stringify(turns) : '',
      this.options.ttlSeconds,
    )) as [number, string | null];
    if (result[0] === -1) throw new LeaseLost(lease.userId);
    if (result[0] === 0) return { reply: parseReply(result[1]) ?? reply, written: false };
    return { reply, written: true };
  }

  /** Drops the recorded reply once the message is finished with. */
  async forgetReply(userId: string, messageId: string): Promise<void> {
    await this.redis.del(this.replyKey(userId, messageId));
  }

  /** Forgets the conversation. Returns whether there was one. */
  async reset(userId: string): Promise<boolean> {
    return (await this.redis.del(this.key(userId))) > 0;
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

  replyKey(userId: string, messageId: string): string {
    return `${this.options.prefix}reply:{${userId}}:${messageId}`;
  }
}
