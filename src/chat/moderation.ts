// The operator's safety net (MODERATION): OpenAI's moderation endpoint checks what a person writes
// before the chat model sees it and, with `both`, the whole answer before it is shown (so such
// answers are never streamed). A flagged text becomes a `ChatFailure` the transport turns into a
// polite notice; nothing flagged is stored. When the endpoint itself fails, MODERATION_FAIL decides:
// `open` lets the text through, `closed` refuses it. Logs and metrics get the categories, never the text.
import OpenAI from 'openai';
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import { ChatFailure, type ChatFailureKind } from './errors.js';

export type ModerationStage = 'input' | 'answer';

export interface ModerationVerdict {
  flagged: boolean;
  /** The categories the endpoint flagged (e.g. `harassment`, `self-harm/intent`). */
  categories: string[];
}

/** The moderation endpoint could not give a verdict (down, timed out, refused the request). */
export class ModerationUnavailable extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ModerationUnavailable';
  }
}

export class Moderator {
  private readonly openai: OpenAI;

  constructor(private readonly options: { apiKey: string; baseURL?: string | undefined; model: string; timeoutMs: number; maxRetries: number }) {
    // The same server and key as the chat model (OPENAI_BASE_URL): the SDK retries 429/5xx itself.
    this.openai = new OpenAI({ apiKey: options.apiKey, baseURL: options.baseURL, timeout: options.timeoutMs, maxRetries: options.maxRetries });
  }

  /** Asks the endpoint about `text`; throws `ModerationUnavailable` when it gives no verdict. */
  /** Checks words, with any pictures as image parts (omni-moderation reads images too). */
  async check(text: string, images: readonly string[] = []): Promise<ModerationVerdict> {
    const input = images.length ? [{ type: 'text' as const, text }, ...images.map((url) => ({ type: 'image_url' as const, image_url: { url } }))] : text;
    try {
      const response = await this.openai.moderations.create({ model: this.options.model, input });
      const results = response.results ?? [];
      const categories = new Set(results.flatMap((r) => Object.entries(r.categories ?? {}).filter(([, on]) => on === true).map(([name]) => name)));
      return { flagged: results.some((r) => r.flagged), categories: [...categories] };
    } catch (error) {
      throw new ModerationUnavailable(error instanceof Error ? error.message : String(error), { cause: error });
    }
  }
}

export interface ModerationPolicy {
  moderator: Pick<Moderator, 'check'>;
  /** MODERATION=both: answers are checked too, whole, before they are shown. */
  answers: boolean;
  /** MODERATION_FAIL=closed: a failed check refuses the text. */
  failClosed: boolean;
  /** Told each flagged text's categories, or null for a failed check (for metrics). */
  observe?: (stage: ModerationStage, flagged: readonly string[] | null) => void;
}

/** The policy the operator's settings ask for; undefined when MODERATION=off. */
export function moderationPolicy(
  config: Pick<Config, 'MODERATION' | 'MODERATION_FAIL' | 'MODERATION_MODEL' | 'OPENAI_API_KEY' | 'OPENAI_BASE_URL' | 'OPENAI_TIMEOUT_MS' | 'OPENAI_MAX_RETRIES'>,
  observe?: ModerationPolicy['observe'],
): ModerationPolicy | undefined {
  if (config.MODERATION === 'off') return undefined;
  const moderator = new Moderator({
    apiKey: config.OPENAI_API_KEY,
    baseURL: config.OPENAI_BASE_URL,
    model: config.MODERATION_MODEL,
    timeoutMs: config.OPENAI_TIMEOUT_MS,
    maxRetries: config.OPENAI_MAX_RETRIES,
  });
  return { moderator, answers: config.MODERATION === 'both', failClosed: config.MODERATION_FAIL === 'closed', ...(observe ? { observe } : {}) };
}

const MODERATION_KINDS: readonly ChatFailureKind[] = ['moderated', 'answer_moderated', 'moderation_unavailable'];

/** Whether a failure is moderation's refusal (already logged here, at info or warn). */
export function isModerationRefusal(error: unknown): boolean {
  return error instanceof ChatFailure && MODERATION_KINDS.includes(error.kind);
}

/**
 * Returns when `text` (and `images`, data: URLs) may pass at `stage`; otherwise throws the
 * `ChatFailure` that refuses it. What people send in files and pictures is checked with their words.
 */
export async function screen(policy: ModerationPolicy | undefined, stage: ModerationStage, text: string, log: Logger, images: readonly string[] = []): Promise<void> {
  if (!policy || (stage === 'answer' && !policy.answers)) return;
  let verdict: ModerationVerdict;
  try {
    verdict = await policy.moderator.check(text, images);
  } catch (error) {
    policy.observe?.(stage, null);
    log.warn({ err: error, stage, failClosed: policy.failClosed }, policy.failClosed ? 'moderation check failed; refusing' : 'moderation check failed; letting it through');
    if (policy.failClosed) throw new ChatFailure('moderation_unavailable', 'The moderation endpoint gave no verdict', { cause: error });
    return;
  }
  if (!verdict.flagged) return;
  const categories = verdict.categories.length ? verdict.categories : ['unspecified'];
  policy.observe?.(stage, categories);
  log.info({ event: 'moderation', stage, categories }, stage === 'input' ? 'message flagged by moderation' : 'answer flagged by moderation');
  throw new ChatFailure(stage === 'input' ? 'moderated' : 'answer_moderated', `Flagged by moderation: ${categories.join(', ')}`);
}
