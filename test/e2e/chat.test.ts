import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startWorld, type World } from '../support/e2e.js';

let w: World;
beforeAll(async () => {
  w = await startWorld();
}, 60_000);
afterAll(() => w?.close());
beforeEach(() => w.openai.reset());

describe('chatting in DMs', () => {
  it('answers a DM with the model, sending the system prompt first and gpt-3.5-turbo by default', async () => {
    const alice = w.discord.user('alice');
    w.discord.sendDm(alice, 'Hello bot!');
    const [reply] = await w.discord.waitForBotMessages(alice, 1);
    expect(reply!.content).toBe('You said: Hello bot!');
    const request = w.openai.requests[0]!;
    expect(request.model).toBe('gpt-3.5-turbo');
    expect(request.messages[0]!.role).toBe('system');
    expect(request.messages.at(-1)).toEqual({ role: 'user', content: 'Hello bot!' });
    expect(w.discord.unknownRoutes).toEqual([]);
  });
});
