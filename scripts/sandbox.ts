// `npm run sandbox`: chat with the real bot in the terminal, as a Discord user, without Discord.
// It starts the fake Discord from the test suite and the bot (the same compiled entry point as
// `npm start`). Which model answers is chosen, never guessed: `--echo` (the default) is a fake that
// repeats what you write; `--real` uses your OPENAI_* settings. `--reset` empties the sandbox's data
// first (scripts/sandbox/storage.ts says where it lives).
// Every line typed or pasted is queued and sent in order, each once the bot has finished with the one
// before (its `handled` log line says so), so a paste arrives whole and `/click` finds the buttons of
// the reply before it; whatever a line runs into is printed, and the prompt comes back.
import { once } from 'node:events';
import { createHash } from 'node:crypto';
import { createInterface } from 'node:readline';
import { configSchema, loadDatabaseUrl } from '../src/config/index.js';
import { startBot, type BotProcess } from '../test/support/bot-process.js';
import { FakeDiscord, type FakeUser } from '../test/support/fake-discord/server.js';
import { FakeOpenAI } from '../test/support/fake-openai.js';
import { describeStorage, resetStorage, sandboxStorage } from './sandbox/storage.js';
import { echoReply, PendingFiles } from './sandbox/attach.js';
import { Transcript, clickable } from './sandbox/transcript.js';

const USAGE = `Usage: npm run sandbox [-- --echo | --real] [--reset]
  --echo   a fake model that repeats what you write (the default; needs no key)
  --real   your model: OPENAI_MODEL at OPENAI_BASE_URL with OPENAI_API_KEY (from the environment or .env)
  --reset  empty the sandbox's database and Redis keys before starting
`;
const ECHO_MODEL = 'sandbox-echo';
// A real model may retry and time out several times before the bot answers with an apology.
const REPLY_WAIT_MS = 5 * 60_000;
const SETTINGS_PASSED_ON = [
  'SYSTEM_PROMPT',
  'SESSION_TTL_SECONDS',
  'CONTEXT_TOKEN_BUDGET',
  'MAX_INPUT_CHARS',
  'MAX_REPLY_TOKENS',
  'STREAM_REPLIES',
  'STREAM_EDIT_INTERVAL_MS',
  'RATE_LIMIT_PER_MINUTE',
  'DAILY_TOKEN_CAP',
  'IMAGE_DETAIL',
  'IMAGE_MEMORY_TURNS',
  'MAX_ATTACHMENTS',
  'MAX_ATTACHMENT_BYTES',
  'MAX_IMAGE_BYTES',
  'MAX_FILE_CHARS',
];

const out = (text: string) => void process.stdout.write(text);
function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

const flags = process.argv.slice(2);
for (const flag of flags) if (!['--echo', '--real', '--reset', '--help'].includes(flag)) fail(`Unknown option ${flag}.\n${USAGE}`);
if (flags.includes('--help')) {
  out(USAGE);
  process.exit(0);
}
if (flags.includes('--echo') && flags.includes('--real')) fail(`Choose one of --echo and --real.\n${USAGE}`);
loadDatabaseUrl(); // reads .env into the environment, as the bot would (set variables win)
const real = flags.includes('--real');
if (real && !process.env.OPENAI_API_KEY) fail('--real needs OPENAI_API_KEY (in the environment or .env). Leave out --real to chat with the echo model.');
const storage = sandboxStorage(process.env);

if (flags.includes('--reset')) {
  const keys = await resetStorage(storage).catch((error: unknown) =>
    fail(`Could not reset the sandbox (${describeStorage(storage)}): ${(error as Error).message}\nCheck DATABASE_URL and REDIS_URL (README: Troubleshooting).`),
  );
  out(`Reset: dropped the database ${storage.databaseName} and ${keys} Redis key(s) under ${storage.redisPrefix}\n`);
}

const discord = await new FakeDiscord().start();
const fakeModel = real ? null : await new FakeOpenAI().start();
const defaults = configSchema.parse({ DISCORD_TOKEN: '-', OPENAI_API_KEY: '-' });
const model = real
  ? { name: process.env.OPENAI_MODEL || defaults.OPENAI_MODEL, baseUrl: process.env.OPENAI_BASE_URL || 'https://api.openai.com/v1' }
  : { name: ECHO_MODEL, baseUrl: fakeModel!.baseUrl };
const modelEnv: Record<string, string> = real
  ? {
      // The test suite's short timeouts (startBot's defaults) would cut a real model off.
      OPENAI_TIMEOUT_MS: String(defaults.OPENAI_TIMEOUT_MS),
      OPENAI_MAX_RETRIES: String(defaults.OPENAI_MAX_RETRIES),
      ...Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[0].startsWith('OPENAI_') && Boolean(e[1]))),
    }
  : // The echo model is shown images (and says how many), so /attach can be tried without a key.
    { OPENAI_BASE_URL: model.baseUrl, OPENAI_MODEL: ECHO_MODEL, OPENAI_VISION: process.env.OPENAI_VISION || 'on' };
