// The REST half of the fake Discord (API v10): the routes discord.js uses for this bot, answered
// from the fake's state. Unknown routes answer 404 and are recorded, so a missing route shows up.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { apiUser, dmChannel, snowflake } from './payloads.js';
import type { FakeDiscord } from './server.js';

const JSON_HEADERS = { 'content-type': 'application/json' };

export async function handleRest(fake: FakeDiscord, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const path = decodeURIComponent(url.pathname).replace(/^\/api\/v10/, '');
  const method = req.method ?? 'GET';
  const { body, files } = await readBody(req);
  fake.requests.push({ method, path, at: Date.now(), body });

  const failure = fake.failures.find((f) => f.remaining > 0 && f.match.test(`${method} ${path}`));
  if (failure) {
    failure.remaining -= 1;
    const headers: Record<string, string> = { ...JSON_HEADERS };
    if (failure.status === 429) {
      Object.assign(headers, { 'retry-after': String(failure.retryAfter), 'x-ratelimit-scope': 'user' });
      return send(res, 429, { message: 'You are being rate limited.', retry_after: failure.retryAfter, global: false, code: 0 }, headers);
    }
    return send(res, failure.status, { message: 'Injected failure', code: 0 }, headers);
  }

  const needsAuth = !path.startsWith('/interactions/') && !path.startsWith('/webhooks/');
  // A reset token is refused with 401 on every authenticated route
  // (https://discord.com/developers/docs/topics/opcodes-and-status-codes#http-http-response-codes).
  if (needsAuth && (fake.tokenReset || req.headers.authorization !== `Bot ${fake.token}`)) {
    return send(res, 401, { message: '401: Unauthorized', code: 0 });
  }

  // A person who blocked the bot (or shares no server with it any more): Discord answers every message
  // the bot tries to create or edit in their DM, and its typing indicator, with 403 and JSON error
  // code 50007 "Cannot send messages to this user"
  // (https://discord.com/developers/docs/topics/opcodes-and-status-codes#json-json-error-codes).
  const blockedChannel = /^\/channels\/(\d+)\/(messages|typing)/.exec(path)?.[1];
  if (method !== 'GET' && blockedChannel && fake.blocked.has(blockedChannel)) {
    fake.refused.push({ method, path, code: 50007, at: Date.now() });
    return send(res, 403, { message: 'Cannot send messages to this user', code: 50007 });
  }

  // Discord refuses content over 2000 characters with "Invalid Form Body"; so does the fake, and it remembers.
  if ((method === 'POST' || method === 'PATCH') && typeof body?.content === 'string' && body.content.length > 2000) {
    fake.violations.push(`${method} ${path}: content of ${body.content.length} characters`);
    return send(res, 400, { message: 'Invalid Form Body', code: 50035, errors: { content: { _errors: [{ code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 2000 or fewer in length.' }] } } });
  }

  // A file over the upload limit is refused with 413 and JSON code 40005 "Request entity too large"
  // (https://discord.com/developers/docs/topics/opcodes-and-status-codes#json-json-error-codes); the
  // limit "applies to each file in a request" and is the interaction's `attachment_size_limit`
  // (https://discord.com/developers/docs/reference#uploading-files). The fake remembers each refusal.
  const oversized = files.find((f) => f.content.length > fake.attachmentSizeLimit);
  if (oversized) {
    fake.violations.push(`${method} ${path}: file ${oversized.filename} of ${oversized.content.length} bytes over the ${fake.attachmentSizeLimit}-byte limit`);
    return send(res, 413, { message: 'Request entity too large', code: 40005 });
  }
  const m = (re: RegExp) => re.exec(path);
  let match: RegExpExecArray | null;
  const rate = { 'x-ratelimit-limit': '5', 'x-ratelimit-remaining': '4', 'x-ratelimit-reset-after': '1', 'x-ratelimit-bucket': 'fake' };

  if (method === 'GET' && (path === '/gateway/bot' || path === '/gateway')) {
    return send(res, 200, {
      url: fake.gatewayUrl,
      shards: fake.gateway.recommendedShards,
      session_start_limit: {
        total: fake.gateway.sessionStartTotal,
        remaining: fake.gateway.sessionStartTotal - fake.gateway.sessionStartsUsed,
        reset_after: fake.gateway.sessionStartResetAfterMs,
        max_concurrency: fake.gateway.maxConcurrency,
      },
    });
  }
  if (method === 'GET' && (path === '/applications/@me' || path === '/oauth2/applications/@me')) {
    return send(res, 200, { id: fake.applicationId, name: fake.bot.username, bot_public: true, bot_require_code_grant: false, flags: 0, icon: null, description: '', verify_key: 'fake' });
  }
  if (method === 'GET' && path === '/users/@me') return send(res, 200, apiUser(fake.bot));
  if ((match = m(/^\/applications\/(\d+)\/commands$/))) {
    if (method === 'PUT') {
      fake.commands.splice(0, fake.commands.length, ...(body as any[]).map((c) => ({ ...c, id: snowflake(), application_id: match![1], version: snowflake() })));
      fake.changed();
      return send(res, 200, fake.commands, rate);
    }
    if (method === 'GET') return send(res, 200, fake.commands);
  }
  if (method === 'POST' && path === '/users/@me/channels') {
    const user = fake.users.get(body?.recipient_id);
    if (!user) return send(res, 400, { message: 'Unknown user', code: 10013 });
    return send(res, 200, dmChannel(user.dmChannelId, user));
  }
  if ((match = m(/^\/channels\/(\d+)$/)) && method === 'GET') {
    const user = [...fake.users.values()].find((u) => u.dmChannelId === match![1]);
    if (user) return send(res, 200, dmChannel(user.dmChannelId, user));
    const channel = fake.guildChannels.get(match[1]!);
    return channel ? send(res, 200, channel) : send(res, 404, { message: 'Unknown Channel', code: 10003 });
  }
  if ((match = m(/^\/channels\/(\d+)\/messages\/(\d+)\/threads$/)) && method === 'POST') {
    const parent = fake.guildChannels.get(match[1]!);
    if (!parent || parent.type !== 0) return send(res, 400, { message: 'Cannot execute action on this channel type', code: 50024 });
    const thread = {
      id: match[2]!, // Discord gives a thread started from a message the message's id
      type: 11,
      guild_id: parent.guild_id,
      parent_id: parent.id,
      owner_id: fake.bot.id,
      name: String(body?.name ?? 'thread'),
      last_message_id: null,
      rate_limit_per_user: 0,
      message_count: 0,
      member_count: 1,
      total_message_sent: 0,
      flags: 0,
      thread_metadata: { archived: false, auto_archive_duration: body?.auto_archive_duration ?? 1440, archive_timestamp: new Date().toISOString(), locked: false, create_timestamp: new Date().toISOString() },
    };
    fake.guildChannels.set(thread.id, thread);
    fake.threads.push(thread);
    fake.gateway.dispatch('THREAD_CREATE', { ...thread, newly_created: true });
    fake.changed();
    return send(res, 201, thread);
  }
  if ((match = m(/^\/channels\/(\d+)\/typing$/)) && method === 'POST') {
    fake.typing.set(match[1]!, (fake.typing.get(match[1]!) ?? 0) + 1);
    res.writeHead(204).end();
    return;
  }
  if ((match = m(/^\/channels\/(\d+)\/messages$/)) && method === 'GET') {
    if (!fake.isDmChannel(match[1]!) && !fake.guildChannels.has(match[1]!)) return send(res, 404, { message: 'Unknown Channel', code: 10003 });
    // limit: 1-100, default 50. https://discord.com/developers/docs/resources/message#get-channel-messages
    const limit = Math.min(100, Math.max(1, Number(url.searchParams.get('limit') ?? 50)));
    fake.historyReads += 1;
    return send(res, 200, fake.channelMessages(match[1]!, url.searchParams.get('after'), limit), rate);
  }
  if ((match = m(/^\/channels\/(\d+)\/messages$/)) && method === 'POST') {
    if (!fake.isDmChannel(match[1]!) && !fake.guildChannels.has(match[1]!)) return send(res, 404, { message: 'Unknown Channel', code: 10003 });
    const message = fake.store({ channelId: match[1]!, body, files });
    return send(res, 200, fake.toApiMessage(message), rate);
  }
  if ((match = m(/^\/channels\/(\d+)\/messages\/(\d+)$/))) {
    // A person's message read back (the bot refreshing an expired attachment link): fresh links, as Discord gives.
    const sent = method === 'GET' ? fake.userMessage(match[1]!, match[2]!) : undefined;
    if (sent) return send(res, 200, sent);
    const message = fake.messages.get(match[2]!);
    if (!message || message.deleted) return send(res, 404, { message: 'Unknown Message', code: 10008 });
    if (method === 'GET') return send(res, 200, fake.toApiMessage(message));
    if (method === 'PATCH') return send(res, 200, fake.toApiMessage(fake.edit(message, body, files)), rate);
    if (method === 'DELETE') {
      message.deleted = true;
      fake.changed();
      res.writeHead(204).end();
      return;
    }
  }
  if ((match = m(/^\/interactions\/(\d+)\/([^/]+)\/callback$/)) && method === 'POST') {
    return interactionCallback(fake, res, match[1]!, match[2]!, body, files, url.searchParams.get('with_response') === 'true');
  }
  if ((match = m(/^\/webhooks\/(\d+)\/([^/]+)\/messages\/([^/]+)$/))) {
    const record = fake.interactions.get(match[2]!);
    if (!record) return send(res, 404, { message: 'Unknown Webhook', code: 10015 });
    const id = match[3] === '@original' ? record.originalMessageId : match[3]!;
    const message = id ? fake.messages.get(id) : undefined;
    if (!message) return send(res, 404, { message: 'Unknown Message', code: 10008 });
    if (method === 'GET') return send(res, 200, fake.toApiMessage(message));
    if (method === 'PATCH') return send(res, 200, fake.toApiMessage(fake.edit(message, body, files)));
    if (method === 'DELETE') {
      message.deleted = true;
      fake.changed();
      res.writeHead(204).end();
      return;
    }
  }
  if ((match = m(/^\/webhooks\/(\d+)\/([^/]+)$/)) && method === 'POST') {
    const record = fake.interactions.get(match[2]!);
    if (!record) return send(res, 404, { message: 'Unknown Webhook', code: 10015 });
    if (record.responseType === null) return send(res, 400, { message: 'Interaction has not been acknowledged', code: 40060 });
    const message = fake.store({ channelId: record.channelId, body, files, interactionId: record.id });
    record.followUps.push(message.id);
    fake.changed();
    return send(res, 200, fake.toApiMessage(message));
  }

  fake.unknownRoutes.push(`${method} ${path}`);
  fake.log(`fake discord: unknown route ${method} ${path}`);
  send(res, 404, { message: '404: Not Found', code: 0 });
}

function interactionCallback(fake: FakeDiscord, res: ServerResponse, id: string, token: string, body: any, files: Attachment[], withResponse: boolean): void {
  const record = fake.interactions.get(token);
  if (!record || record.id !== id) return send(res, 404, { message: 'Unknown interaction', code: 10062 });
  if (record.responseType !== null) {
    return send(res, 400, { message: 'Interaction has already been acknowledged.', code: 40060 });
  }
  // Discord: "you must send an initial response within 3 seconds of receiving the event. If the 3
  // second deadline is exceeded, the token will be invalidated"
  // (https://discord.com/developers/docs/interactions/receiving-and-responding#interaction-callback);
  // the callback then answers 404 with JSON code 10062 "Unknown interaction"
  // (https://discord.com/developers/docs/topics/opcodes-and-status-codes#json-json-error-codes).
  // The interaction's id is a snowflake that holds when it was created.
  if (Date.now() - snowflakeTime(id) > INITIAL_RESPONSE_WINDOW_MS) return send(res, 404, { message: 'Unknown interaction', code: 10062 });
  const type = body?.type as number;
  record.responseType = type;
  if (type === 4 || type === 5) {
    // A new response message; a deferred one shows "thinking…" until @original is edited.
    const message = fake.store({
      channelId: record.channelId,
      body: type === 4 ? body.data : { content: '', flags: body.data?.flags ?? 0 },
      files,
      interactionId: record.id,
    });
    record.originalMessageId = message.id;
  } else if (type === 7 && record.originalMessageId) {
    fake.edit(fake.messages.get(record.originalMessageId)!, body.data, files);
  } else if (type !== 6) {
    fake.log(`fake discord: unsupported interaction callback type ${type}`);
  }
  // Type 6 DEFERRED_UPDATE_MESSAGE: "for components, ACK an interaction and edit the original message
  // later; the user does not see a loading state"
  // (https://discord.com/developers/docs/interactions/receiving-and-responding#interaction-response-object-interaction-callback-type):
  // the message stays as it is, so the fake only records the response type.
  record.markResponded();
  fake.changed();
  if (!withResponse) {
    res.writeHead(204).end();
    return;
  }
  const original = record.originalMessageId ? fake.messages.get(record.originalMessageId) : undefined;
  send(res, 200, {
    interaction: { id: record.id, type: type === 6 || type === 7 ? 3 : 2, activity_instance_id: null, response_message_id: original?.id ?? null, response_message_loading: type === 5, response_message_ephemeral: Boolean((original?.flags ?? 0) & 64) },
    resource: original ? { type, message: fake.toApiMessage(original) } : { type },
  });
}


export interface Attachment {
  filename: string;
  content: Buffer;
}

/** Reads a JSON or multipart/form-data body (discord.js sends files as multipart with `payload_json`). */
export async function readBody(req: IncomingMessage): Promise<{ body: any; files: Attachment[] }> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks);
  const type = req.headers['content-type'] ?? '';
  if (!raw.length) return { body: undefined, files: [] };
  if (type.startsWith('multipart/form-data')) {
    const form = await new Response(raw, { headers: { 'content-type': type } }).formData();
    const files: Attachment[] = [];
    let body: any = {};
    for (const [key, value] of form.entries()) {
      if (key === 'payload_json') body = JSON.parse(typeof value === 'string' ? value : '{}');
      else if (typeof value !== 'string') files.push({ filename: value.name, content: Buffer.from(await value.arrayBuffer()) });
    }
    return { body, files };
  }
  try {
    return { body: JSON.parse(raw.toString('utf8')), files: [] };
  } catch {
    return { body: raw.toString('utf8'), files: [] };
  }
}

export function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...JSON_HEADERS, ...headers });
  res.end(JSON.stringify(body));
}

const INITIAL_RESPONSE_WINDOW_MS = 3000;
const DISCORD_EPOCH_MS = 1_420_070_400_000;

/** When a snowflake was made: "milliseconds since Discord Epoch" in its top 42 bits (https://discord.com/developers/docs/reference#snowflakes). */
function snowflakeTime(id: string): number {
  return Number(BigInt(id) >> 22n) + DISCORD_EPOCH_MS;
}
