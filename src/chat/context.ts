// Fits a conversation into the model's context budget. Tokens are counted with OpenAI's real
// encodings (gpt-tokenizer, pure JS; only the one encoding the model uses is loaded, since each
// costs tens of MB), using OpenAI's chat accounting: every message costs its content plus a small
// fixed overhead, and every reply is primed with a few tokens.
import type { Turn } from './types.js';
import { withPlaceholders } from './image-memory.js';
import { imageTokens } from './vision.js';

const TOKENS_PER_MESSAGE = 4;
const TOKENS_PER_REPLY_PRIMING = 3;

export type TokenCounter = (turn: Turn) => number;

/** Models tokenized with o200k_base; everything else (gpt-3.5, gpt-4, local models) with cl100k_base. */
const O200K_MODELS = /^(gpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|chatgpt-4o|o\d)/;

// One counter per encoding, shared by every model using it: people choosing among models (/model)
// load each encoding once, not once per message.
const counters = new Map<string, Promise<TokenCounter>>();

/** Counts a turn for `model`: its text with the model's encoding, plus its images by OpenAI's rule (vision.ts). */
export async function loadTokenCounter(model: string): Promise<TokenCounter> {
  const text = await textCounter(model);
  return (turn) => text(turn) + (turn.images ?? []).reduce((sum, image) => sum + imageTokens(model, image), 0);
}

function textCounter(model: string): Promise<TokenCounter> {
  const name = O200K_MODELS.test(model) ? 'o200k_base' : 'cl100k_base';
  let counter = counters.get(name);
  if (!counter) {
    counter = (name === 'o200k_base' ? import('gpt-tokenizer/encoding/o200k_base') : import('gpt-tokenizer/encoding/cl100k_base')).then(
      (encoding): TokenCounter => (turn) => encoding.countTokens(turn.content) + TOKENS_PER_MESSAGE,
    );
    // A failed load is not remembered, so the next message tries again.
    counter.catch(() => counters.delete(name));
    counters.set(name, counter);
  }
  return counter;
}

/**
 * Remembers each turn's count on the turn itself (`turn.tokens`), so a long session is not
 * re-tokenized on every message: only new turns are.
 */
export function caching(count: TokenCounter): TokenCounter {
  return (turn) => (turn.tokens ??= count(turn));
}

export function countTokens(turns: readonly Turn[], count: TokenCounter): number {
  return turns.reduce((sum, turn) => sum + count(turn), TOKENS_PER_REPLY_PRIMING);
}

export type FitResult =
  | { ok: true; turns: Turn[]; tokens: number; dropped: number }
  | { ok: false; tokens: number };

/**
 * Share of the budget a conversation is trimmed down to once it no longer fits. Trimming in blocks
 * rather than one turn at a time keeps the start of the prompt the same for the next several
 * requests, so a provider's prompt cache (OpenAI caches by exact prefix) applies to them.
 */
export const TRIM_TO_SHARE = 0.7;

/**
 * Keeps the leading system turns and the newest turn, and the turns in between as they are while
 * everything fits in `budget` tokens. When it does not, older turns are dropped until what is left
 * fits in `keepShare` of the budget (the most recent stretch, unbroken); a user/assistant pair is
 * dropped together so the model never sees an answer without its question. Before any turn goes,
 * the images of the older turns are swapped for placeholders.
 */
export function fitToBudget(turns: readonly Turn[], budget: number, count: TokenCounter, keepShare = TRIM_TO_SHARE): FitResult {
  // Every leading system turn is kept: the operator's prompt and the person's own instructions.
  let leading = 0;
  while (leading < turns.length - 1 && turns[leading]!.role === 'system') leading++;
  const system = turns.slice(0, leading);
  const newest = turns.at(-1);
  if (!newest || (turns.length === 1 && newest.role === 'system')) {
    return { ok: true, turns: [...turns], tokens: countTokens(turns, count), dropped: 0 };
  }
  let middle = turns.slice(system.length, -1);
  const fixed = countTokens([...system, newest], count);
  if (fixed > budget) return { ok: false, tokens: fixed };
  const all = countTokens(turns, count);
  if (all <= budget) return { ok: true, turns: [...turns], tokens: all, dropped: 0 };

  // Older images go first, all at once (each becomes a placeholder such as "[image: cat.png]"):
  // they cost the most, and the prompt then changes once. Turns go only if that is not enough.
  if (middle.some((turn) => turn.images?.length)) {
    middle = middle.map((turn) => withPlaceholders(turn));
    const plain = countTokens([...system, ...middle, newest], count);
    if (plain <= budget) return { ok: true, turns: [...system, ...middle, newest], tokens: plain, dropped: 0 };
  }

  const target = Math.max(fixed, Math.floor(budget * keepShare));
  let used = fixed;
  let keepFrom = middle.length;
  // Walk back from the newest, one turn at a time, until the target is reached.
  while (keepFrom > 0) {
    const cost = count(middle[keepFrom - 1]!);
    if (used + cost > target) break;
    used += cost;
    keepFrom--;
  }
  // Never start on an assistant turn: its question was dropped.
  while (keepFrom < middle.length && middle[keepFrom]!.role === 'assistant') {
    used -= count(middle[keepFrom]!);
    keepFrom++;
  }
  const kept = middle.slice(keepFrom);
  return { ok: true, turns: [...system, ...kept, newest], tokens: used, dropped: keepFrom };
}