fakeModel?.setReply(echoReply);
const passedOn = Object.fromEntries(SETTINGS_PASSED_ON.filter((k) => process.env[k]).map((k) => [k, process.env[k]!]));

out(
  real
    ? `Model: ${model.name} at ${model.baseUrl} (your OPENAI_* settings; leave out --real for the echo model)\n`
    : `Model: ${ECHO_MODEL}, a fake that repeats what you write, at ${model.baseUrl}${process.env.OPENAI_API_KEY ? ' (OPENAI_API_KEY is set: `npm run sandbox -- --real` uses your model)' : ''}\n`,
);
out(`Data: ${describeStorage(storage)} (\`npm run sandbox -- --reset\` empties them)\nStarting the bot …\n`);
let bot: BotProcess;
try {
  bot = await startBot(
    { discord, openai: fakeModel ?? ({ baseUrl: '' } as FakeOpenAI), databaseUrl: storage.databaseUrl, redisPrefix: storage.redisPrefix, redisUrl: storage.redisUrl },
    // info: the `handled` lines mark each reply complete; logs are not shown, except warnings about your lines.
    { ...modelEnv, ...passedOn, LOG_LEVEL: 'info', SHUTDOWN_GRACE_MS: '3000' },
  );
} catch (error) {
  // startBot's message holds the bot's stderr, which says what to change.
  const message = (error as Error).message;
  await Promise.all([discord.stop(), fakeModel?.stop()]);
  fail(`The bot did not start.\n${/stderr: ([\s\S]*?)\nstdout:/.exec(message)?.[1]?.trim() || message}`);
}

// The bot is a child process with pipes: it would outlive a sandbox that dies, and answer its messages
// into a fake Discord that is gone.
process.once('exit', () => bot.child.kill());
// Bots of other sandboxes (another terminal) share the message stream and would take this one's messages.
const budget = await bot.waitForLog((l) => l.msg === 'sharing the Discord request budget', 3000).catch(() => null);
if (budget && budget.replicas > 1) {
  out(`Warning: ${budget.replicas - 1} other sandbox bot(s) use the Redis keys ${storage.redisPrefix}* (another terminal?). They take some of your messages and answer them elsewhere: stop them first.\n`);
}

/** The same Discord id for the same name on every run, so /history shows earlier sandbox chats. */
const people = new Map<string, FakeUser>();
const person = (name: string): FakeUser => {
  const id = (1_200_000_000_000_000_000n + BigInt(`0x${createHash('sha256').update(name).digest('hex').slice(0, 14)}`)).toString();
  if (!people.has(name)) people.set(name, discord.user(name, 'en-US', id));
  return people.get(name)!;
};
let user = person(process.env.USER || 'you');
/** Files attached with /attach, for the next message. */
const pending = new PendingFiles();
const transcript = new Transcript(
  discord,
  (channelId) => {
    const found = [...people.values()].find((p) => p.dmChannelId === channelId);
    return found && { name: found.username, current: found === user };
  },
  out,
);
transcript.follow();

let stopping = false;
async function shutdown(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  await bot.stop();
  await Promise.all([discord.stop(), fakeModel?.stop()]);
  process.exit(code);
}
void once(bot.child, 'exit').then(([code]) => {
  if (stopping) return;
  process.stderr.write(`\nThe bot stopped (exit code ${String(code)}).\n${bot.stderr.join('')}`);
  void shutdown(1);
});

/** The fields of the bot's JSON log lines the sandbox reads. */
interface LogLine {
  msg?: string;
  level?: number;
  messageId?: string;
  interactionId?: string;
  outcome?: string;
  err?: LoggedError;
}
interface LoggedError {
  type?: string;
  message?: string;
  status?: number;
  cause?: LoggedError;
}
/** A registered slash command, as Discord keeps it (only what `/name value` needs). */
interface CommandDefinition {
  name: string;
  options?: { name: string; type: number; choices?: { value: string }[] }[];
}

/** Waits until the bot has finished with what was just sent, then prints it and any warning the bot logged about it. */
async function react(id: string, kind: 'message' | 'interaction'): Promise<void> {
  transcript.nextReaction();
  const from = bot.logs.length;
  const done = (l: LogLine) =>
    kind === 'message' ? l.msg === 'message handled' && l.messageId === id && l.outcome !== 'duplicate' : l.msg === 'interaction handled' && l.interactionId === id;
  const finished = await bot.waitForLog(done, REPLY_WAIT_MS).then(() => true, () => false);
  transcript.settle();
  if (!finished) out(`(nothing more from the bot after ${REPLY_WAIT_MS / 60_000} minutes; going on)\n`);
  for (const line of bot.logs.slice(from) as LogLine[]) {
    const mine = line.messageId === id || line.interactionId === id;
    const level = line.level ?? 0;
    if ((mine && level >= 40) || (level >= 50 && !line.messageId && !line.interactionId)) out(`  bot log: ${reason(line)}\n`);
  }
}

