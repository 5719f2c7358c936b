// One e2e world per test file: fake Discord, fake OpenAI, a fresh database and Redis prefix, and the
// real bot process started against them.
import { createTestRedis, type TestRedis } from './redis.js';
import { dropDatabase, freshDatabaseUrl } from './database.js';
import { startBot, type BotProcess } from './bot-process.js';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { APIMessage } from 'discord.js';
import { openDatabase } from '../../src/history/orm.js';
import { FakeDiscord, type FakeUser, type SentMessage } from './fake-discord/server.js';
import { FakeOpenAI } from './fake-openai.js';

export interface World {
  discord: FakeDiscord;
  openai: FakeOpenAI;
  bot: BotProcess;
  redis: TestRedis;
  databaseUrl: string;
  databaseName: string;
  /** Every bot process started in this world (the first is `bot`). */
  bots: BotProcess[];
  /**
   * Sends a DM as `user` and waits until a bot process has finished with it (answer complete,
   * exchange stored or queued); returns the bot messages sent to the user since.
   */
  ask(user: FakeUser, text: string, extra?: Parameters<FakeDiscord['sendDm']>[2]): Promise<{ message: APIMessage; replies: SentMessage[] }>;
  /** The Message rows stored for a Discord user, oldest first, read straight from PostgreSQL. */
  storedRows(userId: string): Promise<StoredRow[]>;
  /** Starts another bot process on the same Discord, database and Redis (a second replica, or a restart). */
  launch(extra?: Record<string, string>): Promise<BotProcess>;
  close(): Promise<void>;
}

export interface StoredRow {
  user_text: string;
  gpt_response: string;
  discord_message_id: string;
  model: string;
  total_tokens: number;
}

export interface WorldOptions {
  /** Extra bot settings; a function gets the fake Discord first (to name users in ALLOWED_USER_IDS). */
  env?: Record<string, string> | ((discord: FakeDiscord) => Record<string, string>);
  /** Connect the bot to PostgreSQL through this port (a TCP proxy) instead of 5432. */
  pgPort?: number;
  /** Use this Redis instead of the machine's. */
  redisUrl?: string;
}

export async function startWorld(options: WorldOptions = {}): Promise<World> {
  const fakeLog: string[] = [];
  const discord = await new FakeDiscord((line) => fakeLog.push(line)).start();
  const openai = await new FakeOpenAI().start();
  const redis = await createTestRedis('e2e', options.redisUrl);
  const { url, name: databaseName } = freshDatabaseUrl('e2e');
  const databaseUrl = options.pgPort ? url.replace(/:\d+\//, `:${options.pgPort}/`) : url;
  const env = typeof options.env === 'function' ? options.env(discord) : (options.env ?? {});
  const bots: BotProcess[] = [];
  const launch = async (extra: Record<string, string> = {}) => {
    const started = await startBot({ discord, openai, databaseUrl, redisPrefix: redis.prefix, ...(options.redisUrl ? { redisUrl: options.redisUrl } : {}) }, { ...env, ...extra });
    bots.push(started);
    return started;
  };
  const bot = await launch();
  let db: MikroORM | null = null;
  const storedRows: World['storedRows'] = async (userId) => {
    db ??= (await openDatabase(url, { migrate: false })).orm; // directly, not through a test's proxy
    return db.em
      .getConnection()
      .execute<StoredRow[]>('select user_text, gpt_response, discord_message_id, model, total_tokens from messages where user_id = ? order by id', [userId]);
  };
  const ask: World['ask'] = async (user, text, extra) => {
    const before = discord.botMessagesTo(user).length;
    const message = discord.sendDm(user, text, extra);
    const live = bots.filter((b) => b.child.exitCode === null && b.child.signalCode === null);
    await Promise.any(live.map((b) => b.waitForLog((l) => l.msg === 'message handled' && l.messageId === message.id && l.outcome !== 'duplicate')));
    return { message, replies: discord.botMessagesTo(user).slice(before) };
  };
  // Commands are registered right before the ready line.
  await discord.waitFor(() => discord.commands.length > 0, 10_000, 'command registration');
  return {
    discord,
    openai,
    bot,
    redis,
    databaseUrl,
    databaseName,
    bots,
    ask,
    storedRows,
    launch,
    async close() {
      await db?.close(true);
      await Promise.all(bots.map((b) => b.stop()));
      if (discord.unknownRoutes.length) process.stderr.write(`fake discord saw unknown routes: ${discord.unknownRoutes.join(', ')}\n${fakeLog.join('\n')}\n`);
      await Promise.all([discord.stop(), openai.stop(), redis.cleanup()]);
      await dropDatabase(databaseName);
    },
  };
}
