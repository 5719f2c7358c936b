// One replica's consumer of the shared stream: reads new entries while it has room, keeps the ones it
// works on alive with a heartbeat, takes over entries abandoned by dead replicas, and on stop reads no
// more and lets the work in hand finish (another replica takes what it cannot finish in time).
import type { RedisClient } from '../redis.js';
import type { Logger } from 'pino';
import type { Delivery, DmStream } from './dm-stream.js';

export interface WorkerOptions {
  /** This replica's name in the consumer group (unique per process). */
  consumer: string;
  /** How many messages this replica works on at once. */
  concurrency: number;
  /** How long an entry may go without a heartbeat before another replica takes it over. */
  redeliverAfterMs: number;
  /** How long a blocking read waits for new entries. */
  blockMs?: number;
}

// Consumers of replicas gone for an hour (and holding nothing) are removed from the group.
const PRUNE_IDLE_MS = 3_600_000;
const CLAIM_BATCH = 10;

export class DmWorker {
  private readonly inFlight = new Map<string, { delivery: Delivery; abandon: AbortController }>();
  private stopping = false;
  private loop: Promise<void> | null = null;
  private heartbeat: NodeJS.Timeout | undefined;
  private reclaim: NodeJS.Timeout | undefined;
  private roomFreed: (() => void) | null = null;
  private idle: (() => void) | null = null;
  private reclaims = 0;

  constructor(
    private readonly deps: {
      stream: DmStream;
      /** A connection of its own: the blocking read holds it. */
      reader: RedisClient;
      /**
       * Answers one message and finishes its entry; a rejection leaves the entry for redelivery.
       * `abandoned` fires when this replica stops before the answer is done: let go of the user's lock.
       */
      handle: (delivery: Delivery, abandoned: AbortSignal) => Promise<void>;
      logger: Logger;
      onRedelivered?: () => void;
    },
    private readonly options: WorkerOptions,
  ) {}

  /** Messages this replica is working on (answering or waiting for their turn). */
  get busy(): number {
    return this.inFlight.size;
  }

  async start(): Promise<void> {
    await this.deps.stream.ensureGroup();
    this.loop = this.readLoop();
    const beat = Math.max(this.options.redeliverAfterMs / 3, 100);
    this.heartbeat = setInterval(() => void this.beat(), beat);
    // Looked for often (XAUTOCLAIM is one cheap command: four a second per replica at most), so a
    // takeover follows the timeout closely.
    this.reclaim = setInterval(() => void this.takeOver(), Math.min(Math.max(this.options.redeliverAfterMs / 8, 100), 250));
  }

  /**
   * Stops reading and waits up to `graceMs` for the messages in hand. Returns whether all finished;
   * those that did not are handed back at once: marked idle for the whole visibility timeout, so the
   * next replica to look takes them over (the user lock fences this one if it is still writing).
   */
  async stop(graceMs: number): Promise<boolean> {
    this.stopping = true;
    clearInterval(this.reclaim);
    this.deps.reader.disconnect(); // ends a blocking read at once
    this.roomFreed?.();
    await this.loop;
    const finished =
      this.inFlight.size === 0 ||
      (await Promise.race([
        new Promise<true>((resolve) => (this.idle = () => resolve(true))),
        new Promise<false>((resolve) => setTimeout(resolve, graceMs, false).unref()),
      ]));
    clearInterval(this.heartbeat);
    if (finished) {
      await this.deps.stream.leave(this.options.consumer).catch(() => false);
    } else {
      for (const { abandon } of this.inFlight.values()) abandon.abort();
      await this.deps.stream.handBack(this.options.consumer, [...this.inFlight.keys()], this.options.redeliverAfterMs).catch(() => undefined);
    }
    return finished;
  }

  private async readLoop(): Promise<void> {
    const { stream, reader, logger } = this.deps;
    let pause = 100;
    while (!this.stopping) {
      const room = this.options.concurrency - this.inFlight.size;
      if (room <= 0) {
        await new Promise<void>((resolve) => (this.roomFreed = resolve));
        continue;
      }
      try {
        const deliveries = await stream.read(reader, this.options.consumer, room, this.options.blockMs ?? 2000);
        for (const delivery of deliveries) this.run(delivery);
        pause = 100;
      } catch (error) {
        if (this.stopping) break;
        // Redis restarted empty: the group is gone with it.
        if (String(error).includes('NOGROUP')) await stream.ensureGroup().catch(() => undefined);
        else logger.warn({ err: error }, 'reading the message stream failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, pause));
        pause = Math.min(pause * 2, 2000);
      }
    }
  }

  private run(delivery: Delivery): void {
    if (this.inFlight.has(delivery.entryId)) return;
    const abandon = new AbortController();
    this.inFlight.set(delivery.entryId, { delivery, abandon });
    this.deps
      .handle(delivery, abandon.signal)
      .catch((error: unknown) =>
        this.deps.logger.warn({ err: error, messageId: delivery.job.messageId, userId: delivery.job.userId }, 'message left for redelivery'),
      )
      .finally(() => {
        this.inFlight.delete(delivery.entryId);
        const resume = this.roomFreed;
        this.roomFreed = null;
        resume?.();
        if (this.inFlight.size === 0) this.idle?.();
      });
  }

  private async beat(): Promise<void> {
    try {
      const lost = await this.deps.stream.heartbeat(this.options.consumer, [...this.inFlight.keys()]);
      if (lost.length) this.deps.logger.warn({ entries: lost }, 'another replica took over messages this one is still answering');
    } catch (error) {
      this.deps.logger.debug({ err: error }, 'heartbeat failed');
    }
  }

  private async takeOver(): Promise<void> {
    if (this.stopping) return;
    const { stream, logger } = this.deps;
    try {
      // Not limited by `concurrency`: an abandoned message may be what every waiting one waits for.
      const deliveries = await stream.claimIdle(this.options.consumer, this.options.redeliverAfterMs, CLAIM_BATCH);
      for (const delivery of deliveries) {
        if (this.inFlight.has(delivery.entryId)) continue;
        logger.info({ messageId: delivery.job.messageId, userId: delivery.job.userId, deliveries: delivery.deliveries }, 'taking over an abandoned message');
        this.deps.onRedelivered?.();
        this.run(delivery);
      }
      if (++this.reclaims % 100 === 1) {
        const gone = await stream.pruneConsumers(PRUNE_IDLE_MS);
        if (gone.length) logger.info({ consumers: gone }, 'removed consumers of replicas long gone');
      }
    } catch (error) {
      if (String(error).includes('NOGROUP')) await stream.ensureGroup().catch(() => undefined);
      else logger.debug({ err: error }, 'claiming abandoned messages failed');
    }
  }
}
