// Small builders so test bodies say only what matters.
import type { Exchange } from '../../src/chat/types.js';

let sequence = 0n;
/** A Discord-like snowflake above 2^53, as a string. */
export function snowflake(): string {
  sequence += 1n;
  return (1_300_000_000_000_000_000n + BigInt(Date.now()) * 1000n + sequence).toString();
}

export function exchange(overrides: Partial<Exchange> & Pick<Exchange, 'discordUserId'>): Exchange {
  return {
    discordMessageId: snowflake(),
    userText: 'hello',
    gptResponse: 'hi there',
    model: 'gpt-3.5-turbo',
    usage: { promptTokens: 5, completionTokens: 3, totalTokens: 8 },
    createdAt: new Date(),
    ...overrides,
  };
}
