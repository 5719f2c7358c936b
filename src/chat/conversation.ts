// The conversation core: one incoming message in, one answer out. It knows nothing of Discord.
//   lock(user) → claim message → session.load → seed system prompt → fitToBudget → model.complete
//   → session.save + history.save → unlock
import type { Logger } from 'pino';
import { caching, fitToBudget, type TokenCounter } from './context.js';
import { ChatFailure } from './errors.js';
import type { Completion } from './model-client.js';
import type { SessionStore } from './session-store.js';
import type { Exchange, Turn } from './types.js';
import { PerUserQueue } from './user-queue.js';

export interface IncomingMessage {
  userId: string;
  username?: string;
  messageId: string;
  text: string;
  receivedAt?: Date;
}

export type ConversationResult =
  | { kind: 'answered'; text: string; droppedTurns: number; firstMessage: boolean }
  | { kind: 'duplicate' };

export interface ModelPort {
  readonly model: string;
  complete(turns: readonly Turn[], onDelta?: (text: string) => void): Promise<Completion>;
}

export interface HistoryPort {
  /** Stores the exchange, now or later (outbox); rejects only if it cannot be kept at all. */
  save(exchange: Exchange, username?: string): Promise<unknown>;
}

export interface LockPort {
  acquire(userId: string): Promise<() => Promise<void>>;
}

export interface ConversationOptions {
  systemPrompt: string;
  contextTokenBudget: number;
  /** Counts a turn's tokens for the configured model (see `loadTokenCounter`). */
  countTokens: TokenCounter;
}

export class ConversationService {
  private readonly queue = new PerUserQueue();
  private readonly countTokens: TokenCounter;

  constructor(
    private readonly deps: {
      sessions: SessionStore;
      model: ModelPort;
      history: HistoryPort;
      logger: Logger;
      /** Cross-process per-user lock; the in-process queue alone orders one process's messages. */
      lock?: LockPort;
      onAnswered?: (userId: string, completion: Completion) => void;
    },
    private readonly options: ConversationOptions,
  ) {
    this.countTokens = caching(options.countTokens);
  }

  /**
   * Answers one message. Messages of one user are answered one at a time, in arrival order.
   * With `onDelta` the answer is streamed: it receives the text as the model writes it.
   */
  handle(message: IncomingMessage, onDelta?: (text: string) => void): Promise<ConversationResult> {
    return this.queue.run(message.userId, () => this.answer(message, onDelta));
  }

  /** How many people have a message being answered (or waiting) in this process. */
  get activeUsers(): number {
    return this.queue.activeUsers;
  }

  /** Waits for every message already accepted to be answered. */
  drain(): Promise<void> {
    return this.queue.drain();
  }

  private async answer(message: IncomingMessage, onDelta?: (text: string) => void): Promise<ConversationResult> {
    const release = this.deps.lock ? await this.memory(() => this.deps.lock!.acquire(message.userId)) : async () => {};
    try {
      return await this.answerLocked(message, onDelta);
    } finally {
      await release();
    }
  }

  private async answerLocked(message: IncomingMessage, onDelta?: (text: string) => void): Promise<ConversationResult> {
    const { sessions, model, history, logger } = this.deps;
    const claimed = await this.memory(() => sessions.claimAndLoad(message.userId, message.messageId));
    if (!claimed) return { kind: 'duplicate' };
    const stored = claimed.turns;
    const firstMessage = stored === null;
    const earlier = stored ?? [{ role: 'system', content: this.options.systemPrompt }];
    const fit = fitToBudget([...earlier, { role: 'user', content: message.text }], this.options.contextTokenBudget, this.countTokens);
    if (!fit.ok) {
      throw new ChatFailure('too_long', `Message needs ${fit.tokens} tokens; the budget is ${this.options.contextTokenBudget}`);
    }

    const completion = await model.complete(fit.turns, onDelta);
    this.deps.onAnswered?.(message.userId, completion);

    // The session keeps only what fitted, plus the answer; the next call trims again if needed.
    const answer: Turn = { role: 'assistant', content: completion.text };
    this.countTokens(answer);
    await this.memory(() => sessions.save(message.userId, [...fit.turns, answer]));
    const exchange: Exchange = {
      discordUserId: message.userId,
      discordMessageId: message.messageId,
      userText: message.text,
      gptResponse: completion.text,
      model: completion.model,
      usage: completion.usage,
      createdAt: message.receivedAt ?? new Date(),
    };
    try {
      await history.save(exchange, message.username);
    } catch (error) {
      // PostgreSQL and the outbox both failed: the person still gets the answer; the loss is logged loudly.
      logger.error({ err: error, userId: message.userId, messageId: message.messageId }, 'history save failed');
    }
    return { kind: 'answered', text: completion.text, droppedTurns: fit.dropped, firstMessage };
  }

  private async memory<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (error) {
      throw new ChatFailure('memory_unavailable', 'The session store is unreachable', { cause: error });
    }
  }
}
