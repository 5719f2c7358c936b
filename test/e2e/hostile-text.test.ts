// Hostile text through the real DM path, both ways: as what a person sends, and as what the model
// answers. Whatever it is, the person gets an answer or a polite notice, nothing pings, every message
// the bot sends is one Discord accepts, history keeps the text whole (NUL removed, lone surrogates as
// U+FFFD) and shows it in /history, and the bot goes on answering. Each case writes as a person of
// its own, so one case's leftovers never show in another's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { en } from '../../src/discord/locales/en.js';
import { startWorld, type World } from '../support/e2e.js';
import type { FakeUser, SentMessage } from '../support/fake-discord/server.js';
import { asStored, HOSTILE_TEXTS, LONE_SURROGATE, type HostileText } from '../support/hostile-text.js';

// Discord: message content "up to 2000 characters"; an embed description up to 4096 characters, and
// the titles, descriptions, fields, footers and author names of all embeds of a message up to 6000
// (https://discord.com/developers/docs/resources/message#create-message-jsonform-params,
// https://discord.com/developers/docs/resources/message#embed-object-embed-limits).
const CONTENT_LIMIT = 2000;
const DESCRIPTION_LIMIT = 4096;
const EMBEDS_LIMIT = 6000;

let w: World;

beforeAll(async () => {
  w = await startWorld();
}, 60_000);
afterAll(() => w?.close());

const NOTICE: Record<Exclude<HostileText['asInput'], 'answered'>, string> = {
  too_long_input: en.inputTooLong(4000),
  too_long: en.failure.too_long,
};

/** Text as a person reads it, for comparing answers split in parts: cuts drop whitespace. */
const unspaced = (text: string) => asStored(text).replace(/\s+/g, '');

const shown = (replies: SentMessage[]) => replies.map((m) => m.content).join('');

const segmenter = new Intl.Segmenter('en', { granularity: 'grapheme' });
const graphemes = (text: string) => Array.from(segmenter.segment(text), (s) => s.segment);

/** No character a person sees (a family emoji, a flag, a letter with its marks) is cut across two messages. */
function expectWholeCharacters(replies: SentMessage[], text: string): void {
  const whole = new Set(graphemes(text));
  const broken = replies.flatMap((m) => graphemes(m.content).filter((g) => !whole.has(g) && !/^\s+$/.test(g)));
  expect.soft(broken, 'characters cut in two').toEqual([]);
}

/** The first words of a text as a /history excerpt shows them (backticks look alike, spaces collapse). */
function opening(text: string): string {
  return Array.from(lookalike(text).replace(/\s+/g, ' ').trim()).slice(0, 20).join('');
}
const lookalike = (text: string) => text.replace(/ˋ/g, '`');

/** Every message the bot sent this person (answers, notices, /history pages), each revision of it. */
function expectWithinDiscordRules(user: FakeUser): void {
  const messages = [...w.discord.messages.values()].filter((m) => m.fromBot && m.channelId === user.dmChannelId);
  for (const message of messages) {
    for (const content of message.revisions) {
      expect.soft(content.length, `message of ${content.length} characters`).toBeLessThanOrEqual(CONTENT_LIMIT);
      expect.soft(content, 'message content has a lone surrogate').not.toMatch(LONE_SURROGATE);
    }
    const descriptions = message.embeds.map((e: { description?: string }) => e.description ?? '');
    for (const description of descriptions) {
      expect.soft(description.length).toBeLessThanOrEqual(DESCRIPTION_LIMIT);
      expect.soft(description, 'embed has a lone surrogate').not.toMatch(LONE_SURROGATE);
    }
    const footers = message.embeds.map((e: { footer?: { text: string } }) => e.footer?.text ?? '');
    expect.soft([...descriptions, ...footers].join('').length).toBeLessThanOrEqual(EMBEDS_LIMIT);
  }
  // Edits carry allowed_mentions too: an edit may add the mention a first post did not have.
  const writes = w.discord.requests.filter((r) => (r.method === 'POST' || r.method === 'PATCH') && r.path.startsWith(`/channels/${user.dmChannelId}/messages`));
  for (const write of writes) expect.soft(write.body.allowed_mentions, `${write.method} without allowed_mentions`).toEqual({ parse: [] });
  expect.soft(w.discord.violations).toEqual([]);
}

