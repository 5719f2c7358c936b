// The Discord rate-limit metric the dashboard shows: every time discord.js holds a request back for a
// rate limit it emits `rateLimited`, and the bot counts it in bot_discord_rate_limited_total.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startWorld, type World } from '../support/e2e.js';

let w: World;
// One request a second for the whole bot: start-up and two answers cannot all go in the same second.
beforeAll(async () => {
  w = await startWorld({ env: { DISCORD_GLOBAL_RPS: '1' } });
}, 60_000);
afterAll(() => w?.close());

async function scrape(): Promise<string> {
  return (await fetch(`${w.bot.opsUrl}/metrics`)).text();
}

it('counts the requests discord.js held back for Discord’s global limit', async () => {
  await Promise.all([w.ask(w.discord.user('ann'), 'hello'), w.ask(w.discord.user('ben'), 'hi')]);
  const line = (await scrape()).split('\n').find((l) => l.startsWith('bot_discord_rate_limited_total{global="true"}'));
  expect(line).toBeDefined();
  expect(Number(line!.split(' ').at(-1))).toBeGreaterThan(0);
});
