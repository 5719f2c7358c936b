// The one place that knows everything the bot holds about a person's words, and removes it when they
// ask (/clear-history): their stored exchanges, name and standing instructions (PostgreSQL), their conversations, replies
// recorded for messages in flight and language (Redis), exchanges waiting in the outbox or dead-letter
// list, and their messages still waiting on the stream. Fences go up first: an answer being written
// at that moment is then neither stored nor written back into a conversation, and a message of theirs
// not yet begun is dropped. The pictures they sent leave every replica's cache (copies.ts). What holds
// no words stays: their per-minute and token counters, the numbers of their turn order, and a
// tombstone of their id and the time.
import type { SessionStore } from '../chat/session-store.js';
import type { HistoryOutbox } from '../history/outbox.js';
import type { PersonSettingsStore } from '../history/person-settings.js';
import type { HistoryRepository } from '../history/repository.js';
import type { DmStream } from '../queue/dm-stream.js';

export interface ErasureReport {
  /** Stored exchanges deleted. */
  exchanges: number;
  /** Exchanges removed from the outbox and the dead-letter list. */
  parked: number;
  /** Unanswered messages removed from the stream. */
  queued: number;
}

export class Erasure {
  constructor(
    private readonly deps: {
      sessions: Pick<SessionStore, 'erase'>;
      history: Pick<HistoryRepository, 'erase'>;
      outbox: Pick<HistoryOutbox, 'purge'>;
      stream: Pick<DmStream, 'purge'>;
      /** Their standing instructions are their words too; their choice of model holds none and stays. */
      personSettings?: Pick<PersonSettingsStore, 'clearInstructions'>;
      /** In-process copies of what people sent (prepared pictures), dropped with the rest. */
      caches?: { forget(userId: string): void | Promise<void> }[];
    },
  ) {}

  /**
   * Erases everything held about the person's words, and their stored exchanges up to `upToId`
   * (the newest they were shown when they asked; exchanges written after that stay).
   */
  async erase(userId: string, upToId: string | null): Promise<ErasureReport> {
    const at = new Date();
    await this.deps.sessions.erase(userId);
    // Redis first: if PostgreSQL is away, the person is told the command failed and tries again, and
    // meanwhile nothing parked in Redis can be written back into it.
    const [parked, queued] = await Promise.all([this.deps.outbox.purge(userId), this.deps.stream.purge(userId, at.getTime())]);
    const exchanges = await this.deps.history.erase(userId, upToId, at);
    await this.deps.personSettings?.clearInstructions(userId);
    for (const cache of this.deps.caches ?? []) await cache.forget(userId);
    return { exchanges, parked, queued };
  }
}
