// The real bot process, real discord.js and openai clients, real PostgreSQL and Redis; Discord and
// OpenAI are local fakes speaking their protocols. Each test uses its own Discord users.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startWorld, type World } from '../support/e2e.js';
import type { FakeUser } from '../support/fake-discord/server.js';

let w: World;

beforeAll(async () => {
  w = await startWorld();
}, 60_000);
afterAll(() => w?.close());
beforeEach(() => w.openai.reset());

const ask = (user: FakeUser, text: string) => w.ask(user, text);

const rowsOf = (user: FakeUser) => w.storedRows(user.id);

const runHistory = (user: FakeUser) => w.discord.commandReply(user, 'history');

describe('chatting in DMs', () => {
  it('answers a DM with the model, sending the system prompt first and gpt-3.5-turbo by default', async () => {
    const alice = w.discord.user('alice');
    w.openai.latencyMs = 400; // slow enough for the typing indicator to show
    const { replies } = await ask(alice, 'Hello bot!');
    expect(replies[0]!.content).toBe('You said: Hello bot!');
    expect(replies[0]!.allowedMentions).toEqual({ parse: [] });
    const request = w.openai.requests[0]!;
    expect(request.model).toBe('gpt-3.5-turbo');
    expect(request.messages[0]!.role).toBe('system');
    expect(request.messages.at(-1)).toEqual({ role: 'user', content: 'Hello bot!' });
    expect(w.discord.typing.get(alice.dmChannelId)).toBeGreaterThan(0);
  });

  it('keeps the conversation, and never shows one person’s words to another', async () => {
    const alice = w.discord.user('alice');
    const bob = w.discord.user('bob');
    await ask(alice, 'My favourite colour is teal.');
    await ask(bob, 'Hi, I am Bob.');
    await ask(alice, 'What is my favourite colour?');
    await ask(bob, 'What did I say?');
    const aliceSecond = w.openai.requestsContaining('What is my favourite colour?')[0]!;
    expect(aliceSecond.messages.map((m) => m.content)).toEqual([
      expect.any(String),
      'My favourite colour is teal.',
      'You said: My favourite colour is teal.',
      'What is my favourite colour?',
    ]);
    for (const request of w.openai.requestsContaining('Bob')) {
      expect(JSON.stringify(request.messages)).not.toContain('teal');
    }
  });

  it('stores each answered exchange once, exactly as said', async () => {
    const carol = w.discord.user('carol');
    const { message } = await ask(carol, 'Store this please');
    // A resumed gateway may deliver the same event again: it must not be answered or stored twice.
    w.discord.replay('MESSAGE_CREATE', { ...message, channel_type: 1 });
    await ask(carol, 'And this');
    const rows = await rowsOf(carol);
    expect(rows).toEqual([
      { user_text: 'Store this please', gpt_response: 'You said: Store this please', discord_message_id: message.id, model: 'gpt-3.5-turbo', total_tokens: expect.any(Number) },
      { user_text: 'And this', gpt_response: 'You said: And this', discord_message_id: expect.any(String), model: 'gpt-3.5-turbo', total_tokens: expect.any(Number) },
    ]);
    expect(w.discord.botMessagesTo(carol)).toHaveLength(2);
  });

  it('delivers a 4500-character answer whole, in messages of at most 2000 characters', async () => {
    const dave = w.discord.user('dave');
    const paragraphs = Array.from({ length: 10 }, (_, i) => `Paragraph ${i}: ${'lorem ipsum dolor sit amet '.repeat(18).trim()}`);
    const long = paragraphs.join('\n\n');
    expect(long.length).toBeGreaterThan(4500);
    w.openai.setReply(long);
    const { replies } = await ask(dave, 'Tell me a long story');
    const all = w.discord.botMessagesTo(dave);
    expect(all.length).toBe(3);
    for (const m of all) expect(m.content.length).toBeLessThanOrEqual(2000);
    expect(all.map((m) => m.content).join('\n\n')).toBe(long);
    expect(replies[0]!.content.startsWith('Paragraph 0')).toBe(true);
    expect(w.discord.violations).toEqual([]);
  });

  it('tells the person when the model fails, and keeps working afterwards', async () => {
    const erin = w.discord.user('erin');
    w.openai.failNext(2, 500); // the first try and the one retry
    const { replies } = await ask(erin, 'Are you there?');
    expect(replies[0]!.content).toMatch(/can't reach the AI model/i);
    const { replies: after } = await ask(erin, 'How about now?');
    expect(after[0]!.content).toBe('You said: How about now?');
    // The failed turn left nothing behind in the conversation.
    const last = w.openai.requestsContaining('How about now?')[0]!;
    expect(JSON.stringify(last.messages)).not.toContain('Are you there?');
    expect((await rowsOf(erin)).map((r) => r.user_text)).toEqual(['How about now?']);
  });

  it('says so when the model is busy, after retrying', async () => {
    const fay = w.discord.user('fay');
    w.openai.failNext(2, 429, 0);
    const { replies } = await ask(fay, 'Busy?');
    expect(replies[0]!.content).toMatch(/lot of messages/i);
    expect(w.openai.requests).toHaveLength(2);
  });

  it('answers twenty people at once, each with their own answer', async () => {
    w.openai.latencyMs = 200;
    const users = Array.from({ length: 20 }, (_, i) => w.discord.user(`crowd${i}`));
    const answers = await Promise.all(users.map((u, i) => ask(u, `I am person number ${i}`)));
    answers.forEach(({ replies }, i) => expect(replies[0]!.content).toBe(`You said: I am person number ${i}`));
    for (const [i, u] of users.entries()) expect((await rowsOf(u)).map((r) => r.user_text)).toEqual([`I am person number ${i}`]);
  });

  it('ignores messages from bots', async () => {
    const gus = w.discord.user('gus');
    // Another bot writing into the channel (Discord ids are either a bot's or a person's).
    w.discord.sendDm(gus, 'I am a bot', { author: { id: w.discord.user('otherbot').id, username: 'otherbot', bot: true } });
    await ask(gus, 'I am a person');
    expect(w.discord.botMessagesTo(gus).map((m) => m.content)).toEqual(['You said: I am a person']);
    expect(w.openai.requestsContaining('I am a bot')).toEqual([]);
  });

  it('says a picture cannot be seen by the default model (gpt-3.5-turbo), without calling the model or fetching it', async () => {
    const hal = w.discord.user('hal');
    const before = w.openai.requests.length;
    w.discord.sendDm(hal, '', { attachments: [{ id: '1', filename: 'cat.png', size: 10, url: 'http://127.0.0.1/cat.png', proxy_url: '' }] });
    const [reply] = await w.discord.waitForBotMessages(hal, 1);
    expect(reply!.content).toMatch(/can't see images, so I left out `cat\.png`/);
    expect(w.openai.requests.length).toBe(before);
  });
});

describe('slash commands', () => {
  it('registers /history, /clear-history and /logout, usable in DMs', () => {
    const names = w.discord.commands.map((c) => c.name).sort();
    expect(names).toEqual(['clear-history', 'help', 'history', 'instructions', 'logout', 'model', 'privacy', 'stats', 'usage']);
    for (const command of w.discord.commands) expect(command.contexts).toContain(1);
  });

  it('/history shows only the caller’s exchanges, newest first, ephemeral, page by page', async () => {
    const ivy = w.discord.user('ivy');
    const jon = w.discord.user('jon');
    for (let i = 1; i <= 7; i++) await ask(ivy, `ivy message ${i}`);
    await ask(jon, 'jon private message');

    const page1 = await runHistory(ivy);
    expect(page1.flags & 64).toBe(64);
    const text1 = page1.embeds.map((e: any) => e.description).join('\n');
    expect(page1.embeds).toHaveLength(5);
    expect(text1).not.toContain('jon private');
    for (let i = 7; i >= 3; i--) expect(text1).toContain(`ivy message ${i}`);
    expect(text1.indexOf('ivy message 7')).toBeLessThan(text1.indexOf('ivy message 6'));
    expect(text1).not.toContain('ivy message 2');
    expect(page1.embeds.at(-1).footer.text).toBe('Page 1 of 2 · 7 exchanges');

    const older = page1.components[0].components.find((b: any) => b.label === 'Next');
    await w.discord.clickButton(ivy, page1.id, older.custom_id).responded();
    const page2 = await w.discord.waitFor(() => (page1.embeds.at(-1).footer.text.startsWith('Page 2') ? page1 : null));
    const text2 = page2.embeds.map((e: any) => e.description).join('\n');
    expect(text2).toContain('ivy message 2');
    expect(text2).toContain('ivy message 1');
    expect(text2).not.toContain('ivy message 3');
  });

  it('/history refuses another person’s button', async () => {
    const kim = w.discord.user('kim');
    const lee = w.discord.user('lee');
    for (let i = 1; i <= 6; i++) await ask(kim, `kim secret ${i}`);
    const page = await runHistory(kim);
    const older = page.components[0].components.find((b: any) => b.label === 'Next');
    const click = w.discord.clickButton(lee, page.id, older.custom_id);
    await click.responded();
    const answer = await w.discord.waitFor(() => click.response().followUps[0] ?? (click.response().type === 4 ? click.response().original : null));
    expect(answer.content).toMatch(/isn't for you/);
    expect(page.embeds.at(-1).footer.text).toContain('Page 1');
  });

  it('/history says so when there is nothing yet', async () => {
    const page = await runHistory(w.discord.user('newcomer'));
    expect(page.content).toMatch(/don't have any saved conversations/);
  });

  it('/logout starts a fresh conversation but keeps the history', async () => {
    const max = w.discord.user('max');
    await ask(max, 'Remember the number 42');
    const logout = w.discord.runCommand(max, 'logout');
    await logout.responded();
    expect(logout.response().original!.content).toMatch(/forgotten our current conversation. Your history is kept/);
    expect(logout.response().original!.flags & 64).toBe(64);
    await ask(max, 'What number?');
    const request = w.openai.requestsContaining('What number?')[0]!;
    expect(request.messages.map((m) => m.role)).toEqual(['system', 'user']);
    const page = await runHistory(max);
    expect(JSON.stringify(page.embeds)).toContain('Remember the number 42');
  });

  it('/clear-history deletes the caller’s history and session after confirmation, and only theirs', async () => {
    const nia = w.discord.user('nia');
    const oz = w.discord.user('oz');
    await ask(nia, 'nia one');
    await ask(nia, 'nia two');
    await ask(oz, 'oz one');

    const run = w.discord.runCommand(nia, 'clear-history');
    const prompt = await w.discord.waitFor(() => (run.response().original?.components.length ? run.response().original : null));
    expect(prompt.content).toMatch(/Delete all 2 saved exchanges/);
    const confirm = prompt.components[0].components.find((b: any) => b.style === 4);
    await w.discord.clickButton(nia, prompt.id, confirm.custom_id).responded();
    await w.discord.waitFor(() => (/Deleted 2 exchanges/.test(prompt.content) ? true : null));
    expect(prompt.components).toEqual([]);

    expect(await rowsOf(nia)).toEqual([]);
    expect((await rowsOf(oz)).map((r) => r.user_text)).toEqual(['oz one']);
    await ask(nia, 'fresh start');
    expect(w.openai.requestsContaining('fresh start')[0]!.messages.map((m) => m.role)).toEqual(['system', 'user']);
    await ask(oz, 'oz two');
    expect(JSON.stringify(w.openai.requestsContaining('oz two')[0]!.messages)).toContain('oz one');
  });

  it('/clear-history cancel leaves everything', async () => {
    const pam = w.discord.user('pam');
    await ask(pam, 'keep me');
    const run = w.discord.runCommand(pam, 'clear-history');
    const prompt = await w.discord.waitFor(() => (run.response().original?.components.length ? run.response().original : null));
    const cancel = prompt.components[0].components.find((b: any) => b.style === 2);
    await w.discord.clickButton(pam, prompt.id, cancel.custom_id).responded();
    expect(prompt.content).toMatch(/Cancelled/);
    expect((await rowsOf(pam)).map((r) => r.user_text)).toEqual(['keep me']);
    await ask(pam, 'still there?');
    expect(JSON.stringify(w.openai.requestsContaining('still there?')[0]!.messages)).toContain('keep me');
  });

  it('saw no route the fake does not implement', () => {
    expect(w.discord.unknownRoutes).toEqual([]);
    expect(w.discord.violations).toEqual([]);
  });
});

describe('gateway', () => {
  it('resumes after the gateway drops the connection, and keeps answering', async () => {
    const before = w.discord.gatewayStats.resumes;
    w.discord.dropGatewayConnections(4000);
    await w.discord.waitFor(() => w.discord.gatewayStats.resumes > before && w.discord.connectedSessions === 1, 15_000, 'a resume');
    const quinn = w.discord.user('quinn');
    const { replies } = await ask(quinn, 'still with me?');
    expect(replies[0]!.content).toBe('You said: still with me?');
  });
});

describe('operations', () => {
  it('logs one structured line per message and command, without secrets or message text', () => {
    const handled = w.bot.logs.filter((l) => l.msg === 'message handled');
    expect(handled.length).toBeGreaterThan(20);
    for (const line of handled) expect(line).toMatchObject({ userId: expect.any(String), durationMs: expect.any(Number), outcome: expect.any(String) });
    expect(w.bot.logs.filter((l) => l.msg === 'interaction handled').length).toBeGreaterThan(5);
    const everything = w.bot.stdout.join('\n') + w.bot.stderr.join('');
    expect(everything).not.toContain(w.discord.token);
    expect(everything).not.toContain('sk-fake-key-for-tests');
    expect(everything).not.toContain('My favourite colour is teal');
  });

  it('shuts down cleanly on SIGTERM', async () => {
    expect(await w.bot.stop('SIGTERM')).toBe(0);
    expect(w.bot.logs.at(-1)!.msg).toBe('stopped');
  });
});
