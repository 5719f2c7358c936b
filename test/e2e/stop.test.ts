// The Stop button against the real bot process: an answer being written carries it (for its person
// only); pressing it closes the model's stream, keeps what was written, stores the exchange as
// stopped and takes the button off in the final edit. A finished answer never keeps the button, and
// taking it off costs no request of its own.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { en } from '../../src/discord/locales/en.js';
import { ko } from '../../src/discord/locales/ko.js';
import { openDatabase } from '../../src/history/orm.js';
import { startWorld, type World } from '../support/e2e.js';
import type { FakeUser, SentMessage } from '../support/fake-discord/server.js';

let w: World;

beforeAll(async () => {
  w = await startWorld();
}, 60_000);
afterAll(() => w?.close());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const words = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `${tag}${i}`).join(' ');
const buttonOf = (m: SentMessage) => m.components[0]?.components?.[0] as { custom_id: string; label: string; style: number } | undefined;
const handled = (messageId: string) => w.bots.at(-1)!.waitForLog((l) => l.msg === 'message handled' && l.messageId === messageId);
/** The bot's requests that create or edit messages in the person's DM, in order. */
const messageRequests = (user: FakeUser) => w.discord.requests.filter((r) => r.path.startsWith(`/channels/${user.dmChannelId}/messages`) && r.method !== 'GET');

async function stoppedColumn(discordMessageId: string): Promise<boolean | undefined> {
  const { orm } = await openDatabase(w.databaseUrl, { migrate: false });
  try {
    const rows = await orm.em.getConnection().execute<{ stopped: boolean }[]>('select stopped from messages where discord_message_id = ?', [discordMessageId]);
    return rows[0]?.stopped;
  } finally {
    await orm.close(true);
  }
}

/** Sends a DM whose answer is written slowly, and waits until its first words show with the Stop button. */
async function slowAnswer(user: FakeUser, text: string) {
  const before = w.discord.botMessagesTo(user).length;
  const message = w.discord.sendDm(user, text);
  const shown = await w.discord.waitFor(() => w.discord.botMessagesTo(user).slice(before).find((m) => m.components.length > 0), 10_000, 'the Stop button');
  return { message, shown, done: handled(message.id) };
}

