// Catch-up in servers (GUILD_MODE=mention): after an outage longer than Discord keeps sessions, a
// mention written meanwhile in the bot's thread, or in a server channel where the bot was mentioned
// before, is read back over REST and answered once, in the right place; what others wrote without a
// mention is not.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { en } from '../../src/discord/locales/en.js';
import { startWorld, type World } from '../support/e2e.js';

let w: World;
beforeAll(async () => {
  w = await startWorld({ env: { GUILD_MODE: 'mention' } });
}, 60_000);
afterAll(() => w?.close());

const live = () => w.bots.filter((b) => b.child.exitCode === null && b.child.signalCode === null);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('catching up in servers', () => {
  it('answers a mention written in its thread and in a channel during a long outage, once each, where they were written', async () => {
    const { channelId } = w.discord.createGuild();
    await sleep(300); // GUILD_CREATE reaches the bot
    const uma = w.discord.user('uma');
    const asked = w.discord.sendGuildMessage(uma, channelId, 'first question');
    await w.discord.waitFor(() => w.discord.botMessagesIn(asked.id).some((m) => m.content === 'You said: first question'));
    await live()[0]!.waitForLog((l) => l.msg === 'message handled' && l.messageId === asked.id);

    // Every replica down for longer than Discord keeps the session.
    await live()[0]!.stop('SIGTERM');
    w.discord.gateway.sessionLifetimeMs = 100;
    await sleep(200);
    const inThread = w.discord.sendGuildMessage(uma, asked.id, 'follow-up while you were away');
    const inChannel = w.discord.sendGuildMessage(uma, channelId, 'new question while you were away');
    w.discord.sendGuildMessage(uma, channelId, 'just chatting, no mention', { mentionBot: false });
    await w.launch();
    w.discord.gateway.sessionLifetimeMs = 120_000;

    await w.discord.waitFor(() => w.discord.botMessagesIn(asked.id).some((m) => m.content.endsWith('You said: follow-up while you were away')), 20_000, 'the thread follow-up answered');
    await w.discord.waitFor(() => w.discord.botMessagesIn(inChannel.id).some((m) => m.content.endsWith('You said: new question while you were away')), 20_000, 'the channel mention answered in a new thread');
    await sleep(500);
    expect(w.discord.botMessagesIn(asked.id).filter((m) => m.content.endsWith('You said: follow-up while you were away'))).toHaveLength(1);
    expect(w.discord.botMessagesIn(inChannel.id)).toHaveLength(1);
    expect(w.discord.botMessagesIn(asked.id).filter((m) => m.content.endsWith('You said: first question'))).toHaveLength(1);
    expect(w.openai.requestsContaining('just chatting')).toEqual([]);
    const handled = await live()[0]!.waitForLog((l) => l.msg === 'message handled' && l.messageId === inThread.id);
    expect(handled.outcome).toBe('answered');
    // Written moments ago: no "late" line.
    expect(w.discord.botMessagesIn(inChannel.id)[0]!.content.startsWith(en.lateAnswer)).toBe(false);
  }, 60_000);
});
