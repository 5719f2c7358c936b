// Talks to the chat model through the official openai SDK. The SDK already retries 429/5xx/connection
// errors with exponential backoff and honours `retry-after`; this module sets the limits and turns
// whatever is left into a `ChatFailure`.
import OpenAI from 'openai';
import { ChatFailure } from './errors.js';
import type { TokenUsage, Turn } from './types.js';

export interface ModelClientOptions {
  apiKey: string;
  baseURL?: string | undefined;
  model: string;
  timeoutMs: number;
  maxRetries: number;
  maxReplyTokens: number;
  /** Called after every call with its duration and outcome (for metrics). */
  observe?: (seconds: number, outcome: string) => void;
}

export interface Completion {
  text: string;
  model: string;
  usage: TokenUsage;
}

export class ModelClient {
  private readonly openai: OpenAI;

  constructor(private readonly options: ModelClientOptions) {
    this.openai = new OpenAI({
      apiKey: options.apiKey,
      baseURL: options.baseURL,
      timeout: options.timeoutMs,
      maxRetries: options.maxRetries,
    });
  }

  get model(): string {
    return this.options.model;
  }

  async complete(turns: readonly Turn[]): Promise<Completion> {
    const started = performance.now();
    const observe = (outcome: string) => this.options.observe?.((performance.now() - started) / 1000, outcome);
    try {
      const response = await this.openai.chat.completions.create({
        model: this.options.model,
        messages: turns.map((t) => ({ role: t.role, content: t.content })),
        max_tokens: this.options.maxReplyTokens,
      });
      const text = response.choices[0]?.message?.content?.trim() ?? '';
      if (!text) throw new ChatFailure('unavailable', 'The model returned an empty answer');
      observe('ok');
      return {
        text,
        model: response.model || this.options.model,
        usage: {
          promptTokens: response.usage?.prompt_tokens ?? 0,
          completionTokens: response.usage?.completion_tokens ?? 0,
          totalTokens: response.usage?.total_tokens ?? 0,
        },
      };
    } catch (error) {
      const failure = toChatFailure(error);
      observe(failure.kind);
      throw failure;
    }
  }
}

export function toChatFailure(error: unknown): ChatFailure {
  if (error instanceof ChatFailure) return error;
  if (error instanceof OpenAI.RateLimitError) {
    // "insufficient_quota" is also a 429, but waiting will not fix it.
    const quota = (error.code ?? '') === 'insufficient_quota';
    return new ChatFailure(quota ? 'misconfigured' : 'rate_limited', error.message, { cause: error });
  }
  if (error instanceof OpenAI.BadRequestError && /context_length|maximum context/i.test(`${error.code} ${error.message}`)) {
    return new ChatFailure('too_long', error.message, { cause: error });
  }
  if (
    error instanceof OpenAI.AuthenticationError ||
    error instanceof OpenAI.PermissionDeniedError ||
    error instanceof OpenAI.NotFoundError ||
    error instanceof OpenAI.BadRequestError
  ) {
    return new ChatFailure('misconfigured', error.message, { cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new ChatFailure('unavailable', message, { cause: error });
}
