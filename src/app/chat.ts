// Wiring, part 2: the conversation core. The model client, sessions, the per-person lock, the
// guards (allow-list, token cap), moderation, and the ConversationService over them.
import type { Logger } from 'pino';
import { loadTokenCounter } from '../chat/context.js';
import { ConversationService } from '../chat/conversation.js';
import { Guards } from '../chat/guards.js';
import { ModelClient } from '../chat/model-client.js';
import { moderationPolicy } from '../chat/moderation.js';
import { SessionStore } from '../chat/session-store.js';
import { UserLock } from '../chat/user-lock.js';
import { allowedModels, type Config } from '../config/index.js';
import type { Metrics } from '../ops/metrics.js';
import type { TurnImage } from '../chat/types.js';
import type { Storage } from './storage.js';

export async function buildChat(config: Config, logger: Logger, metrics: Metrics, storage: Storage, images: { load(image: TurnImage, owner: string): Promise<string | null> }) {
  const { redis, outbox, personSettings, usage } = storage;
  const prefix = config.REDIS_KEY_PREFIX;
  // The first allowed model is everyone's default.
  const models = allowedModels(config);
  const guards = new Guards(redis, logger, { prefix, allowedUserIds: config.ALLOWED_USER_IDS, dailyTokenCap: config.DAILY_TOKEN_CAP });
  const model = new ModelClient({
    apiKey: config.OPENAI_API_KEY,
    baseURL: config.OPENAI_BASE_URL,
    model: models[0]!,
    timeoutMs: config.OPENAI_TIMEOUT_MS,
    maxRetries: config.OPENAI_MAX_RETRIES,
    maxReplyTokens: config.MAX_REPLY_TOKENS,
    promptCacheKey: config.OPENAI_PROMPT_CACHE_KEY,
    observe: (seconds, outcome) => metrics.modelLatency.observe({ outcome }, seconds),
  });
  const sessions = new SessionStore(redis, { prefix, ttlSeconds: config.SESSION_TTL_SECONDS });
  // The longest a message can legitimately hold up the next one of the same person: every model
  // attempt timing out, plus a takeover after its replica died.
  const slowestMessageMs = config.OPENAI_TIMEOUT_MS * (config.OPENAI_MAX_RETRIES + 1) + 2 * config.REDELIVER_AFTER_MS + 30_000;
  // The lock is renewed while held, so its TTL only decides how soon a dead replica's lock frees.
  const lock = new UserLock(redis, { prefix, ttlMs: config.REDELIVER_AFTER_MS, waitMs: slowestMessageMs });
  const conversation = new ConversationService(
    {
      sessions,
      model,
      history: outbox,
      logger,
      settings: personSettings,
      // An image of an earlier turn is fetched again when a request includes it (image-memory.ts).
      images,
      moderation: moderationPolicy(config, (stage, flagged) => (flagged ? flagged.forEach((category) => metrics.moderationFlagged.inc({ stage, category })) : metrics.moderationFailures.inc({ stage }))),
      onAnswered: (userId, completion) => {
        metrics.tokens.inc({ kind: 'prompt' }, completion.usage.promptTokens);
        metrics.tokens.inc({ kind: 'completion' }, completion.usage.completionTokens);
        metrics.tokens.inc({ kind: 'cached' }, completion.usage.cachedTokens ?? 0);
        void guards.spend(userId, completion.usage.totalTokens);
        usage.record(userId, completion.model, completion.usage).catch((error: unknown) => logger.warn({ err: error, userId }, 'usage ledger not updated'));
      },
    },
    {
      systemPrompt: config.SYSTEM_PROMPT,
      contextTokenBudget: config.CONTEXT_TOKEN_BUDGET,
      countTokens: await loadTokenCounter(models[0]!),
      models: { allowed: models, counterFor: loadTokenCounter },
      vision: { mode: config.OPENAI_VISION, memoryTurns: config.IMAGE_MEMORY_TURNS },
    },
  );
  return { models, guards, sessions, lock, conversation, slowestMessageMs };
}

export type Chat = Awaited<ReturnType<typeof buildChat>>;
