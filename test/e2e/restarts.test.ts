// A restart loses nothing. The bot's gateway session is kept in Redis; stopping closes it resumably
// (not with 1000/1001, which end it at Discord), and the next process resumes it, so Discord replays
// the DMs written in between. A process killed outright leaves its session to lapse and be resumed the
// same way. After an outage longer than Discord keeps sessions, the bot catches up over REST.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { en } from '../../src/discord/locales/en.js';
import { startWorld, type World } from '../support/e2e.js';
import type { FakeUser } from '../support/fake-discord/server.js';

let w: World;
beforeAll(async () => {
  w = await startWorld();
}, 60_000);
afterAll(() => w?.close());

const live = () => w.bots.filter((b) => b.child.exitCode === null && b.child.signalCode === null);
/** The bot's replies in a person's DM that answer `text` (the fake model echoes). */
const answersTo = (user: FakeUser, text: string) => w.discord.botMessagesTo(user).filter((m) => m.content.endsWith(`You said: ${text}`));
/** Waits until the message with this text was answered, then a little longer for a second answer that should not come. */
async function answeredOnce(user: FakeUser, text: string, timeoutMs = 20_000): Promise<void> {
  await w.discord.waitFor(() => answersTo(user, text).length > 0, timeoutMs, `an answer to "${text}"`);
  await new Promise((r) => setTimeout(r, 300));
  expect(answersTo(user, text)).toHaveLength(1);
}

describe('a restart', () => {
  it('after SIGTERM: the session is resumed and the DM written meanwhile is answered once', async () => {
    const ann = w.discord.user('ann');
    await w.ask(ann, 'before the restart');
    const before = w.discord.gatewayStats;
    expect(await w.bot.stop('SIGTERM')).toBe(0);
    // Closed resumably: Discord keeps the session.
    expect(w.discord.gatewayStats.endedByClient).toBe(before.endedByClient);
    w.discord.sendDm(ann, 'while it restarts');
    const next = await w.launch();
    await answeredOnce(ann, 'while it restarts');
    expect(w.discord.gatewayStats.resumes).toBe(before.resumes + 1);
    expect(w.discord.gatewayStats.identifies).toBe(before.identifies); // no session start spent
    expect(next.logs.some((l) => l.msg === 'gateway session resumed')).toBe(true);
    const metrics = await (await fetch(`${next.opsUrl}/metrics`)).text();
    expect(metrics).toMatch(/bot_gateway_sessions_total\{how="resume"\} 1/);
  }, 60_000);

  it('after SIGKILL: the lapsed session is resumed and the DM written meanwhile is answered once', async () => {
    const bea = w.discord.user('bea');
    const [running] = live();
    await w.ask(bea, 'before the crash');
    const before = w.discord.gatewayStats;
    await running!.stop('SIGKILL');
    w.discord.sendDm(bea, 'while it is dead');
    await w.launch();
    await answeredOnce(bea, 'while it is dead');
    expect(w.discord.gatewayStats.resumes).toBe(before.resumes + 1);
    expect(w.discord.gatewayStats.identifies).toBe(before.identifies);
  }, 60_000);

  it('after an outage longer than Discord keeps sessions: caught up over REST, answered once, saying it is late', async () => {
    const cal = w.discord.user('cal');
    const [running] = live();
    await w.ask(cal, 'before the outage');
    const before = w.discord.gatewayStats;
    await running!.stop('SIGTERM');
    w.discord.gateway.sessionLifetimeMs = 100;
    await new Promise((r) => setTimeout(r, 200));
    const late = w.discord.sendDm(cal, 'written during the long outage');
    // Written ten minutes ago, as far as the answer can tell.
    late.timestamp = new Date(Date.now() - 10 * 60_000).toISOString();
    const next = await w.launch();
    w.discord.gateway.sessionLifetimeMs = 120_000;
    await answeredOnce(cal, 'written during the long outage');
    expect(w.discord.gatewayStats.failedResumes).toBe(before.failedResumes + 1);
    expect(w.discord.gatewayStats.identifies).toBe(before.identifies + 1);
    expect(answersTo(cal, 'written during the long outage')[0]!.content.startsWith(en.lateAnswer)).toBe(true);
    // Only what was missing: the earlier exchange is not answered again.
    expect(answersTo(cal, 'before the outage')).toHaveLength(1);
    const caught = await next.waitForLog((l) => l.msg === 'caught up on messages written while the gateway was away');
    expect(caught.found).toBe(1);
  }, 60_000);

  it('a replica with HTTP_PORT=auto starts next to another on this machine and names its port', async () => {
    const second = await w.launch({ HTTP_PORT: 'auto' });
    const listening = await second.waitForLog((l) => l.msg === 'health and metrics listening');
    expect(listening.port).toBeGreaterThan(0);
    expect((await fetch(`http://127.0.0.1:${listening.port}/healthz`)).status).toBe(200);
    await second.stop('SIGTERM');
  }, 60_000);

  it('a rolling restart of two replicas while DMs keep arriving: nothing lost, nothing doubled', async () => {
    await w.launch();
    expect(live()).toHaveLength(2);
    const dee = w.discord.user('dee');
    const texts: string[] = [];
    let sending = true;
    const sender = (async () => {
      for (let i = 0; sending; i++) {
        texts.push(`rolling ${i}`);
        w.discord.sendDm(dee, `rolling ${i}`);
        await new Promise((r) => setTimeout(r, 150));
      }
    })();
    for (const replica of live()) {
      await replica.stop('SIGTERM');
      await w.launch();
    }
    sending = false;
    await sender;
    for (const text of texts) await answeredOnce(dee, text, 30_000);
    expect(w.discord.gatewayStats.invalidSessions).toBe(0);
  }, 120_000);
});
