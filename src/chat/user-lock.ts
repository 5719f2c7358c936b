// A per-user mutual exclusion lock in Redis, so one person's messages are handled one at a time even
// with several replicas (the session is read-modify-write). SET NX PX with a random token; the holder
// renews it while working and releases it only if it still owns it (compare-and-delete). The TTL is
// short, so a replica that dies holding it frees it within seconds; the token also fences writes
// (see SessionStore.commit): a holder that lost the lock cannot overwrite the session.
import { randomUUID } from 'node:crypto';
import { type RedisClient, releaseIfOwner, renewIfOwner } from '../redis.js';

export interface UserLockOptions {
  prefix: string;
  /** How long a lock lives without renewal (how soon a crashed holder's lock frees). Renewed every third of it. */
  ttlMs: number;
  /** How long to wait for a busy lock before giving up. */
  waitMs: number;
}

/** A held lock: its key and token (for fenced writes) and the way to let it go. */
export interface Lease {
  readonly userId: string;
  readonly key: string;
  readonly token: string;
  release(): Promise<void>;
}

export class LockTimeout extends Error {
  constructor(userId: string) {
    super(`Timed out waiting for the lock of user ${userId}`);
    this.name = 'LockTimeout';
  }
}

export class UserLock {
  constructor(
    private readonly redis: RedisClient,
    private readonly options: UserLockOptions,
  ) {}

  key(userId: string): string {
    return `${this.options.prefix}lock:{${userId}}`;
  }

  /** Waits for the user's lock. */
  async acquire(userId: string): Promise<Lease> {
    const key = this.key(userId);
    const token = randomUUID();
    const deadline = Date.now() + this.options.waitMs;
    let pause = 10;
    while ((await this.redis.set(key, token, 'PX', this.options.ttlMs, 'NX')) !== 'OK') {
      if (Date.now() > deadline) throw new LockTimeout(userId);
      await new Promise((resolve) => setTimeout(resolve, pause + Math.random() * pause));
      pause = Math.min(pause * 2, 200);
    }
    const renew = setInterval(() => {
      renewIfOwner(this.redis, key, token, this.options.ttlMs).catch(() => undefined);
    }, Math.max(this.options.ttlMs / 3, 50));
    renew.unref();
    let released = false;
    return {
      userId,
      key,
      token,
      release: async () => {
        if (released) return;
        released = true;
        clearInterval(renew);
        await releaseIfOwner(this.redis, key, token).catch(() => undefined); // expires on its own otherwise
      },
    };
  }
}
