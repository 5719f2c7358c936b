// The conversation core: one incoming message in, one recorded reply out. It knows nothing of Discord.
//   (caller holds the user's lock) → session + recorded reply → fitToBudget → model.complete
//   → commit(reply record + session, fenced by the lock); once the reply is shown: keep → history.save
// A message is answered at most once: the reply is recorded with the session update, and a message
// that comes back (a replica died before finishing it) gets the recorded reply, not a new model call.
import type { Logger } from 'pino';
import { caching, fitToBudget, type TokenCounter } from './context.js';
import { ChatFailure } from './errors.js';
import type { Completion } from './model-client.js';
import { type ModerationPolicy, screen } from './moderation.js';
import { LeaseLost, MessageErased, type SessionStore } from './session-store.js';
import { ageImages, forSession, inLowDetail, showImages } from './image-memory.js';
import type { AttachmentMeta, Exchange, RecordedReply, Turn, TurnImage } from './types.js';
import { acceptsImages, type VisionMode } from './vision.js';
import type { Lease } from './user-lock.js';

export interface IncomingMessage {
  userId: string;
  username?: string;
  messageId: string;
  text: string;
  receivedAt?: Date;
  /** Written in a server thread (its own conversation) rather than in DMs. */
  place?: { guildId: string; threadId: string };
  /** Its attachments as history keeps them (name, type, size; never their content). */
  attachments?: AttachmentMeta[];
  /** What the transport made of them: images for a vision model, and the text of text files. */
  images?: TurnImage[];
  files?: string;
}

export { MessageErased } from './session-store.js';

/** The reply that stands for a message, and whether it had been recorded before this call. */
export type Reply = RecordedReply & { replayed: boolean };

export interface ModelPort {
  readonly model: string;
  complete(turns: readonly Turn[], onDelta?: (text: string) => void, signal?: AbortSignal, cacheFor?: string, model?: string): Promise<Completion>;
}

/** A person's own settings, read once per message (see src/history/person-settings.ts). */
export interface PersonSettings {
  /** The model they chose with /model (null: the default) and their standing instructions. */
  of(userId: string): Promise<{ model: string | null; instructions: string | null }>;
}

export interface HistoryPort {
  /** Stores the exchange, now or later (outbox); rejects only if it cannot be kept at all. */
  save(exchange: Exchange, username?: string): Promise<unknown>;
}

export interface ConversationOptions {
  systemPrompt: string;
  contextTokenBudget: number;
  /** Counts a turn's tokens for the configured model (see `loadTokenCounter`). */
  countTokens: TokenCounter;
  /**
   * The models people may choose (the default first), and the counter for each. A choice no longer
   * allowed (the operator changed OPENAI_MODELS) falls back to the default.
   */
  models?: { allowed: readonly string[]; counterFor(model: string): Promise<TokenCounter> };
  /** OPENAI_VISION and IMAGE_MEMORY_TURNS: which models are shown images, and for how many turns after their own. */
  vision?: { mode: VisionMode; memoryTurns: number };
}

export class ConversationService {
  private readonly countTokens: TokenCounter;

  constructor(
    private readonly deps: {
      sessions: SessionStore;
      model: ModelPort;
      history: HistoryPort;
      logger: Logger;
      onAnswered?: (userId: string, completion: Completion) => void;
      settings?: PersonSettings;
      /** MODERATION: what people write (and with `both`, answers) is checked first (moderation.ts). */
      moderation?: ModerationPolicy;
      /** Fetches an image of an earlier turn again (the session keeps only its reference): a data: URL, or null if gone. */
      images?: { load(image: TurnImage, owner: string): Promise<string | null> };
    },
    private readonly options: ConversationOptions,
  ) {
    this.countTokens = caching(options.countTokens);
  }

