// In-process copies of what people sent (prepared pictures, kept a few minutes so a person's next
// message costs no download) live on every replica, and an erasure reaches only one of them. So the
// erasing replica drops the person's copies at once and PUBLISHes their id on `{erase}:copies`; every
// replica drops that person's copies (and no one else's) when it hears that, on the subscriber
// connection it already holds for finished turns (one more channel, no more connections). A
// publication lost while a subscriber reconnects leaves copies that expire by themselves within
// minutes and that nothing refers to any more.
import type { Logger } from 'pino';
import type { RedisClient } from '../redis.js';

export interface DroppableCopies {
  /** Drops every copy of what this person sent. */
  forget(userId: string): void;
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
    subscriber.on('message', (channel: string, userId: string) => {
      if (channel === this.channel) this.dropHere(userId);
    });
    await subscriber.subscribe(this.channel).catch((error: unknown) => logger.warn({ err: error }, 'could not subscribe to erasures; other replicas’ picture copies expire by themselves'));
  }

  /** An erasure: drops this replica's copies of what the person sent now, and tells the others to drop theirs. */
  async forget(userId: string): Promise<void> {
    this.dropHere(userId);
    await this.deps.redis.publish(this.channel, userId).catch((error: unknown) => this.deps.logger.warn({ err: error }, 'could not tell other replicas to drop their copies'));
  }

  private dropHere(userId: string): void {
    for (const copies of this.deps.copies) copies.forget(userId);
  }
}