/** A log line's message and its error chain (the serializer already left out what people wrote). */
function reason(line: LogLine): string {
  const parts: string[] = [line.msg ?? ''];
  for (let error = line.err, depth = 0; error && depth < 4; error = error.cause, depth++) {
    const text = error.message ?? error.type ?? '';
    if (parts.some((p) => p.includes(text))) continue;
    parts.push(error.status && !text.startsWith(String(error.status)) ? `${error.status} ${text}` : text);
  }
  return parts.join(': ');
}

async function handle(line: string): Promise<void> {
  if (line === '/quit' || line === '/exit') return shutdown(0);
  if (!line.startsWith('/')) return react(discord.sendDm(user, line, { files: pending.take() }).id, 'message');
  const [command = '', ...args] = line.split(/\s+/);
  if (command === '/user') {
    user = person(args.join(' ') || 'someone');
    return void out(`You are now ${user.username} (${user.id}).\n`);
  }
  if (command === '/click') return click(args[0]);
  if (command === '/attach') return void out(await pending.add(line.slice('/attach'.length).trim()));
  if (command === '/send') {
    if (!pending.count) return void out('Nothing attached: /attach PATH first.\n');
    return react(discord.sendDm(user, '', { files: pending.take() }).id, 'message');
  }
  const commands = discord.commands as CommandDefinition[];
  const definition = commands.find((c) => c.name === command.slice(1));
  if (!definition) {
    return void out(`Unknown command ${command}. Try: ${commands.map((c) => `/${c.name}`).join(', ')}, /click N, /attach PATH, /send, /user NAME, /quit\n`);
  }
  // `/history json` fills the command's first option, as Discord's option picker would.
  const option = definition.options?.[0];
  const value = args.join(' ');
  if (!value) return react(discord.runCommand(user, definition.name).id, 'interaction');
  if (!option) return void out(`/${definition.name} takes no options.\n`);
  const choices = option.choices?.map((c) => c.value);
  if (choices && !choices.includes(value)) return void out(`/${definition.name} ${option.name} must be one of: ${choices.join(', ')}.\n`);
  return react(discord.runCommand(user, definition.name, [{ name: option.name, type: option.type, value }]).id, 'interaction');
}

async function click(arg: string | undefined): Promise<void> {
  const { buttons } = transcript;
  const button = /^\d+$/.test(arg ?? '') ? buttons[Number(arg) - 1] : undefined;
  if (!button) return void out(`No such button. ${buttons.length ? `The last reply showed ${buttons.length}: /click 1 to /click ${buttons.length}.` : 'The last replies showed none.'}\n`);
  const state = clickable(discord, button);
  if (state !== 'ok') return void out(state === 'gone' ? 'That button is no longer there.\n' : 'That button is disabled.\n');
  return react(discord.clickButton(user, button.messageId, button.customId).id, 'interaction');
}

out('Type a message to DM the bot. Commands: /help, /history [page|file|json], /clear-history, /logout, /click N (press a button), /attach PATH (a file for your next message; /send sends it alone), /user NAME (become someone else), /quit\n');
const rl = createInterface({ input: process.stdin, output: process.stdout });
const queue: string[] = [];
let draining = false;
let inputEnded = false;
const prompt = () => {
  rl.setPrompt(`${user.username}> `);
  rl.prompt();
};
async function drain(): Promise<void> {
  if (draining) return;
  draining = true;
  while (queue.length && !stopping) {
    const line = queue.shift()!.trim();
    if (!line) continue;
    try {
      await handle(line);
    } catch (error) {
      transcript.settle();
      out(`The sandbox could not do that: ${(error as Error).message}\n`);
    }
  }
  draining = false;
  if (inputEnded) return shutdown(0);
  if (!stopping) prompt();
}
rl.on('line', (line) => {
  queue.push(line);
  void drain();
});
// End of input (Ctrl-D, or a script's last line): answer what is queued, then stop.
rl.on('close', () => {
  inputEnded = true;
  void drain();
});
rl.on('SIGINT', () => void shutdown(0));
// Whatever goes wrong in the background is told, and the sandbox goes on.
process.on('unhandledRejection', (reason) => out(`The sandbox hit an error: ${reason instanceof Error ? reason.message : String(reason)}\n`));
process.once('SIGTERM', () => void shutdown(0));
prompt();
