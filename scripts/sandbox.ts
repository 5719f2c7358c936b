// `npm run sandbox`: chat with the real bot in the terminal, as a Discord user, without Discord.
// It starts the fake Discord from the test suite and the bot (same entry point as `npm start`).
// With OPENAI_API_KEY set (environment or .env) the bot uses your real model settings; otherwise a
// fake model that echoes. History goes to a separate `<database>_sandbox` database.
import { createHash } from 'node:crypto';
import { createInterface } from 'node:readline/promises';
import { loadDatabaseUrl } from '../src/config/index.js';
import { startBot } from '../test/support/bot-process.js';
import { FakeDiscord, type FakeUser, type SentMessage } from '../test/support/fake-discord/server.js';
import { FakeOpenAI } from '../test/support/fake-openai.js';

const out = (line = '') => process.stdout.write(`${line}\n`);
const databaseUrl = (() => {
  const url = new URL(loadDatabaseUrl());
  url.pathname = `${url.pathname.replace(/^\//, '') || 'discord_gpt'}_sandbox`;
  return url.toString();
})();
const realModel = Boolean(process.env.OPENAI_API_KEY);

const discord = await new FakeDiscord().start();
const fakeModel = realModel ? null : await new FakeOpenAI().start();
const modelEnv: Record<string, string> = realModel
  ? Object.fromEntries(Object.entries(process.env).filter(([k, v]) => k.startsWith('OPENAI_') && v !== undefined) as [string, string][])
  : { OPENAI_BASE_URL: fakeModel!.baseUrl };
const passThrough = Object.fromEntries(
  ['SYSTEM_PROMPT', 'SESSION_TTL_SECONDS', 'CONTEXT_TOKEN_BUDGET', 'MAX_INPUT_CHARS', 'MAX_REPLY_TOKENS']
    .filter((k) => process.env[k])
    .map((k) => [k, process.env[k]!]),
);
out(`Starting the bot (model: ${realModel ? process.env.OPENAI_MODEL ?? 'gpt-3.5-turbo (real OpenAI settings)' : 'fake echo model'}) …`);
const bot = await startBot(
  { discord, openai: fakeModel ?? ({ baseUrl: '' } as FakeOpenAI), databaseUrl, redisPrefix: 'dgpt-sandbox:', redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' },
  { ...modelEnv, ...passThrough, LOG_LEVEL: 'info' }, // info: startBot waits for the ready line; logs are not shown
);

/** The same Discord id for the same name on every run, so /history shows earlier sandbox chats. */
const person = (name: string) => discord.user(name, 'en-US', (1_200_000_000_000_000_000n + BigInt(`0x${createHash('sha256').update(name).digest('hex').slice(0, 14)}`)).toString());
let user: FakeUser = person(process.env.USER || 'you');
let buttons: { messageId: string; customId: string; label: string }[] = [];
const seen = new Map<string, number>();

function render(m: SentMessage): void {
  const tag = m.flags & 64 ? ' (only you can see this)' : '';
  if (m.content) out(`bot${tag}: ${m.content}`);
  // Discord renders <t:unix:f> in the reader's time zone; so does the sandbox.
  const time = (text: string) => text.replace(/<t:(\d+):\w>/g, (_, s: string) => new Date(Number(s) * 1000).toLocaleString());
  for (const e of m.embeds) out(`┌ ${e.title ?? ''}\n${time(String(e.description ?? '')).replace(/^/gm, '│ ')}\n└ ${e.footer?.text ?? ''}`);
  for (const a of m.attachments) out(`[file ${a.filename}, ${a.content.length} bytes]\n${a.content.toString('utf8').slice(0, 600)}`);
  for (const row of m.components) {
    for (const b of row.components ?? []) {
      buttons.push({ messageId: m.id, customId: b.custom_id, label: b.label });
      out(`  [${buttons.length}] ${b.label}${b.disabled ? ' (disabled)' : ''}`);
    }
  }
}

/** Waits for the bot to react, then until it has been quiet for a moment, and prints what changed. */
async function settle(): Promise<void> {
  let last = Date.now();
  let changed = false;
  const off = discord.onChange(() => {
    changed = true;
    last = Date.now();
  });
  const started = Date.now();
  while (Date.now() - started < 90_000 && (!changed || Date.now() - last < 1200)) await new Promise((r) => setTimeout(r, 100));
  off();
  buttons = [];
  for (const m of discord.messages.values()) {
    if (m.channelId !== user.dmChannelId || m.deleted) continue;
    const version = m.revisions.length + m.editedAt.length;
    if (seen.get(m.id) !== version) render(m);
    seen.set(m.id, version);
  }
}

out('Type a message to DM the bot. Commands: /help, /history [file|json], /clear-history, /logout, /click N, /user NAME, /quit');
const rl = createInterface({ input: process.stdin, output: process.stdout });
rl.on('close', () => void shutdown());
async function shutdown(): Promise<never> {
  await bot.stop();
  await discord.stop();
  await fakeModel?.stop();
  process.exit(0);
}

for (;;) {
  const line = (await rl.question(`${user.username}> `)).trim();
  if (!line) continue;
  if (line === '/quit' || line === '/exit') await shutdown();
  const [command, ...args] = line.split(/\s+/);
  if (command === '/user') {
    user = person(args.join(' ') || 'someone');
    out(`You are now ${user.username} (${user.id}).`);
    continue;
  }
  if (command === '/click') {
    const button = buttons[Number(args[0]) - 1];
    if (!button) out('No such button.');
    else discord.clickButton(user, button.messageId, button.customId);
  } else if (command?.startsWith('/') && discord.commands.some((c) => c.name === command.slice(1))) {
    // `/history file` or `/history json` sets the format option, as Discord's option picker would.
    const options = command === '/history' && args[0] ? [{ name: 'format', type: 3, value: args[0] }] : [];
    discord.runCommand(user, command.slice(1), options);
  } else if (command?.startsWith('/')) {
    out(`Unknown command. Try: ${discord.commands.map((c) => `/${c.name}`).join(', ')}, /click N, /user NAME, /quit`);
    continue;
  } else {
    discord.sendDm(user, line);
  }
  await settle();
}
