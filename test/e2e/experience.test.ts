// What talking to the bot feels like: streamed answers, long conversations, /history as embeds
// and as a file, /help, and Korean for a Korean Discord client.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startWorld, type World } from '../support/e2e.js';
import type { FakeUser } from '../support/fake-discord/server.js';

let w: World;

const command = (user: FakeUser, name: string, options: { name: string; type: number; value: unknown }[] = []) => w.discord.commandReply(user, name, options);
beforeAll(async () => {
  w = await startWorld({ env: { CONTEXT_TOKEN_BUDGET: '400', GUILD_MODE: 'mention' } });
}, 60_000);
afterAll(() => w?.close());
beforeEach(() => w.openai.reset());

describe('streaming', () => {
  it('shows the answer as it is written, about one edit a second, ending exactly on the model’s text', async () => {
    const ann = w.discord.user('ann');
    const answer = Array.from({ length: 16 }, (_, i) => `word${i}`).join(' ');
    w.openai.setReply(answer);
    w.openai.latencyMs = 300;
    w.openai.chunkDelayMs = 200; // 16 pieces over ~3.2 s
    const { replies } = await w.ask(ann, 'stream please');
    expect(replies).toHaveLength(1);
    const reply = replies[0]!;
    expect(reply.content).toBe(answer);
    // It was edited while the model wrote: more than one version, each a prefix of the next.
    expect(reply.revisions.length).toBeGreaterThanOrEqual(3);
    for (let i = 1; i < reply.revisions.length; i++) expect(reply.revisions[i]!.startsWith(reply.revisions[i - 1]!)).toBe(true);
    expect(reply.revisions[0]!.length).toBeLessThan(answer.length);
    // Steady pace: edits at least ~a second apart, except the final one that completes the text.
    const times = [reply.createdAt, ...reply.editedAt];
    for (let i = 1; i < times.length - 1; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(950);
    expect(w.discord.typing.get(ann.dmChannelId)).toBeGreaterThan(0);
    // Requests: one post, then at most one edit per interval while the model writes (~3.2 s at 1 s),
    // the last of them being the final text: 1 + ⌈3.2⌉.
    const requests = w.discord.requests.filter((r) => r.path.startsWith(`/channels/${ann.dmChannelId}/messages`) && r.method !== 'GET');
    expect(requests.length).toBeLessThanOrEqual(1 + Math.ceil(3200 / 1000));
  });

  it('posts a short answer once, whole: one request, never edited, never posted twice', async () => {
    const cal = w.discord.user('cal');
    const before = w.discord.nonceHits;
    for (let i = 0; i < 5; i++) {
      const { replies } = await w.ask(cal, `quick ${i}`);
      expect(replies.map((m) => [m.content, m.editedAt.length])).toEqual([[`You said: quick ${i}`, 0]]);
    }
    const requests = w.discord.requests.filter((r) => r.path.startsWith(`/channels/${cal.dmChannelId}/messages`) && r.method !== 'GET');
    expect(requests.map((r) => r.method)).toEqual(['POST', 'POST', 'POST', 'POST', 'POST']);
    expect(w.discord.nonceHits).toBe(before); // Discord never had to swallow a repeated post
  });

  it('answers back-to-back messages of one person in order, each whole, without repeated posts', async () => {
    const dee = w.discord.user('dee');
    const sent = [0, 1, 2].map((i) => w.discord.sendDm(dee, `in a row ${i}`));
    await w.discord.waitForBotMessages(dee, 3);
    await Promise.all(sent.map((m) => w.bot.waitForLog((l) => l.msg === 'message handled' && l.messageId === m.id)));
    expect(w.discord.botMessagesTo(dee).map((m) => m.content)).toEqual([0, 1, 2].map((i) => `You said: in a row ${i}`));
    expect(w.discord.nonceHits).toBe(0);
  });

  it('moves on to a new message when one fills up', async () => {
    const ben = w.discord.user('ben');
    const answer = Array.from({ length: 700 }, (_, i) => `token${i}`).join(' ');
    w.openai.setReply(answer);
    w.openai.chunkDelayMs = 2;
    const { replies } = await w.ask(ben, 'a very long one');
    expect(replies.length).toBe(Math.ceil(answer.length / 1996));
    for (const m of replies) expect(m.content.length).toBeLessThanOrEqual(2000);
    expect(replies.map((m) => m.content).join(' ')).toBe(answer);
    expect(w.discord.violations).toEqual([]);
  });
});

describe('long conversations', () => {
  it('keeps answering when old turns no longer fit, and /history still has everything', async () => {
    const cy = w.discord.user('cy');
    const texts = Array.from({ length: 12 }, (_, i) => `turn ${i}: ${'some filler words to use up the small budget '.repeat(2)}`.trim());
    for (const text of texts) expect((await w.ask(cy, text)).replies[0]!.content).toBe(`You said: ${text}`);
    const last = w.openai.requestsContaining('turn 11:')[0]!;
    expect(JSON.stringify(last.messages)).not.toContain('turn 0:');
    const page = await command(cy, 'history');
    expect(JSON.stringify(page.embeds)).toContain('12 exchanges');
  });
});

describe('/history as a file', () => {
  it('attaches the whole history as Markdown or JSON, matching what is stored', async () => {
    const dee = w.discord.user('dee');
    const texts = Array.from({ length: 7 }, (_, i) => `keep this ${i} ${'x'.repeat(i * 200)}`.trim());
    for (const text of texts) await w.ask(dee, text);

    const md = await command(dee, 'history', [{ name: 'format', type: 3, value: 'file' }]);
    expect(md.flags & 64).toBe(64);
    expect(md.content).toMatch(/whole history: 7 exchanges/);
    expect(md.attachments[0]!.filename).toBe('history.md');
    const markdown = md.attachments[0]!.content.toString('utf8');
    for (const text of texts) {
      expect(markdown).toContain(text);
      expect(markdown).toContain(`You said: ${text}`);
    }
    expect(markdown.indexOf('keep this 0')).toBeLessThan(markdown.indexOf('keep this 6'));

    const json = await command(dee, 'history', [{ name: 'format', type: 3, value: 'json' }]);
    const exported = JSON.parse(json.attachments[0]!.content.toString('utf8'));
    expect(exported.map((e: { you: string; bot: string }) => [e.you, e.bot])).toEqual(texts.map((t) => [t, `You said: ${t}`]));
  });
});

describe('/help', () => {
  it('explains what is remembered, for how long, and the commands', async () => {
    const reply = await command(w.discord.user('eli'), 'help');
    expect(reply.flags & 64).toBe(64);
    expect(reply.content).toContain('gpt-3.5-turbo');
    expect(reply.content).toContain('after 60 minutes');
    for (const name of ['/history', '/logout', '/clear-history']) expect(reply.content).toContain(name);
  });
});

describe('in Korean', () => {
  it('registers Korean command descriptions and keeps English command names', () => {
    for (const cmd of w.discord.commands) {
      expect(cmd.name).toMatch(/^[a-z-]+$/);
      expect(cmd.description_localizations?.ko).toMatch(/[가-힣]/);
    }
  });

  it('answers commands, buttons and DM notices in Korean for a Korean client', async () => {
    const min = w.discord.user('민지', 'ko');
    expect((await command(min, 'help')).content).toContain('기억');
    expect((await command(min, 'history')).content).toMatch(/저장된 대화가 없어요/);
    await w.ask(min, '안녕하세요');
    const page = await command(min, 'history');
    expect(page.embeds.at(-1).footer.text).toBe('1쪽 중 1쪽 · 대화 1개');
    expect((await command(min, 'logout')).content).toMatch(/기록은 그대로/);
    // DMs carry no locale: the one seen with the commands is used.
    const { replies } = await w.ask(min, '');
    expect(replies[0]!.content).toMatch(/글만 읽을 수 있어요/);
    w.openai.failNext(2, 503);
    const failed = await w.ask(min, '모델 오류?');
    expect(failed.replies[0]!.content).toMatch(/AI 모델에 연결할 수 없어요/);
  });
});

describe('in a server (GUILD_MODE=mention)', () => {
  it('answers a mention in a thread of its own and continues there, as a conversation of its own; history keeps both', async () => {
    const { channelId } = w.discord.createGuild();
    const gia = w.discord.user('gia');
    await w.ask(gia, 'I said this in a DM');
    await new Promise((r) => setTimeout(r, 300)); // GUILD_CREATE reaches the bot

    // Without a mention the bot stays out of the conversation (and Discord does not even show it the text).
    w.discord.sendGuildMessage(gia, channelId, 'just chatting with friends', { mentionBot: false });
    const asked = w.discord.sendGuildMessage(gia, channelId, 'what is two plus two?');
    const thread = await w.discord.waitFor(() => w.discord.threads[0], 10_000, 'a thread');
    expect(thread).toMatchObject({ id: asked.id, parent_id: channelId, name: 'what is two plus two?' });
    const [first] = await w.discord.waitFor(() => {
      const sent = w.discord.botMessagesIn(thread.id);
      return sent.length && sent[0]!.content === 'You said: what is two plus two?' ? sent : null;
    });
    expect(first!.allowedMentions).toEqual({ parse: [] });
    expect(w.discord.botMessagesIn(channelId)).toEqual([]);
    expect(w.openai.requestsContaining('just chatting')).toEqual([]);

    const followUp = w.discord.sendGuildMessage(gia, thread.id, 'and times three?');
    await w.discord.waitFor(() => w.discord.botMessagesIn(thread.id).find((m) => m.content === 'You said: and times three?'));
    // Stored right after it is shown.
    await w.bot.waitForLog((l) => l.msg === 'message handled' && l.messageId === followUp.id);
    expect(w.discord.threads).toHaveLength(1);
    const request = w.openai.requestsContaining('and times three?')[0]!;
    // What the person said privately in DMs never reaches a server thread.
    expect(request.messages.map((m) => m.content)).toEqual([
      expect.any(String),
      'what is two plus two?',
      'You said: what is two plus two?',
      'and times three?',
    ]);
    const page = await command(gia, 'history');
    expect(page.embeds.at(-1).footer.text).toBe('Page 1 of 1 · 3 exchanges');
  });
});
