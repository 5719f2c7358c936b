// One history export per person at a time, then a short pause before the same kind again: an export
// reads the whole history and uploads it, the heaviest thing a person can ask for. (Another kind, say
// JSON after Markdown, may follow at once: asking for both is ordinary.) Held in Redis, so it holds
// across replicas; both keys expire by themselves, also when a replica dies mid-export.
import { randomUUID } from 'node:crypto';
import type { RedisClient } from '../redis.js';

// Refuses while this kind of export cools down, then takes the person's one slot for a running export.
const BEGIN = `local cooling = redis.call('pttl', KEYS[2])
if cooling > 0 then return {0, 'cooldown', cooling} end
if redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then return {1, '', 0} end
return {0, 'running', redis.call('pttl', KEYS[1])}`;
// Frees the slot (unless this export overran it and a newer one holds it) and starts the cooldown.
const FINISH = `if redis.call('get', KEYS[1]) == ARGV[1] then redis.call('del', KEYS[1]) end
return redis.call('set', KEYS[2], '1', 'PX', ARGV[2])`;

/** The person's export slot, to give back with `finish` (which starts the cooldown), or why not now. */
export type ExportSlot = { ok: true; finish(): Promise<void> } | { ok: false; reason: 'running' | 'cooldown'; retryAt: Date };

export interface ExportLimiterOptions {
  prefix: string;
  /** The pause after an export before the same person may start another of the same kind. */
  cooldownMs?: number;
  /** The longest an export may hold the slot: Discord's 15-minute life of an interaction token. */
  maxRunMs?: number;
}

export class ExportLimiter {
  private readonly cooldownMs: number;
  private readonly maxRunMs: number;

  constructor(
    private readonly redis: RedisClient,
    private readonly options: ExportLimiterOptions,
  ) {
    this.cooldownMs = options.cooldownMs ?? 30_000;
    this.maxRunMs = options.maxRunMs ?? 15 * 60_000;
  }

  /** Both keys carry the person's hash tag, so the scripts touch one Redis Cluster slot. */
  private keys(userId: string, kind: string): [string, string] {
    return [`${this.options.prefix}export:{${userId}}`, `${this.options.prefix}export:{${userId}}:cooldown:${kind}`];
  }

  /** Takes the person's export slot for an export of this kind (e.g. its format), or says why not now. */
  async begin(userId: string, kind: string): Promise<ExportSlot> {
    const [slot, cooldown] = this.keys(userId, kind);
    const running = randomUUID();
    const [taken, reason, ttlMs] = (await this.redis.eval(BEGIN, 2, slot, cooldown, running, this.maxRunMs)) as [number, string, number];
    if (taken === 1) {
      return { ok: true, finish: async () => void (await this.redis.eval(FINISH, 2, slot, cooldown, running, this.cooldownMs)) };
    }
    return { ok: false, reason: reason === 'cooldown' ? 'cooldown' : 'running', retryAt: new Date(Date.now() + Math.max(ttlMs, 0)) };
  }
}