/** The exchange is the newest on the person's first /history page. */
async function expectInHistory(user: FakeUser, question: string, answer: string): Promise<void> {
  const page = await w.discord.commandReply(user, 'history');
  const newest = lookalike(page.embeds[0]?.description ?? '');
  expect.soft(newest, 'question excerpt').toContain(opening(asStored(question)));
  expect.soft(newest, 'answer excerpt').toContain(opening(asStored(answer)));
}

/** The process is up and answers a plain DM from the same person. */
async function expectStillAnswering(user: FakeUser): Promise<void> {
  w.openai.reset();
  expect(w.bot.child.exitCode).toBeNull();
  const { replies } = await w.ask(user, 'are you still there?');
  expect(replies.map((m) => m.content)).toEqual(['You said: are you still there?']);
}

describe('hostile text a person sends', () => {
  it.each(HOSTILE_TEXTS.map((c, i) => ({ ...c, i })))('$name: $asInput', async ({ text, asInput, i }) => {
    const user = w.discord.user(`sender${i}`);
    const { message, replies } = await w.ask(user, text);
    const sent = text.trim();
    if (asInput === 'answered') {
      // The bot cleans a message as it arrives (NUL out, lone surrogates to U+FFFD): the model sees that.
      const answer = `You said: ${asStored(sent)}`;
      expect.soft(unspaced(shown(replies)), 'the answer shown').toBe(unspaced(answer));
      expectWholeCharacters(replies, answer);
      expect.soft(await w.storedRows(user.id), 'stored rows').toEqual([
        { user_text: asStored(sent), gpt_response: asStored(answer), discord_message_id: message.id, model: 'gpt-3.5-turbo', total_tokens: expect.any(Number) },
      ]);
      await expectInHistory(user, sent, answer);
    } else {
      expect.soft(replies.map((m) => m.content)).toEqual([NOTICE[asInput]]);
      expect.soft(await w.storedRows(user.id)).toEqual([]);
    }
    expectWithinDiscordRules(user);
    await expectStillAnswering(user);
  });
});

describe('hostile text the model answers', () => {
  it.each(HOSTILE_TEXTS.map((c, i) => ({ ...c, i })))('$name', async ({ text, i }) => {
    const user = w.discord.user(`reader${i}`);
    const question = `say something odd, number ${i}`;
    w.openai.setReply(text);
    const { message, replies } = await w.ask(user, question);
    // What is posted is cleaned the same way: Discord never gets NUL or half an emoji.
    expect.soft(unspaced(shown(replies)), 'the answer shown').toBe(unspaced(asStored(text)));
    expectWholeCharacters(replies, asStored(text));
    expect.soft(await w.storedRows(user.id), 'stored rows').toEqual([
      { user_text: question, gpt_response: asStored(text), discord_message_id: message.id, model: 'gpt-3.5-turbo', total_tokens: expect.any(Number) },
    ]);
    await expectInHistory(user, question, text);
    expectWithinDiscordRules(user);
    await expectStillAnswering(user);
  });
});

describe('afterwards', () => {
  it('never sent what Discord refuses, nor needed its forgiveness (enforce_nonce)', () => {
    expect(w.discord.violations).toEqual([]);
    expect(w.discord.nonceHits).toBe(0);
    expect(w.discord.unknownRoutes).toEqual([]);
  });

  it('left no exchange waiting in the outbox: every one was storable', async () => {
    const metrics = await (await fetch(`${w.bot.opsUrl}/metrics`)).text();
    expect(metrics).toMatch(/^bot_outbox_depth 0$/m);
  });

  it('logged nothing at error level: what a person writes is not a fault of the bot', () => {
    const errors = w.bot.logs.filter((l) => l.level >= 50).map((l) => `${l.msg}: ${l.err?.type} ${l.err?.kind ?? l.err?.code ?? ''}`);
    expect(errors).toEqual([]);
  });
});
