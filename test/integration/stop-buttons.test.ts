// Stop presses carried between replicas over a real Redis: a press handled by one replica stops the
// answer another is writing (at once, by publication), a press whose publication was lost is still
// found by the once-a-second sweep, and an answer already written ignores a late press.
import type { ButtonInteraction } from 'discord.js';
import type { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StopRequested } from '../../src/chat/stop.js';
import { en } from '../../src/discord/locales/en.js';
import { STOP_BUTTON, StopButtons, stopRow } from '../../src/discord/stop-button.js';
import { snowflake } from '../support/builders.js';
import { createTestRedis, type TestRedis } from '../support/redis.js';

let r: TestRedis;
const connections: Redis[] = [];
const replicas: StopButtons[] = [];
const logger = pino({ level: 'silent' });

async function replica(sweepMs?: number): Promise<StopButtons> {
  const redis = r.redis.duplicate();
  const subscriber = r.redis.duplicate();
  connections.push(redis, subscriber);
  const stops = new StopButtons({ redis, subscriber, logger }, { prefix: r.prefix, sweepMs });
  await stops.start();
  replicas.push(stops);
  return stops;
}

function pressOf(userId: string, messageId: string) {
  let acknowledged = 0;
  const interaction = {
    customId: stopRow(userId, messageId, 'Stop').components[0]!.custom_id,
    deferUpdate: async () => void (acknowledged += 1),
  } as unknown as ButtonInteraction;
  return { interaction, acknowledged: () => acknowledged };
}

const aborted = (cut: AbortController, ms: number) =>
  new Promise<boolean>((resolve) => {
    if (cut.signal.aborted) return resolve(true);
    const timer = setTimeout(() => resolve(false), ms);
    cut.signal.addEventListener('abort', () => (clearTimeout(timer), resolve(true)), { once: true });
  });

beforeAll(async () => {
  r = await createTestRedis('stop');
});
afterAll(async () => {
  for (const stops of replicas) stops.stop();
  for (const connection of connections) connection.disconnect();
  await r?.cleanup();
});

describe('Stop across replicas', () => {
  it('stops the answer another replica is writing, at once', async () => {
    // The writer's sweep looks only once a minute: within the wait, only the publication can stop it.
    const [writer, presser] = [await replica(60_000), await replica()];
    const userId = snowflake();
    const messageId = snowflake();
    const cut = new AbortController();
    const answer = writer.begin({ userId, messageId }, cut, async () => en);
    const row = await answer.row();
    expect(row.components[0]).toMatchObject({ label: en.stop.button, custom_id: `${STOP_BUTTON}:answer:${userId}:${messageId}` });

    const press = pressOf(userId, messageId);
    await presser.press(press.interaction, logger);
    expect(await aborted(cut, 5000)).toBe(true);
    expect(cut.signal.reason).toBeInstanceOf(StopRequested);
    expect(press.acknowledged()).toBe(1);
    answer.end();
  });

  it('finds a press whose publication was lost, within the sweep', async () => {
    const writer = await replica();
    const messageId = snowflake();
    const cut = new AbortController();
    const answer = writer.begin({ userId: snowflake(), messageId }, cut, async () => en);
    // The key alone, as if the PUBLISH had gone while the writer's subscriber was reconnecting.
    await r.redis.set(`${r.prefix}{stop}:${messageId}`, '1', 'EX', 60);
    expect(await aborted(cut, 2500)).toBe(true);
    answer.end();
  });

  it('ignores a press that comes once the answer is written', async () => {
    const [writer, presser] = [await replica(), await replica()];
    const userId = snowflake();
    const messageId = snowflake();
    const cut = new AbortController();
    writer.begin({ userId, messageId }, cut, async () => en).end();
    await presser.press(pressOf(userId, messageId).interaction, logger);
    expect(await aborted(cut, 1500)).toBe(false);
  });
});
