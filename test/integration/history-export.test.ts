// What a history export reads and how often a person may ask for one, against the real PostgreSQL
// and Redis: keyset batches of one person's rows, and the export slot with its cooldown.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExportLimiter } from '../../src/history/export-limiter.js';
import { HistoryRepository } from '../../src/history/repository.js';
import { exchange, snowflake } from '../support/builders.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { createTestRedis, type TestRedis } from '../support/redis.js';

let db: TestDatabase;
let r: TestRedis;
let history: HistoryRepository;

beforeAll(async () => {
  [db, r] = await Promise.all([createTestDatabase('export'), createTestRedis('export')]);
  history = new HistoryRepository(db.orm);
});
afterAll(() => Promise.all([db?.drop(), r?.cleanup()]));

async function readAll(userId: string, batchSize: number): Promise<string[][]> {
  const batches: string[][] = [];
  for await (const batch of history.batches(userId, batchSize)) batches.push(batch.map((e) => e.userText));
  return batches;
}

describe('reading a whole history in batches', () => {
  it('returns only the person’s exchanges, oldest first, in batches of the size asked', async () => {
    const [ada, eve] = [snowflake(), snowflake()];
    for (let i = 1; i <= 12; i++) {
      await history.save(exchange({ discordUserId: ada, userText: `ada ${i}` }));
      await history.save(exchange({ discordUserId: eve, userText: `eve ${i}` }));
    }
    const batches = await readAll(ada, 5);
    expect(batches.map((b) => b.length)).toEqual([5, 5, 2]);
    expect(batches.flat()).toEqual(Array.from({ length: 12 }, (_, i) => `ada ${i + 1}`));
    // A history that is an exact multiple of the batch size ends without an empty batch.
    expect((await readAll(ada, 4)).map((b) => b.length)).toEqual([4, 4, 4]);
    expect(await readAll(snowflake(), 5)).toEqual([]);
  });
});

describe('one export at a time', () => {
  const limiter = () => new ExportLimiter(r.redis, { prefix: r.prefix, cooldownMs: 300 });

  it('refuses a second export while one runs, whatever its format', async () => {
    const user = snowflake();
    const first = await limiter().begin(user, 'markdown');
    expect(first.ok).toBe(true);
    // Another replica asking: same Redis, another limiter.
    const second = await limiter().begin(user, 'json');
    expect(second).toMatchObject({ ok: false, reason: 'running' });
    expect((await limiter().begin(snowflake(), 'json')).ok).toBe(true); // other people are not held up
    if (first.ok) await first.finish();
  });

  it('pauses the same format after an export, then allows it again', async () => {
    const user = snowflake();
    const first = await limiter().begin(user, 'markdown');
    if (!first.ok) throw new Error('expected the slot');
    await first.finish();
    const again = await limiter().begin(user, 'markdown');
    expect(again).toMatchObject({ ok: false, reason: 'cooldown' });
    if (!again.ok) expect(again.retryAt.getTime()).toBeGreaterThan(Date.now());
    const other = await limiter().begin(user, 'json');
    expect(other.ok).toBe(true);
    if (other.ok) await other.finish();
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect((await limiter().begin(user, 'markdown')).ok).toBe(true);
  });

  it('frees the slot by itself if the replica running the export dies', async () => {
    const user = snowflake();
    const dying = new ExportLimiter(r.redis, { prefix: r.prefix, maxRunMs: 200 });
    expect((await dying.begin(user, 'json')).ok).toBe(true); // never finished
    expect((await limiter().begin(user, 'json')).ok).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await limiter().begin(user, 'json')).ok).toBe(true);
  });
});
