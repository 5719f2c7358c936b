// The floor for `npm run bench`: the least a discord.js bot can do to answer a DM from the model —
// no Redis, no database, no context, no checks. The real bot's overhead is measured against this.
import { Client, Events, GatewayIntentBits, type Message, Partials } from 'discord.js';
import OpenAI from 'openai';

const env = process.env as Record<string, string>;
const openai = new OpenAI({ apiKey: env.OPENAI_API_KEY, baseURL: env.OPENAI_BASE_URL });
const client = new Client({
  intents: [GatewayIntentBits.Guilds, GatewayIntentBits.DirectMessages],
  partials: [Partials.Channel],
  rest: { api: env.DISCORD_API_URL },
});
client.on(Events.MessageCreate, (message) => void answer(message));
async function answer(message: Message): Promise<void> {
  if (message.author.bot || !message.channel.isSendable()) return;
  const completion = await openai.chat.completions.create({ model: 'gpt-3.5-turbo', messages: [{ role: 'user', content: message.content }] });
  await message.channel.send(completion.choices[0]?.message.content ?? '');
}
client.once(Events.ClientReady, () => process.stdout.write('{"msg":"ready"}\n'));
process.once('SIGTERM', () => void client.destroy().then(() => process.exit(0)));
await client.login(env.DISCORD_TOKEN);
