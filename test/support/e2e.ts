// One e2e world per test file: fake Discord, fake OpenAI, a fresh database and Redis prefix, and the
// real bot process started against them.
import { createTestRedis, type TestRedis } from './redis.js';
import { dropDatabase, freshDatabaseUrl } from './database.js';
import { startBot, type BotProcess } from './bot-process.js';
import { FakeDiscord } from './fake-discord/server.js';
import { FakeOpenAI } from './fake-openai.js';

export interface World {
  discord: FakeDiscord;
  openai: FakeOpenAI;
  bot: BotProcess;
  redis: TestRedis;
  databaseUrl: string;
  databaseName: string;
  close(): Promise<void>;
}

export async function startWorld(env: Record<string, string> = {}): Promise<World> {
  const fakeLog: string[] = [];
  const discord = await new FakeDiscord((line) => fakeLog.push(line)).start();
  const openai = await new FakeOpenAI().start();
  const redis = await createTestRedis('e2e');
  const { url: databaseUrl, name: databaseName } = freshDatabaseUrl('e2e');
  const bot = await startBot({ discord, openai, databaseUrl, redisPrefix: redis.prefix }, env);
  // Commands are registered right before the ready line.
  await discord.waitFor(() => discord.commands.length > 0, 10_000, 'command registration');
  return {
    discord,
    openai,
    bot,
    redis,
    databaseUrl,
    databaseName,
    async close() {
      await bot.stop();
      if (discord.unknownRoutes.length) process.stderr.write(`fake discord saw unknown routes: ${discord.unknownRoutes.join(', ')}\n${fakeLog.join('\n')}\n`);
      await Promise.all([discord.stop(), openai.stop(), redis.cleanup()]);
      await dropDatabase(databaseName);
    },
  };
}
