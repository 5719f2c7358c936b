// One replica's consumer of the shared stream: reads new entries while it has room, keeps the ones it
// holds alive with a heartbeat, takes over entries abandoned by dead replicas, and on stop reads no
// more and lets the work in hand finish (another replica takes what it cannot finish in time).
//
// A person's message whose turn has not come (an earlier one of theirs is still being answered,
// here or on another replica) waits aside, holding no worker slot, so one person's backlog never
// holds up anyone else. It is woken when the turn comes: replicas publish every finished turn, and
// a slow sweep catches a lost publication and an earlier message that makes no progress.
import type { Logger } from 'pino';
import type { RedisClient } from '../redis.js';
import type { Delivery, DmStream } from './dm-stream.js';

export interface WorkerOptions {
  /** This replica's name in the consumer group (unique per process). */
  consumer: string;
  /** How many messages this replica answers at once (messages waiting for their turn do not count). */
  concurrency: number;
  /** How long an entry may go without a heartbeat before another replica takes it over. */
  redeliverAfterMs: number;
  /** How long a message waits for an earlier one of the same person that makes no progress. */
  turnStallMs: number;
  /** How long a blocking read waits for new entries. */
  blockMs?: number;
}

// Consumers of replicas gone for an hour (and holding nothing) are removed from the group.
const PRUNE_IDLE_MS = 3_600_000;
const CLAIM_BATCH = 10;
// The safety net behind the published turns: how often waiting people's turns are looked up.
const TURN_SWEEP_MS = 1000;

interface Waiting {
  delivery: Delivery;
  /** The person's turn when last looked at, and since when it has not moved. */
  seenNext: number;
  since: number;
}

export class DmWorker {
  private readonly inFlight = new Map<string, { delivery: Delivery; abandon: AbortController }>();
  /** Messages waiting for their person's turn, by person. */
  private readonly waiting = new Map<string, Map<string, Waiting>>();
  /** Messages whose turn came while every slot was taken: they go before new reads. */
  private readonly ready: Delivery[] = [];
  private stopping = false;
  private loop: Promise<void> | null = null;
  private heartbeat: NodeJS.Timeout | undefined;
  private reclaim: NodeJS.Timeout | undefined;
  private sweep: NodeJS.Timeout | undefined;
  private roomFreed: (() => void) | null = null;
  private idle: (() => void) | null = null;
  private reclaims = 0;