  /**
   * Answers one message with the model, under the caller's lease on the user's lock. With `onDelta`
   * the answer is streamed: it receives the text as the model writes it. Returns the recorded reply
   * without calling the model when the message was already answered (or refused).
   */
  async answer(message: IncomingMessage, lease: Lease, onDelta?: (text: string) => void, signal?: AbortSignal): Promise<Reply> {
    const { sessions, model } = this.deps;
    const place = message.place?.threadId;
    const sentAt = (message.receivedAt ?? new Date()).getTime();
    const loaded = await this.memory(() => sessions.loadForReply(message.userId, message.messageId, place));
    if (loaded.reply) return { ...loaded.reply, replayed: true };
    if (loaded.erasedAt !== null && loaded.erasedAt >= sentAt) throw new MessageErased(message.messageId);
    const log = this.deps.logger.child({ userId: message.userId, messageId: message.messageId });
    const images = (message.images ?? []).flatMap((image) => (image.data ? [image.data] : []));
    await screen(this.deps.moderation, 'input', [message.text, message.files].filter(Boolean).join('\n\n'), log, images);
    const firstMessage = loaded.turns === null;
    const own = await this.ownSettings(message.userId);
    const chosen = await this.chosenModel(own.model);
    const earlier = loaded.turns ?? [{ role: 'system', content: this.options.systemPrompt }];
    // The person's instructions go right after the operator's prompt, as a system turn of their own
    // (never replacing it), so the start of the prompt stays the same from message to message. They
    // are added for each request and never kept in the session: a change applies at once.
    const instructions: Turn | null = own.instructions ? { role: 'system', content: own.instructions } : null;
    const prompt = instructions && earlier[0]?.role === 'system' ? [earlier[0], instructions, ...earlier.slice(1)] : earlier;
    const fit = await this.fitWithImages(prompt, message, chosen?.model ?? model.model, chosen?.count ?? this.countTokens);

    // The cache key follows the conversation (the person, and the thread if any): its prompts share a prefix.
    // An answer moderation must see whole before it is shown is not streamed.
    const streamTo = this.deps.moderation?.answers ? undefined : onDelta;
    const completion = await model.complete(fit.turns, streamTo, signal, place ? `${message.userId}:${place}` : message.userId, chosen?.model).catch((error: unknown) => {
      // Cut off after it was sent (Stop before the first word, Discord refusing the answer): the
      // provider bills the prompt all the same, so it counts against the person's cap too.
      if (signal?.aborted) {
        const usage = { promptTokens: fit.tokens, completionTokens: 0, totalTokens: fit.tokens, cachedTokens: 0 };
        this.deps.onAnswered?.(message.userId, { text: '', model: chosen?.model ?? model.model, usage });
      }
      throw error;
    });

    // The session keeps only what fitted, plus the answer; the next call trims again if needed.
    const answer: Turn = { role: 'assistant', content: completion.text };
    const answerTokens = (chosen?.count ?? this.countTokens)(answer);
    // A stopped stream ends before the provider reports usage: counted here, so that Stop is no way
    // around the token cap (the provider bills what it wrote until the connection closed).
    const usage = completion.stopped && !completion.usage.totalTokens
      ? { promptTokens: fit.tokens, completionTokens: answerTokens, totalTokens: fit.tokens + answerTokens, cachedTokens: 0 }
      : completion.usage;
    this.deps.onAnswered?.(message.userId, { ...completion, usage });
    await screen(this.deps.moderation, 'answer', completion.text, log);
    const reply: RecordedReply = {
      kind: 'answer',
      text: completion.text,
      model: completion.model,
      usage,
      droppedTurns: fit.dropped,
      firstMessage,
      ...(completion.stopped ? { stopped: true } : {}),
    };
    const committed = await this.memory(() => sessions.commit(lease, message.messageId, reply, forSession([...fit.turns.filter((t) => t !== instructions), answer]), { sentAt, place }));
    return { ...committed.reply, replayed: !committed.written };
  }

  /** The model that answers this person now: their /model choice, or the default. */
  async modelFor(userId: string): Promise<string> {
    return (await this.chosenModel((await this.ownSettings(userId)).model))?.model ?? this.deps.model.model;
  }