describe('Stop', () => {
  const full = words(80, 'tok');
  let ann: FakeUser;
  let stoppedText = '';

  it('stops a long answer when its person presses it: the model stream closes, what was written stays, without the button', async () => {
    ann = w.discord.user('ann');
    const bob = w.discord.user('bob');
    w.openai.setReply(full);
    w.openai.chunkDelayMs = 100; // 8 s for the whole answer
    try {
      const { message, shown, done } = await slowAnswer(ann, 'Tell me a very long story');
      const button = buttonOf(shown)!;
      expect(button).toMatchObject({ label: en.stop.button, style: 4 });
      expect(button.custom_id).toContain(ann.id);
      expect(button.custom_id).toContain(message.id);
      await w.discord.waitFor(() => shown.revisions.length >= 2, 5000, 'a streamed edit');
      // The button stays through the streamed edits.
      expect(shown.components).toHaveLength(1);

      // Someone else pressing it is told it is not theirs, and the answer goes on.
      const other = w.discord.clickButton(bob, shown.id, button.custom_id);
      await other.responded();
      expect(other.response().original).toMatchObject({ content: en.stop.notYours, flags: 64 });
      expect(w.openai.closedByClient).toEqual([]);

      const press = w.discord.clickButton(ann, shown.id, button.custom_id);
      await press.responded();
      expect(press.response().type).toBe(6); // acknowledged without a message of its own
      expect((await done).outcome).toBe('stopped');

      // The model request was cancelled: the fake saw its connection closed long before the end.
      expect(w.openai.closedByClient).toHaveLength(1);
      const [closed] = w.openai.closedByClient;
      expect(closed!.request.messages.at(-1)?.content).toBe('Tell me a very long story');
      expect(closed!.chunksSent).toBeLessThan(60);

      // What was written stays, without the button; nothing changes afterwards.
      const [answer] = w.discord.botMessagesTo(ann);
      expect(answer!.components).toEqual([]);
      stoppedText = answer!.content;
      expect(stoppedText.length).toBeGreaterThan(0);
      expect(stoppedText.length).toBeLessThan(full.length);
      expect(full.startsWith(stoppedText)).toBe(true);
      const revisions = answer!.revisions.length;
      await sleep(600);
      expect(answer!.revisions).toHaveLength(revisions);

      // Stored once it is shown, marked stopped, holding only those words.
      const [row] = await w.storedRows(ann.id);
      expect(row!.gpt_response).toBe(stoppedText);
      expect(await stoppedColumn(message.id)).toBe(true);
      expect(row!.total_tokens).toBeGreaterThan(0); // counted though the stream ended before usage was reported

      // Discord requests: one post, the streamed edits, and the final edit taking the button off.
      const requests = messageRequests(ann);
      expect(requests[0]).toMatchObject({ method: 'POST' });
      expect(requests.at(-1)!.body).toMatchObject({ content: stoppedText, components: [] });
      expect(requests.filter((r) => r.body?.components?.length === 0)).toHaveLength(1);
      process.stdout.write(`stopped answer: ${requests.length} Discord requests (${revisions - 1} edits) + 1 interaction callback\n`);
    } finally {
      w.openai.reset();
    }
  });

  it('keeps the stopped answer in the conversation: the next message sees what was written', async () => {
    await w.ask(ann, 'Go on, please');
    const request = w.openai.requestsContaining('Go on, please')[0]!;
    expect(request.messages.at(-2)).toEqual({ role: 'assistant', content: stoppedText });
  });

  it('marks the stopped exchange in /history', async () => {
    const page = await w.discord.commandReply(ann, 'history');
    const descriptions = page.embeds.map((e: { description: string }) => e.description);
    expect(descriptions).toHaveLength(2);
    expect(descriptions[0]).not.toContain(en.history.stopped); // "Go on", newest first
    expect(descriptions[1]).toContain(en.history.stopped);
  });

  it('finishes a normal answer without the button, taken off in the final text edit and not by a request of its own', async () => {
    const cho = w.discord.user('cho', 'ko');
    await w.discord.commandReply(cho, 'help'); // the bot learns their language
    const reply = words(25, 'w');
    w.openai.setReply(reply);
    w.openai.chunkDelayMs = 100;
    try {
      const { shown, done } = await slowAnswer(cho, 'Something medium, please');
      expect(buttonOf(shown)!.label).toBe(ko.stop.button);
      expect((await done).outcome).toBe('answered');
      expect(shown.content).toBe(reply);
      expect(shown.components).toEqual([]);
      expect(w.openai.closedByClient).toEqual([]);
      // Every edit changed the text: the button went with the final text, in the edit made anyway.
      const requests = messageRequests(cho);
      expect(requests.map((r) => r.method)).toEqual(['POST', ...shown.editedAt.map(() => 'PATCH')]);
      expect(requests.every((r) => typeof r.body?.content === 'string')).toBe(true);
      expect(requests.at(-1)!.body).toMatchObject({ content: reply, components: [] });
      expect(shown.revisions.every((text, i) => i === 0 || text !== shown.revisions[i - 1])).toBe(true);
      process.stdout.write(`normal streamed answer: ${requests.length} Discord requests (${shown.editedAt.length} edits)\n`);
    } finally {
      w.openai.reset();
    }
  });

  it('posts a short answer once, whole, with no button', async () => {
    const dee = w.discord.user('dee');
    const { replies } = await w.ask(dee, 'Hi');
    expect(replies.map((m) => [m.content, m.components, m.editedAt.length])).toEqual([['You said: Hi', [], 0]]);
    expect(messageRequests(dee)).toHaveLength(1);
    expect(messageRequests(dee)[0]!.body.components).toBeUndefined();
  });
});

describe('Stop with no request budget to spare', () => {
  beforeAll(async () => {
    await w.bot.stop();
    // One request a second in all: streaming (and so the button) would take what final texts need.
    await w.launch({ DISCORD_GLOBAL_RPS: '1' });
  }, 60_000);

  it('shows no button: the answer is posted whole when it is done', async () => {
    const eve = w.discord.user('eve');
    w.openai.setReply(words(15, 'q'));
    w.openai.chunkDelayMs = 100;
    try {
      const { replies } = await w.ask(eve, 'A slow one while busy');
      expect(replies.map((m) => [m.content, m.components, m.editedAt.length])).toEqual([[words(15, 'q'), [], 0]]);
      expect(messageRequests(eve).every((r) => r.body?.components === undefined)).toBe(true);
    } finally {
      w.openai.reset();
    }
  });
});
