// How an error becomes part of a log line. The libraries the bot uses keep what a person wrote, or a
// credential, right next to the diagnosis: discord.js errors carry the request body (reply text,
// embeds, an export file's bytes) and the URL (an interaction token there lets anyone post as the bot
// for 15 minutes); MikroORM's message is the SQL statement with its values; ioredis keeps the
// command's arguments (a queued job holds the message text); openai errors keep the response body.
// So an error is never written wholesale: a short list of fields known to be safe is copied out.

export interface SerializedError {
  type: string;
  name?: string;
  message?: string;
  code?: string | number;
  status?: number;
  method?: string;
  /** The request path, tokens masked (API base and query string left out). */
  route?: string;
  /** The Redis command that failed (its name only). */
  command?: string;
  table?: string;
  constraint?: string;
  /** Our own failure kind (ChatFailure). */
  kind?: string;
  requestId?: string;
  /** Stack frames only: the first line repeats the message. */
  stack?: string;
  cause?: SerializedError;
  errors?: SerializedError[];
}

const MAX_DEPTH = 4;
const MAX_FRAMES = 20;
const MAX_NESTED = 5;
const MAX_TEXT = 500;

// Discord: /webhooks/<application id>/<token>/… and /interactions/<interaction id>/<token>/callback.
const TOKEN_IN_PATH = /\/(webhooks|interactions)\/(\d+)\/[^/?#\s'"]+/g;
// Knex puts the statement, values inlined, in front of the driver's message.
const SQL_STATEMENT = /\b(insert\s+into|update\s+\S+\s+set|delete\s+from|select\s[\s\S]*\sfrom)\b/i;
const FRAME = /^\s+at .*(:\d+:\d+\)?|\((native|<anonymous>|index \d+)\))$/;

/** Replaces the token in an interaction or webhook path with `[token]`. */
export function maskTokens(text: string): string {
  return text.replace(TOKEN_IN_PATH, '/$1/$2/[token]');
}

/** A request URL as a route: the path after the API version, tokens masked, no query string. */
export function routeOf(url: string): string {
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch {
    path = url.split(/[?#]/)[0] ?? '';
  }
  try {
    path = decodeURIComponent(path);
  } catch {
    // kept encoded
  }
  return maskTokens(path.replace(/^.*?\/v\d+(?=\/)/, ''));
}

/** The safe part of anything thrown or rejected. Never throws. */
export function serializeError(value: unknown): SerializedError {
  try {
    return serialize(value, 0, new Set());
  } catch {
    return { type: 'unserializable' };
  }
}

function serialize(value: unknown, depth: number, seen: Set<object>): SerializedError {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) {
    const shown = typeof value === 'string' ? safeText(value) : value == null ? undefined : typeof value === 'symbol' ? value.description : `${value as number | boolean | bigint}`;
    return { type: value === null ? 'null' : typeof value, ...(shown ? { message: shown } : {}) };
  }
  const error = value as Record<string, unknown>;
  const type = typeName(error);
  if (seen.has(error)) return { type, message: '[Circular]' };
  seen.add(error);

  const out: SerializedError = { type };
  const name = text(read(error, 'name'));
  if (name && name !== type) out.name = name;
  const database = isDatabaseError(error);
  const message = database ? undefined : messageOf(error);
  if (message) out.message = message;

  const code = database ? (text(read(error, 'sqlState')) ?? read(error, 'code')) : read(error, 'code');
  if (typeof code === 'string' || typeof code === 'number') out.code = typeof code === 'string' ? code.slice(0, 100) : code;
  const status = read(error, 'status') ?? read(error, 'statusCode');
  if (typeof status === 'number') out.status = status;
  const method = text(read(error, 'method'));
  if (method) out.method = method.slice(0, 10).toUpperCase();
  const url = text(read(error, 'url')) ?? text(read(error, 'route'));
  if (url) out.route = routeOf(url).slice(0, MAX_TEXT);
  const command = text(read(read(error, 'command'), 'name'));
  if (command) out.command = command.slice(0, 50);
  if (database) {
    const table = text(read(error, 'table'));
    const constraint = text(read(error, 'constraint'));
    if (table) out.table = table;
    if (constraint) out.constraint = constraint;
  }
  const kind = text(read(error, 'kind'));
  if (kind) out.kind = kind.slice(0, 50);
  const requestId = text(read(error, 'requestID'));
  if (requestId) out.requestId = requestId.slice(0, 100);
  const stack = framesOf(read(error, 'stack'));
  if (stack) out.stack = stack;

  if (depth < MAX_DEPTH) {
    const cause = read(error, 'cause');
    if (cause !== undefined) out.cause = serialize(cause, depth + 1, seen);
    const nested = read(error, 'errors');
    if (Array.isArray(nested) && nested.length) out.errors = nested.slice(0, MAX_NESTED).map((e) => serialize(e, depth + 1, seen));
  }
  return out;
}

/**
 * The message, unless it cannot be trusted to hold none of a person's words. For an openai API error
 * only what the API said: the SDK falls back to the whole response body when there is no message.
 */
function messageOf(error: Record<string, unknown>): string | undefined {
  if (isOpenAIApiError(error)) {
    const said = text(read(read(error, 'error'), 'message'));
    const status = read(error, 'status');
    return safeText([typeof status === 'number' ? status : '', said ?? ''].join(' ').trim()) || undefined;
  }
  const message = text(read(error, 'message'));
  return message ? safeText(message) : undefined;
}

function safeText(message: string): string | undefined {
  if (SQL_STATEMENT.test(message)) return '[withheld: contains an SQL statement]';
  return maskTokens(message).slice(0, MAX_TEXT);
}

/**
 * A PostgreSQL error (node-postgres) or one MikroORM made of it: the message holds the statement
 * and its values, and the detail the conflicting values.
 */
function isDatabaseError(error: Record<string, unknown>): boolean {
  if (typeof read(error, 'sqlState') === 'string') return true;
  if (typeof read(error, 'severity') === 'string' && typeof read(error, 'routine') === 'string') return true;
  return hasAncestor(error, 'DriverException') || hasAncestor(error, 'DatabaseError');
}

function isOpenAIApiError(error: Record<string, unknown>): boolean {
  return hasAncestor(error, 'APIError') && 'headers' in error && 'error' in error;
}

/** Frames only, without the message that heads a stack (and may run over several lines). */
function framesOf(stack: unknown): string | undefined {
  if (typeof stack !== 'string') return undefined;
  const frames = stack
    .split('\n')
    .filter((line) => FRAME.test(line))
    .slice(0, MAX_FRAMES)
    .map((line) => maskTokens(line.trim()));
  return frames.length ? frames.join('\n') : undefined;
}

function typeName(error: object): string {
  const ctor = read(error, 'constructor');
  const name = typeof ctor === 'function' ? (ctor as { name?: unknown }).name : undefined;
  return typeof name === 'string' && name ? name : 'Object';
}

function hasAncestor(error: object, className: string): boolean {
  let proto: unknown = Object.getPrototypeOf(error);
  for (let i = 0; proto && i < 10; i++) {
    if (typeName(proto) === className) return true;
    proto = Object.getPrototypeOf(proto);
  }
  return false;
}

/** A property read that survives throwing getters and proxies. */
function read(from: unknown, key: string): unknown {
  if (from === null || (typeof from !== 'object' && typeof from !== 'function')) return undefined;
  try {
    return (from as Record<string, unknown>)[key];
  } catch {
    return undefined;
  }
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value ? value : undefined;
}
