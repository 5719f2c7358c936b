// A stand-in for our ModelClient in integration tests of the core (the e2e suite uses the real
// client against a fake OpenAI server instead). It records what it was sent.
import type { ModelPort } from '../../src/chat/conversation.js';
import { ChatFailure } from '../../src/chat/errors.js';
import type { Completion } from '../../src/chat/model-client.js';
import type { Turn } from '../../src/chat/types.js';

export class ScriptedModel implements ModelPort {
  readonly model = 'gpt-3.5-turbo';
  readonly requests: Turn[][] = [];
  failNext: ChatFailure | null = null;
  delayMs = 0;

  async complete(turns: readonly Turn[]): Promise<Completion> {
    // What a real client sends: role and content only.
    this.requests.push(turns.map((t) => ({ role: t.role, content: t.content })));
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    if (this.failNext) {
      const failure = this.failNext;
      this.failNext = null;
      throw failure;
    }
    const last = turns.at(-1)!.content;
    return { text: `echo: ${last}`, model: this.model, usage: { promptTokens: 10, completionTokens: 5, totalTokens: 15 } };
  }
}

export { ChatFailure };
