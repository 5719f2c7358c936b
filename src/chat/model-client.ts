// Talks to the chat model through the official openai SDK. The SDK already retries 429/5xx/connection
// errors with exponential backoff and honours `retry-after`; this module sets the limits and turns
// whatever is left into a `ChatFailure`.
import { createHmac } from 'node:crypto';
import OpenAI from 'openai';
import type { ChatCompletionContentPart, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { ChatFailure } from './errors.js';
import { stoppedBy } from './stop.js';
import type { TokenUsage, Turn } from './types.js';

export interface ModelClientOptions {
  apiKey: string;
  baseURL?: string | undefined;
  model: string;
  timeoutMs: number;
  maxRetries: number;
  maxReplyTokens: number;
  /**
   * Sends OpenAI's `prompt_cache_key` (a keyed hash of the person, never their id) so one person's
   * requests land on the same prompt cache. Some OpenAI-compatible servers refuse unknown fields.
   */
  promptCacheKey?: boolean;
  /** Called after every call with its duration and outcome (for metrics). */
  observe?: (seconds: number, outcome: string) => void;
}

export interface Completion {
  text: string;
  model: string;
  usage: TokenUsage;
  /** Cut short by the person's Stop (see stop.ts): the text is what was written until then. */
  stopped?: boolean;
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

  /** The same for every request of one person, and says nothing of who they are without the key. */
  private cacheKey(person: string): string {
    return createHmac('sha256', this.options.apiKey).update(person).digest('base64url').slice(0, 32);
  }

  /**
   * Asks the model for the next answer. With `onDelta`, the answer is streamed and `onDelta` gets
   * each piece of text as it arrives; either way the full answer is returned at the end. `model`
   * overrides the configured one for this request (a person's /model choice).
   */
  async complete(turns: readonly Turn[], onDelta?: (text: string) => void, signal?: AbortSignal, cacheFor?: string, model?: string): Promise<Completion> {
    const started = performance.now();
    const observe = (outcome: string) => this.options.observe?.((performance.now() - started) / 1000, outcome);
    const request: ChatRequest = {
      model: model ?? this.options.model,
      messages: turns.map(toMessage),
      max_tokens: this.options.maxReplyTokens,
      ...(this.options.promptCacheKey && cacheFor ? { prompt_cache_key: this.cacheKey(cacheFor) } : {}),
    };
    try {
      const result = onDelta ? await this.streamed(request, onDelta, signal) : await this.whole(request, signal);
      if (!result.text.trim()) throw new ChatFailure('unavailable', 'The model returned an empty answer');
      observe('ok');
      return result;
    } catch (error) {
      const failure = toChatFailure(error);
      observe(failure.kind);
      throw failure;
    }
  }

  private async whole(request: ChatRequest, signal?: AbortSignal): Promise<Completion> {
    const response = await this.openai.chat.completions.create(request, { signal });
    return {
      text: response.choices[0]?.message?.content?.trim() ?? '',
      model: response.model || request.model,
      usage: toUsage(response.usage),
    };
  }

  private async streamed(request: ChatRequest, onDelta: (text: string) => void, signal?: AbortSignal): Promise<Completion> {
    // The SDK retries the request until the stream starts; a stream cut midway surfaces as an error.
    const stream = await this.openai.chat.completions.create({ ...request, stream: true, stream_options: { include_usage: true } }, { signal });
    let text = '';
    let model = request.model;
    let usage: TokenUsage = toUsage(undefined);
    let finished = false;
    try {
      for await (const chunk of stream) {
        if (chunk.model) model = chunk.model;
        if (chunk.choices[0]?.finish_reason) finished = true;
        if (chunk.usage) usage = toUsage(chunk.usage);
        const delta = chunk.choices[0]?.delta?.content;
        if (delta) {
          text += delta;
          onDelta(delta);
        }
      }
    } catch (error) {
      if (!stoppedBy(signal)) throw error;
    }
    // Stopped by the person: the connection is closed (no more tokens are written or paid), and the
    // words so far are the answer. (The SDK ends the iteration quietly when its request is aborted.)
    if (!finished && stoppedBy(signal)) return { text: text.trim(), model, usage, stopped: true };
    return { text: text.trim(), model, usage };
  }
}

type ChatRequest = { model: string; messages: ChatCompletionMessageParam[]; max_tokens: number; prompt_cache_key?: string };

/**
 * A turn as the chat API takes it: plain text, or for a user turn with images, content parts (the
 * text, then each image as a data: URL with its detail), as in OpenAI's vision guide
 * (https://platform.openai.com/docs/guides/images-vision?api-mode=chat). A picture sent without
 * words has no text part.
 */
function toMessage(turn: Turn): ChatCompletionMessageParam {
  const images = turn.role === 'user' ? (turn.images ?? []).filter((image) => image.data) : [];
  if (!images.length) return { role: turn.role, content: turn.content };
  const parts: ChatCompletionContentPart[] = turn.content ? [{ type: 'text', text: turn.content }] : [];
  for (const image of images) parts.push({ type: 'image_url', image_url: { url: image.data!, detail: image.detail } });
  return { role: 'user', content: parts };
}

type ReportedUsage = { prompt_tokens?: number; completion_tokens?: number; total_tokens?: number; prompt_tokens_details?: { cached_tokens?: number } | null };

function toUsage(usage: ReportedUsage | null | undefined): TokenUsage {
  return {
    promptTokens: usage?.prompt_tokens ?? 0,
    completionTokens: usage?.completion_tokens ?? 0,
    totalTokens: usage?.total_tokens ?? 0,
    cachedTokens: usage?.prompt_tokens_details?.cached_tokens ?? 0,
  };
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
