// The one place that reads the environment. Everything else receives a typed `Config`.
// A bad or missing value stops start-up with a single list of every problem found.
import dotenv from 'dotenv';
import { z } from 'zod';

const DEFAULT_SYSTEM_PROMPT =
  'You are a helpful assistant chatting with a person in Discord direct messages. Keep answers clear and reasonably short.';

const int = (min: number, def: number) => z.coerce.number().int().min(min).default(def);
const optionalUrl = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .pipe(z.url().optional())
  .optional();
const bool = (def: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .default(def ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** A comma- or space-separated list of Discord user ids (snowflakes, kept as strings). */
const discordIds = () =>
  z
    .string()
    .default('')
    .transform((v) => v.split(/[\s,]+/).filter(Boolean))
    .pipe(z.array(z.string().regex(/^\d{17,20}$/, 'must be a comma-separated list of Discord user ids')));

export const configSchema = z.object({
  DISCORD_TOKEN: z.string().trim().min(1, 'is required (Bot token from the Discord developer portal)'),
  DISCORD_API_URL: optionalUrl,
  DISCORD_REQUEST_TIMEOUT_MS: int(1000, 15_000),
  OPENAI_API_KEY: z.string().trim().min(1, 'is required (an OpenAI API key, or any string for a local server)'),
  OPENAI_BASE_URL: optionalUrl,
  OPENAI_MODEL: z.string().trim().min(1).default('gpt-3.5-turbo'),
  /** The models people may pick with /model (the first is the default); empty = only OPENAI_MODEL. */
  OPENAI_MODELS: z
    .string()
    .default('')
    .transform((v) => [...new Set(v.split(',').map((m) => m.trim()).filter(Boolean))])
    // Discord allows at most 25 choices on an option, and 100 characters per choice.
    .pipe(z.array(z.string().max(100, 'must name models of at most 100 characters')).max(25, 'must list at most 25 models')),
  OPENAI_TIMEOUT_MS: int(1000, 60_000),
  OPENAI_MAX_RETRIES: int(0, 2),
  MAX_REPLY_TOKENS: int(16, 1024),
  OPENAI_PROMPT_CACHE_KEY: bool(true),
  SYSTEM_PROMPT: z.string().trim().min(1).default(DEFAULT_SYSTEM_PROMPT),
  SESSION_TTL_SECONDS: int(60, 3600),
  CONTEXT_TOKEN_BUDGET: int(256, 3000),
  MAX_INPUT_CHARS: int(1, 4000),
  DATABASE_URL: z.string().trim().regex(/^postgres(ql)?:\/\//, 'must be a postgresql:// URL').default('postgresql://postgres@127.0.0.1:5432/discord_gpt'),
  MIGRATE_ON_START: bool(true),
  DEPLOY_COMMANDS_ON_START: bool(true),
  REDIS_URL: z.string().trim().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL').default('redis://127.0.0.1:6379'),
  REDIS_CLUSTER: bool(false),
  REDIS_KEY_PREFIX: z.string().default('dgpt:'),
  DISCORD_GLOBAL_RPS: int(1, 50),
  GUILD_MODE: z.enum(['off', 'mention']).default('off'),
  /** Gateway shards: 'auto' (what Discord recommends) or a number. Shard 0 runs on every replica, the others are shared. */
  GATEWAY_SHARDS: z.union([z.literal('auto'), z.coerce.number().int().min(1)]).default('auto'),
  /** After an outage no gateway session could be resumed for: read back messages up to this many hours old (0 = off). */
  CATCH_UP_HOURS: int(0, 24),
  STREAM_REPLIES: bool(true),
  STREAM_EDIT_INTERVAL_MS: int(250, 1000),
  RATE_LIMIT_PER_MINUTE: int(0, 20),
  /** How many of one person's messages may wait to be answered; past that, new ones are refused with a notice (0 = no limit). */
  MAX_WAITING_PER_PERSON: int(0, 20),
  DAILY_TOKEN_CAP: int(0, 0),
  ALLOWED_USER_IDS: discordIds(),
  /** Delete stored exchanges older than this many days (0 = keep for ever). */
  HISTORY_RETENTION_DAYS: int(0, 0),
  /** OpenAI's moderation endpoint checks what people write (`input`), and the answer too (`both`). */
  MODERATION: z.enum(['off', 'input', 'both']).default('off'),
  /** When the moderation endpoint fails: answer anyway (`open`) or refuse with a notice (`closed`). */
  MODERATION_FAIL: z.enum(['open', 'closed']).default('open'),
  MODERATION_MODEL: z.string().trim().min(1).default('omni-moderation-latest'),
  /** Discord user ids of the bot's operators (for /stats). */
  OWNER_IDS: discordIds(),
  /** The health server's port: a number, `auto` (any free port, reported in the log), or 0 (off). */
  HTTP_PORT: z.union([z.literal('auto'), int(0, 8080).pipe(z.number().max(65535))]).default(8080),
  HTTP_HOST: z.string().trim().min(1).default('127.0.0.1'),
  SHUTDOWN_GRACE_MS: int(0, 15_000),
  REDELIVER_AFTER_MS: int(1000, 15_000),
  WORKER_CONCURRENCY: int(1, 500),
  OUTBOX_FLUSH_INTERVAL_MS: int(100, 5000),
  /** Which models are shown images: auto = the documented list in src/chat/vision.ts. */
  OPENAI_VISION: z.enum(['auto', 'on', 'off']).default('auto'),
  /** OpenAI's `detail` for images: high (tiles of 512 px) or low (85 tokens each for gpt-4o). */
  IMAGE_DETAIL: z.enum(['high', 'low']).default('high'),
  /** The model still sees an image this many turns after the one it came with; then "[image: name]". */
  IMAGE_MEMORY_TURNS: int(0, 3),
  /** Attachments read per message; the rest are named in a note. */
  MAX_ATTACHMENTS: int(1, 4),
  /** Bytes of all attachments of one message together (as Discord reports them). */
  MAX_ATTACHMENT_BYTES: int(1, 26_214_400),
  /** Largest image downloaded (bytes). */
  MAX_IMAGE_BYTES: int(1, 10_485_760),
  /** Characters of a text file read into the conversation; a longer one is cut, with a note. */
  MAX_FILE_CHARS: int(1, 8000),
  /** How long one attachment download may take. */
  ATTACHMENT_TIMEOUT_MS: int(1000, 15_000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_MESSAGE_CONTENT: bool(false),
});

export type Config = z.infer<typeof configSchema>;

/** The models people may choose among, the default first. */
export function allowedModels(config: Pick<Config, 'OPENAI_MODEL' | 'OPENAI_MODELS'>): string[] {
  return config.OPENAI_MODELS.length ? config.OPENAI_MODELS : [config.OPENAI_MODEL];
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses an environment (normally `process.env` after dotenv) into a `Config`, or throws a `ConfigError` listing every problem. */
export function parseConfig(env: Record<string, string | undefined>): Config {
  // Treat empty strings as unset so `FOO=` in .env falls back to the default.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = configSchema.safeParse(cleaned);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const key = issue.path.join('.') || '(environment)';
    const message = issue.code === 'invalid_type' && cleaned[key] === undefined ? 'is required' : issue.message;
    return `${key} ${message}`;
  });
  throw new ConfigError(problems);
}

/** Loads `.env` (if present) into the environment and parses it. */
export function loadConfig(): Config {
  loadDotenv();
  return parseConfig(process.env);
}

/** Reads `.env` (or the file named by ENV_FILE) without overriding variables already set. */
function loadDotenv(): void {
  dotenv.config({ path: process.env.ENV_FILE || '.env', quiet: true });
}

/** Just the database URL, for tools (migrations, the ORM CLI) that need nothing else. */
export function loadDatabaseUrl(): string {
  loadDotenv();
  return configSchema.shape.DATABASE_URL.parse(process.env.DATABASE_URL || undefined);
}
