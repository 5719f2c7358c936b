// The operator's safety net against the real bot process: with MODERATION on, what people write is
// checked by the moderation endpoint first (a flagged message never reaches the chat model and gets
// a polite refusal), with `both` answers are checked whole before they are shown, and
// MODERATION_FAIL decides what happens when the endpoint is down. Logs carry categories, never text.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { en } from '../../src/discord/locales/en.js';
import { ko } from '../../src/discord/locales/ko.js';
import { startWorld, type World } from '../support/e2e.js';

let w: World;

beforeAll(async () => {
  w = await startWorld({ env: { MODERATION: 'input', MODERATION_FAIL: 'open' } });
}, 60_000);
afterAll(() => w?.close());

const metrics = async () => (await fetch(`${w.bots.at(-1)!.opsUrl}/metrics`)).text();
/** Every line any bot process wrote (stdout and stderr). */
const allLogLines = () => w.bots.flatMap((b) => [...b.stdout, ...b.stderr.join('').split('\n')]);

describe('MODERATION=input', () => {
  it('refuses a flagged message politely: the chat model never sees it and nothing is stored', async () => {
    const ann = w.discord.user('ann');
    const text = 'Please write something [flag-me] about my neighbour';
    const { message, replies } = await w.ask(ann, text);

    expect(replies.map((m) => m.content)).toEqual([en.failure.moderated]);
    expect(w.openai.moderationInputs).toContain(text);
    expect(w.openai.requestsContaining('[flag-me]')).toEqual([]);
    expect(await w.storedRows(ann.id)).toEqual([]);

    // Logged with its category, counted, and the text appears in no log line.
    const flagged = w.bot.logs.find((l) => l.event === 'moderation' && l.messageId === message.id);
    expect(flagged).toMatchObject({ stage: 'input', categories: ['harassment'], userId: ann.id });
    expect(w.bot.logs.find((l) => l.msg === 'message handled' && l.messageId === message.id)?.outcome).toBe('moderated');
    expect(allLogLines().filter((line) => line.includes('my neighbour'))).toEqual([]);
    expect(await metrics()).toMatch(/bot_moderation_flagged_total\{stage="input",category="harassment"\} 1/);
  });

  it('checks what a text file says too: moving the words into a file does not get them past', async () => {
    const fay = w.discord.user('fay');
    const files = [{ name: 'notes.txt', content: Buffer.from('Write something [flag-me] about my landlord'), contentType: 'text/plain' }];
    const { replies } = await w.ask(fay, 'Please read this file', { files });
    expect(replies.at(-1)!.content).toBe(en.failure.moderated);
    expect(w.openai.moderationInputs.some((input) => input.includes('my landlord'))).toBe(true);
    expect(w.openai.requestsContaining('my landlord')).toEqual([]);
    expect(await w.storedRows(fay.id)).toEqual([]);
  });

  it('refuses in the person’s language', async () => {
    const cho = w.discord.user('cho', 'ko');
    await w.discord.commandReply(cho, 'help'); // the bot learns their language from an interaction
    const { replies } = await w.ask(cho, '[flag-me] 나쁜 말');
    expect(replies.map((m) => m.content)).toEqual([ko.failure.moderated]);
  });

  it('answers a clean message, after checking it, and forgets nothing of a refused one', async () => {
    const ben = w.discord.user('ben');
    await w.ask(ben, 'Something [flag-me] rude');
    const { replies } = await w.ask(ben, 'What is the capital of France?');
    expect(replies.at(-1)?.content).toBe('You said: What is the capital of France?');
    expect(w.openai.moderationInputs).toContain('What is the capital of France?');
    // The refused message is not part of the conversation the model sees.
    const request = w.openai.requestsContaining('capital of France')[0]!;
    expect(request.messages.some((m) => m.content.includes('rude'))).toBe(false);
    expect((await w.storedRows(ben.id)).map((r) => r.user_text)).toEqual(['What is the capital of France?']);
  });

  it('fails open: when the moderation endpoint is down, the message is answered', async () => {
    const dee = w.discord.user('dee');
    w.openai.moderationDown = true;
    try {
      const { replies } = await w.ask(dee, 'Is the checker there?');
      expect(replies.at(-1)?.content).toBe('You said: Is the checker there?');
    } finally {
      w.openai.moderationDown = false;
    }
    expect(await metrics()).toMatch(/bot_moderation_failures_total\{stage="input"\} [1-9]/);
  });
});

describe('MODERATION=both, MODERATION_FAIL=closed', () => {
  beforeAll(async () => {
    await w.bot.stop();
    await w.launch({ MODERATION: 'both', MODERATION_FAIL: 'closed' });
  }, 60_000);

  it('checks the whole answer before showing it: a flagged answer is replaced by a notice and not stored', async () => {
    const eve = w.discord.user('eve');
    w.openai.setReply('Here is the [flag-me] answer you should never see');
    try {
      const { message, replies } = await w.ask(eve, 'Tell me a story');
      expect(replies.map((m) => m.content)).toEqual([en.failure.answer_moderated]);
      // Never streamed, so never shown, not even for a moment.
      expect(replies.flatMap((m) => m.revisions).some((r) => r.includes('never see'))).toBe(false);
      expect(w.openai.requestsContaining('Tell me a story')[0]!.stream).toBeFalsy();
      expect(await w.storedRows(eve.id)).toEqual([]);
      const bot = w.bots.at(-1)!;
      expect(bot.logs.find((l) => l.event === 'moderation' && l.messageId === message.id)).toMatchObject({ stage: 'answer', categories: ['harassment'] });
      expect(allLogLines().filter((line) => line.includes('never see'))).toEqual([]);
      expect(await metrics()).toMatch(/bot_moderation_flagged_total\{stage="answer",category="harassment"\} 1/);
    } finally {
      w.openai.reset();
    }
  });

  it('shows a clean answer whole, in one post, and stores it', async () => {
    const fay = w.discord.user('fay');
    w.openai.chunkDelayMs = 100;
    try {
      const { replies } = await w.ask(fay, 'Say a few words slowly, one at a time please');
      expect(replies.map((m) => [m.content, m.editedAt.length])).toEqual([['You said: Say a few words slowly, one at a time please', 0]]);
    } finally {
      w.openai.reset();
    }
    expect(await w.storedRows(fay.id)).toHaveLength(1);
  });

  it('fails closed: when the moderation endpoint is down, the person gets a notice and the model is not asked', async () => {
    const gus = w.discord.user('gus');
    w.openai.moderationDown = true;
    try {
      const { replies } = await w.ask(gus, 'Anyone checking?');
      expect(replies.map((m) => m.content)).toEqual([en.failure.moderation_unavailable]);
    } finally {
      w.openai.moderationDown = false;
    }
    expect(w.openai.requestsContaining('Anyone checking?')).toEqual([]);
    expect(await w.storedRows(gus.id)).toEqual([]);
  });
});
