// The gateway as operators meet it: replicas started together take turns to start sessions (Discord
// allows one IDENTIFY per 5 s per bucket and counts every one), and an outage is visible in the logs,
// the metrics and /readyz, not silent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorld, type World } from '../support/e2e.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let w: World;
beforeAll(async () => {
  w = await startWorld();
}, 60_000);
afterAll(() => w?.close());

describe('a gateway outage', () => {
  it('is logged with its close code, counted, and fails /readyz until the session is back', async () => {
    await w.ask(w.discord.user('early'), 'before the outage');
    w.discord.gatewayOutage(2500);
    const warned = await w.bot.waitForLog((l) => l.msg === 'gateway connection closed; reconnecting' && l.code === 4000, 5000);
    expect(warned.level).toBe(40);
    const ready = await fetch(`${w.bot.opsUrl}/readyz`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { checks: Record<string, boolean> }).checks.discord).toBe(false);
    // Back: ready again, and DMs flow.
    for (let i = 0; i < 200 && (await fetch(`${w.bot.opsUrl}/readyz`)).status !== 200; i++) await new Promise((r) => setTimeout(r, 100));
    expect((await fetch(`${w.bot.opsUrl}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`${w.bot.opsUrl}/metrics`)).text();
    expect(metrics).toMatch(/bot_gateway_trouble_total\{kind="closed_4000"\} [1-9]/);
    expect(metrics).toMatch(/bot_gateway_events_total\{type="MESSAGE_CREATE"\} [1-9]/);
    const bob = w.discord.user('bob');
    const { replies } = await w.ask(bob, 'back again?');
    expect(replies.at(-1)!.content).toBe('You said: back again?');
  }, 30_000);
});

describe('replicas starting together', () => {
  it('take turns to IDENTIFY: no Invalid Session, every one connected, each DM answered once', async () => {
    const before = w.discord.gatewayStats;
    const started = await Promise.all([w.launch(), w.launch(), w.launch()]);
    expect(started).toHaveLength(3);
    await w.discord.waitFor(() => w.discord.connectedSessions === 4, 30_000, 'four gateway sessions');
    expect(w.discord.gatewayStats.invalidSessions).toBe(before.invalidSessions);
    expect(w.discord.gatewayStats.identifies).toBe(before.identifies + 3);
    const ann = w.discord.user('ann');
    for (let i = 0; i < 4; i++) await w.ask(ann, `hello ${i}`);
    expect(w.discord.botMessagesTo(ann).map((m) => m.content)).toEqual([0, 1, 2, 3].map((i) => `You said: hello ${i}`));
    const metrics = await (await fetch(`${w.bot.opsUrl}/metrics`)).text();
    expect(metrics).toMatch(/bot_gateway_session_starts_remaining \d+/);
    expect(w.bot.logs.some((l) => l.msg === 'gateway session starts left today' && typeof l.remaining === 'number')).toBe(true);
  }, 60_000);
});

describe('a bot with only the last few session starts of the day left', () => {
  let v: World;
  beforeAll(async () => {
    v = await startWorld();
  }, 60_000);
  afterAll(() => v?.close());

  it('does not identify while they stay low, says so once, and starts again when Discord gives them back', async () => {
    const gateway = v.discord.gateway;
    // 10 left of 1,000: under the floor (5%, and 2 per replica), which keeps the token from being reset.
    gateway.sessionStartsUsed = gateway.sessionStartTotal - 10;
    gateway.sessionStartResetAfterMs = 1000;
    const before = v.discord.gatewayStats;
    v.discord.dropGatewayConnections(4009); // the session is gone: only a new one would do
    const fatal = await v.bot.waitForLog((l) => l.level === 60 && /session starts/.test(String(l.msg)), 10_000);
    expect(fatal).toMatchObject({ remaining: 10, total: 1000 });
    // Past the reset Discord announced (and past the 5 s identify window of the first session), the
    // starts are still low: looked at again, and still not used.
    await sleep(6500);
    expect(v.discord.gatewayStats.identifies).toBe(before.identifies);
    expect(gateway.sessionStartsUsed).toBe(gateway.sessionStartTotal - 10);
    expect((await fetch(`${v.bot.opsUrl}/readyz`)).status).toBe(503);
    expect(v.bot.logs.filter((l) => l.level === 60)).toHaveLength(1);

    gateway.sessionStartsUsed = 0; // the day's starts are back
    await v.discord.waitFor(() => v.discord.connectedSessions === 1, 10_000, 'a new session');
    expect(v.discord.gatewayStats.identifies).toBe(before.identifies + 1);
    expect(v.discord.gatewayStats.invalidSessions).toBe(before.invalidSessions);
    const { replies } = await v.ask(v.discord.user('dee'), 'are you back?');
    expect(replies.at(-1)!.content).toBe('You said: are you back?');
  }, 40_000);
});
