// fitToBudget with a person's standing instructions: every leading system turn (the operator's prompt,
// then the instructions) is kept whatever is trimmed, and counted in the budget.
import { describe, expect, it } from 'vitest';
import { countTokens, fitToBudget, type TokenCounter } from '../../src/chat/context.js';
import type { Turn } from '../../src/chat/types.js';

// One token per character keeps the arithmetic visible.
const count: TokenCounter = (turn) => turn.content.length;
const operator: Turn = { role: 'system', content: 'o'.repeat(10) };
const own: Turn = { role: 'system', content: 'i'.repeat(20) };
const pair = (n: number): Turn[] => [
  { role: 'user', content: `q${n}`.padEnd(10, '.') },
  { role: 'assistant', content: `a${n}`.padEnd(10, '.') },
];

describe('fitToBudget with standing instructions', () => {
  it('keeps the operator’s prompt and the instructions when older turns are dropped', () => {
    const newest: Turn = { role: 'user', content: 'now' };
    const turns = [operator, own, ...pair(1), ...pair(2), ...pair(3), newest];
    const fit = fitToBudget(turns, 80, count);
    expect(fit.ok).toBe(true);
    if (!fit.ok) return;
    expect(fit.turns.slice(0, 2)).toEqual([operator, own]);
    expect(fit.turns.at(-1)).toBe(newest);
    expect(fit.dropped).toBeGreaterThan(0);
    expect(fit.tokens).toBe(countTokens(fit.turns, count));
  });

  it('counts the instructions: a message that fits without them may not fit with them', () => {
    const newest: Turn = { role: 'user', content: 'n'.repeat(30) };
    expect(fitToBudget([operator, newest], 45, count).ok).toBe(true);
    expect(fitToBudget([operator, own, newest], 45, count)).toEqual({ ok: false, tokens: countTokens([operator, own, newest], count) });
  });
});