  /**
   * The request's turns within the budget, with the new message's images and files; images that aged
   * out (image-memory.ts), or that the model cannot take, are placeholders, and the rest are fetched
   * again. New images that do not fit at high detail are sent at low detail.
   */
  private async fitWithImages(prompt: readonly Turn[], message: IncomingMessage, model: string, count: TokenCounter): Promise<{ turns: Turn[]; tokens: number; dropped: number }> {
    const sees = this.options.vision ? acceptsImages(model, this.options.vision.mode) : false;
    const content = [message.text, message.files].filter(Boolean).join('\n\n');
    const newest: Turn = { role: 'user', content, ...(sees && message.images?.length ? { images: message.images } : {}) };
    const budget = this.options.contextTokenBudget;
    const turns = sees ? [...prompt, newest] : ageImages([...prompt, newest], 0, { keep: false });
    let fit = fitToBudget(turns, budget, count);
    // Pictures older than IMAGE_MEMORY_TURNS go when the context is trimmed, not before: between trims
    // every request starts with the same bytes, so the provider's prompt cache applies to them.
    const trimmed = !fit.ok || fit.dropped > 0 || fit.turns.some((turn, i) => turn !== turns[i]);
    if (sees && trimmed) fit = fitToBudget(ageImages(turns, this.options.vision?.memoryTurns ?? 0), budget, count);
    if (!fit.ok && newest.images) fit = fitToBudget([...ageImages(turns, this.options.vision?.memoryTurns ?? 0).slice(0, -1), inLowDetail(turns.at(-1)!)], budget, count);
    if (!fit.ok) throw new ChatFailure('too_long', `Message needs ${fit.tokens} tokens; the budget is ${this.options.contextTokenBudget}`);
    const { images } = this.deps;
    return sees && images ? { ...fit, turns: await showImages(fit.turns, (image) => images.load(image, message.userId)) } : fit;
  }

  /**
   * The person's chosen model and its token counter, or null for the default. Counts are remembered
   * on each turn whichever model counted them, so after a switch of encoding older turns keep their
   * earlier count: a few per cent off, which the budget's trimming margin absorbs.
   */
  private async chosenModel(picked: string | null): Promise<{ model: string; count: TokenCounter } | null> {
    const models = this.options.models;
    if (!models || !picked || picked === models.allowed[0] || !models.allowed.includes(picked)) return null;
    return { model: picked, count: caching(await models.counterFor(picked)) };
  }

  /** The person's settings; unreadable (PostgreSQL away), the defaults still answer. */
  private async ownSettings(userId: string): Promise<{ model: string | null; instructions: string | null }> {
    const none = { model: null, instructions: null };
    if (!this.deps.settings) return none;
    return this.deps.settings.of(userId).catch((error: unknown) => {
      this.deps.logger.warn({ err: error, userId }, 'person settings unavailable; using the defaults');
      return none;
    });
  }

  /** Records a notice (a refusal or a failure) as the reply to a message, unless a reply stands already. */
  async notice(message: IncomingMessage, lease: Lease, outcome: string, text: string): Promise<Reply> {
    const committed = await this.memory(() => this.deps.sessions.commit(lease, message.messageId, { kind: 'notice', outcome, text }, null));
    return { ...committed.reply, replayed: !committed.written };
  }

  /** Drops the recorded reply once the message is finished with (delivered and acknowledged). */
  async forget(message: IncomingMessage): Promise<void> {
    await this.deps.sessions.forgetReply(message.userId, message.messageId);
  }

  /**
   * Keeps an answered exchange in history (idempotent: a replayed reply is not stored twice). Called
   * once the reply is shown, so storing it never delays what the person sees; a replica that dies
   * before this leaves the message to be taken over, and the recorded reply is kept then.
   */
  async keep(message: IncomingMessage, reply: RecordedReply): Promise<void> {
    if (reply.kind === 'answer') {
      const exchange: Exchange = {
        discordUserId: message.userId,
        discordMessageId: message.messageId,
        userText: message.text,
        gptResponse: reply.text,
        model: reply.model,
        usage: reply.usage,
        createdAt: message.receivedAt ?? new Date(),
        ...(message.place ? { guildId: message.place.guildId, channelId: message.place.threadId } : {}),
        ...(reply.stopped ? { stopped: true } : {}),
        ...(message.attachments?.length ? { attachments: message.attachments } : {}),
      };
      try {
        await this.deps.history.save(exchange, message.username);
      } catch (error) {
        // PostgreSQL and the outbox both failed: the person still gets the answer; the loss is logged loudly.
        this.deps.logger.error({ err: error, userId: message.userId, messageId: message.messageId }, 'history save failed');
      }
    }
  }

  private async memory<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (error) {
      if (error instanceof LeaseLost || error instanceof MessageErased) throw error;
      throw new ChatFailure('memory_unavailable', 'The session store is unreachable', { cause: error });
    }
  }
}
