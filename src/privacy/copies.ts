// In-process copies of what people sent (prepared pictures, kept a few minutes so a person's next
// message costs no download) live on every replica, and an erasure reaches only one of them. So the
// erasing replica drops its own copies at once and PUBLISHes on `{erase}:copies`; every replica drops
// its copies when it hears that, on the subscriber connection it already holds for finished turns
// (one more channel, no more connections). A publication lost while a subscriber reconnects leaves
// copies that expire by themselves within minutes and that nothing refers to any more.
import type { Logger } from 'pino';
import type { RedisClient } from '../redis.js';

export interface DroppableCopies {
  clear(): void;
}

export class CopiesEverywhere {
  constructor(
    private readonly deps: { redis: RedisClient; subscriber: RedisClient; logger: Logger; copies: DroppableCopies[] },
    private readonly options: { prefix: string },
  ) {}

  private get channel(): string {
    return `${this.options.prefix}{erase}:copies`;
  }

  /** Listens for erasures on any replica. */
  async start(): Promise<void> {
    const { subscriber, logger } = this.deps;
    subscriber.on('message', (channel: string) => {
      if (channel === this.channel) this.dropHere();
    });
    await subscriber.subscribe(this.channel).catch((error: unknown) => logger.warn({ err: error }, 'could not subscribe to erasures; other replicas’ picture copies expire by themselves'));
  }

  /** An erasure: drops this replica's copies now, and tells the others to drop theirs. */
  async clear(): Promise<void> {
    this.dropHere();
    await this.deps.redis.publish(this.channel, '1').catch((error: unknown) => this.deps.logger.warn({ err: error }, 'could not tell other replicas to drop their copies'));
  }

  private dropHere(): void {
    for (const copies of this.deps.copies) copies.clear();
  }
}
