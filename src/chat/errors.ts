// Failures the conversation core can end in, as values the transport maps to one friendly reply each.

export type ChatFailureKind =
  | 'rate_limited' // the model provider said "too many requests" and retries did not help
  | 'unavailable' // the provider is down, timed out or unreachable
  | 'too_long' // the message alone does not fit the context budget
  | 'misconfigured' // bad API key, unknown model: the operator must act
  | 'memory_unavailable' // Redis could not be reached
  | 'moderated' // the moderation endpoint flagged what the person wrote (moderation.ts)
  | 'answer_moderated' // it flagged the model's answer (MODERATION=both)
  | 'moderation_unavailable'; // it gave no verdict and MODERATION_FAIL=closed

export class ChatFailure extends Error {
  constructor(
    readonly kind: ChatFailureKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ChatFailure';
  }
}