  constructor(
    private readonly deps: {
      stream: DmStream;
      /** A connection of its own: the blocking read holds it. */
      reader: RedisClient;
      /** A connection of its own for hearing finished turns (a subscribed connection does nothing else). */
      subscriber: RedisClient;
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

  /** Messages this replica is answering now. */
  get busy(): number {
    return this.inFlight.size;
  }

  /** Messages this replica holds: answering, or waiting for their person's turn. */
  get held(): number {
    let waiting = this.ready.length;
    for (const entries of this.waiting.values()) waiting += entries.size;
    return this.inFlight.size + waiting;
  }

  async start(): Promise<void> {
    const { stream, subscriber, logger } = this.deps;
    await stream.ensureGroup();
    subscriber.on('message', (channel: string, message: string) => {
      if (channel !== stream.turnsChannel) return;
      const [userId = '', next] = message.split(' ');
      if (this.waiting.has(userId)) void this.wake(userId, Number(next));
    });
    await subscriber.subscribe(stream.turnsChannel).catch((error: unknown) => logger.warn({ err: error }, 'could not subscribe to finished turns; relying on the sweep'));
    this.loop = this.readLoop();
    const beat = Math.max(this.options.redeliverAfterMs / 3, 100);
    this.heartbeat = setInterval(() => void this.beat(), beat);
    // Looked for often (XAUTOCLAIM is one cheap command: four a second per replica at most), so a
    // takeover follows the timeout closely.
    this.reclaim = setInterval(() => void this.takeOver(), Math.min(Math.max(this.options.redeliverAfterMs / 8, 100), 250));
    this.sweep = setInterval(() => {
      for (const userId of this.waiting.keys()) void this.wake(userId);
    }, TURN_SWEEP_MS);
  }

  /**
   * Stops reading and waits up to `graceMs` for the messages being answered. Returns whether all
   * finished. Messages still waiting for their turn, and those that did not finish, are handed back
   * at once: marked idle for the whole visibility timeout, so the next replica to look takes them
   * over (the user lock fences this one if it is still writing).
   */
  async stop(graceMs: number): Promise<boolean> {
    this.stopping = true;
    clearInterval(this.reclaim);
    clearInterval(this.sweep);
    this.deps.reader.disconnect(); // ends a blocking read at once
    this.deps.subscriber.disconnect();
    this.roomFreed?.();
    await this.loop;
    const notStarted = [...this.ready.map((d) => d.entryId), ...[...this.waiting.values()].flatMap((entries) => [...entries.keys()])];
    this.ready.length = 0;
    this.waiting.clear();
    await this.deps.stream.handBack(this.options.consumer, notStarted, this.options.redeliverAfterMs).catch(() => undefined);
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
      this.startReady();
      const room = this.options.concurrency - this.inFlight.size - this.ready.length;
      if (room <= 0) {
        await new Promise<void>((resolve) => (this.roomFreed = resolve));
        continue;
      }
      try {
        const deliveries = await stream.read(reader, this.options.consumer, room, this.options.blockMs ?? 2000);
        for (const delivery of deliveries) this.accept(delivery);
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

  private holds(entryId: string): boolean {
    if (this.inFlight.has(entryId) || this.ready.some((d) => d.entryId === entryId)) return true;
    for (const entries of this.waiting.values()) if (entries.has(entryId)) return true;
    return false;
  }

  /** A message was handed to this replica: answered now if it waits for nothing, else set aside until its turn. */
  private accept(delivery: Delivery, { force = false } = {}): void {
    if (this.holds(delivery.entryId)) return;
    if (delivery.seq === 0) return this.run(delivery);
    const { userId } = delivery.job;
    let entries = this.waiting.get(userId);
    if (!entries) this.waiting.set(userId, (entries = new Map<string, Waiting>()));
    entries.set(delivery.entryId, { delivery, seenNext: -1, since: Date.now() });
    void this.wake(userId, undefined, force);
  }

  /** Looks at the person's turn and starts their message whose turn it is (or that waited too long). */
  private async wake(userId: string, known?: number, forceRun = false): Promise<void> {
    let next = known;
    if (next === undefined || Number.isNaN(next)) {
      try {
        next = await this.deps.stream.nextTurn(userId);
      } catch (error) {
        this.deps.logger.debug({ err: error }, 'could not look up a turn');
        return;
      }
    }
    const entries = this.waiting.get(userId);
    if (!entries) return;
    const now = Date.now();
    const due: Delivery[] = [];
    for (const [entryId, waiting] of entries) {
      const { delivery } = waiting;
      if (delivery.seq > next && waiting.seenNext !== next) {
        waiting.seenNext = next;
        waiting.since = now;
      }
      const stalled = delivery.seq > next && now - waiting.since > this.options.turnStallMs;
      if (delivery.seq <= next || stalled) {
        if (stalled) this.deps.logger.warn({ userId, messageId: delivery.job.messageId }, 'an earlier message of this person made no progress; answering this one without waiting');
        entries.delete(entryId);
        due.push(delivery);
      }
    }
    if (!entries.size) this.waiting.delete(userId);
    for (const delivery of due.sort((a, b) => a.seq - b.seq)) {
      if (forceRun || this.inFlight.size < this.options.concurrency) this.run(delivery);
      else this.ready.push(delivery);
    }
  }

  private startReady(): void {
    while (this.ready.length && this.inFlight.size < this.options.concurrency) this.run(this.ready.shift()!);
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
        this.startReady();
        const resume = this.roomFreed;
        this.roomFreed = null;
        resume?.();
        if (this.inFlight.size === 0) this.idle?.();
      });
  }

  private async beat(): Promise<void> {
    const waitingIds = [...this.ready.map((d) => d.entryId), ...[...this.waiting.values()].flatMap((entries) => [...entries.keys()])];
    try {
      const lost = await this.deps.stream.heartbeat(this.options.consumer, [...this.inFlight.keys(), ...waitingIds]);
      if (!lost.length) return;
      // A message not yet started that another replica took over is that replica's now.
      const gone = new Set(lost);
      for (let i = this.ready.length - 1; i >= 0; i--) if (gone.has(this.ready[i]!.entryId)) this.ready.splice(i, 1);
      for (const [userId, entries] of this.waiting) {
        for (const id of entries.keys()) if (gone.has(id)) entries.delete(id);
        if (!entries.size) this.waiting.delete(userId);
      }
      const answering = lost.filter((id) => this.inFlight.has(id));
      if (answering.length) this.deps.logger.warn({ entries: answering }, 'another replica took over messages this one is still answering');
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
        if (this.holds(delivery.entryId)) continue;
        logger.info({ messageId: delivery.job.messageId, userId: delivery.job.userId, deliveries: delivery.deliveries }, 'taking over an abandoned message');
        this.deps.onRedelivered?.();
        this.accept(delivery, { force: true });
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
