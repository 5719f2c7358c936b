// A fake Discord (API v10) on 127.0.0.1 that the real discord.js client talks to through
// `rest.api` (DISCORD_API_URL): REST routes the bot uses, the gateway (gateway.ts), and a control
// API with which a test acts as Discord users and reads what the bot sent.
// Simplifications, on purpose: no guilds unless a test adds none (DMs only); rate-limit headers are
// sent but a 429 is only returned when a test asks for one; attachments are kept as their metadata
// and bytes without a CDN.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FakeGateway } from './gateway.js';
import { apiMessage, apiUser, dmChannel, snowflake, type FakeUserInit } from './payloads.js';

export interface SentMessage {
  id: string;
  channelId: string;
  content: string;
  embeds: any[];
  components: any[];
  flags: number;
  attachments: { filename: string; content: Buffer }[];
  /** Every content the message had, in order (the first is the original, then each edit). */
  revisions: string[];
  editedAt: number[];
  createdAt: number;
  deleted: boolean;
  fromBot: boolean;
  interactionId?: string;
  allowedMentions?: unknown;
}

export interface RecordedRequest {
  method: string;
  path: string;
  at: number;
  body: any;
}

interface InteractionRecord {
  id: string;
  token: string;
  user: FakeUser;
  channelId: string;
  /** The callback type of the first response, once there is one (4 reply, 5 defer, 6 deferUpdate, 7 update). */
  responseType: number | null;
  /** The message @original refers to. */
  originalMessageId: string | null;
  followUps: string[];
  responded: Promise<void>;
  markResponded: () => void;
}

export interface FakeUser extends FakeUserInit {
  locale: string;
  dmChannelId: string;
}

const JSON_HEADERS = { 'content-type': 'application/json' };

export class FakeDiscord {
  readonly token = 'fake.discord.token-for-tests-only';
  readonly bot: FakeUserInit = { id: snowflake(), username: 'GPT Bot', bot: true };
  readonly applicationId = this.bot.id;
  readonly requests: RecordedRequest[] = [];
  readonly unknownRoutes: string[] = [];
  /** Requests Discord would have refused (e.g. content over 2000 characters). */
  readonly violations: string[] = [];
  readonly messages = new Map<string, SentMessage>();
  readonly commands: any[] = [];
  typing = new Map<string, number>();
  private readonly users = new Map<string, FakeUser>();
  /** Guild text channels and threads (id → channel payload). */
  private readonly guildChannels = new Map<string, any>();
  readonly threads: any[] = [];
  private readonly interactions = new Map<string, InteractionRecord>();
  private readonly server: Server;
  private readonly gateway: FakeGateway;
  private failures: { match: RegExp; status: number; remaining: number; retryAfter: number }[] = [];
  private readonly listeners = new Set<() => void>();
  port = 0;

  constructor(private readonly log: (line: string) => void = () => {}) {
    this.gateway = new FakeGateway({
      token: this.token,
      bot: this.bot,
      applicationId: this.applicationId,
      resumeUrl: () => this.gatewayUrl,
      log,
    });
    this.server = createServer((req, res) => void this.route(req, res));
    this.server.on('upgrade', (req, socket, head) => {
      if (req.url?.startsWith('/gateway')) this.gateway.handleUpgrade(req, socket, head);
      else socket.destroy();
    });
  }

  async start(port = 0): Promise<this> {
    this.server.listen(port, '127.0.0.1');
    await once(this.server, 'listening');
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    this.gateway.close();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  /** What the bot gets as DISCORD_API_URL (discord.js appends /v10). */
  get apiUrl(): string {
    return `http://127.0.0.1:${this.port}/api`;
  }

  get gatewayUrl(): string {
    return `ws://127.0.0.1:${this.port}/gateway`;
  }

  get connectedSessions(): number {
    return this.gateway.connected;
  }

  get gatewayStats() {
    return { identifies: this.gateway.identifies, resumes: this.gateway.resumes };
  }

  dropGatewayConnections(code?: number): void {
    this.gateway.dropConnections(code);
  }

  // ---- control API: act as a Discord user ---------------------------------------------------

  user(username: string, locale = 'en-US'): FakeUser {
    const user: FakeUser = { id: snowflake(), username, locale, dmChannelId: snowflake() };
    this.users.set(user.id, user);
    return user;
  }

  /** The user sends the bot a DM. Returns the Discord message (its id is the one the bot must store). */
  sendDm(user: FakeUser, content: string, extra: { attachments?: unknown[]; stickerItems?: unknown[]; author?: FakeUserInit } = {}) {
    const message = apiMessage({
      channelId: user.dmChannelId,
      author: extra.author ?? user,
      content,
      ...(extra.attachments ? { attachments: extra.attachments } : {}),
      ...(extra.stickerItems ? { stickerItems: extra.stickerItems } : {}),
    });
    // The gateway's MESSAGE_CREATE carries `channel_type`; discord.js needs it to build an uncached DM channel.
    this.gateway.dispatch('MESSAGE_CREATE', { ...message, channel_type: 1 });
    return message;
  }

  /**
   * The bot joins a server with one text channel (GUILD_CREATE, as Discord sends when a bot is added).
   * Simplification: no roles beyond @everyone and no permission checks.
   */
  createGuild(name = 'Test server'): { guildId: string; channelId: string } {
    const guildId = snowflake();
    const channelId = snowflake();
    const channel = { id: channelId, type: 0, guild_id: guildId, name: 'general', position: 0, permission_overwrites: [], parent_id: null, nsfw: false, topic: null, rate_limit_per_user: 0, last_message_id: null, flags: 0 };
    this.guildChannels.set(channelId, channel);
    this.gateway.dispatch('GUILD_CREATE', {
      id: guildId,
      name,
      icon: null,
      owner_id: snowflake(),
      joined_at: new Date().toISOString(),
      large: false,
      unavailable: false,
      member_count: 2,
      roles: [{ id: guildId, name: '@everyone', permissions: '2248473465835073', position: 0, color: 0, hoist: false, managed: false, mentionable: false, flags: 0 }],
      emojis: [],
      stickers: [],
      features: [],
      members: [{ user: apiUser(this.bot), roles: [], joined_at: new Date().toISOString(), deaf: false, mute: false, flags: 0 }],
      channels: [channel],
      threads: [],
      presences: [],
      voice_states: [],
      stage_instances: [],
      guild_scheduled_events: [],
      afk_timeout: 300,
      verification_level: 0,
      default_message_notifications: 0,
      explicit_content_filter: 0,
      mfa_level: 0,
      system_channel_flags: 0,
      premium_tier: 0,
      preferred_locale: 'en-US',
      nsfw_level: 0,
      premium_progress_bar_enabled: false,
    });
    return { guildId, channelId };
  }

  /**
   * The user posts in a server channel or thread, optionally mentioning the bot. Like Discord, the
   * gateway blanks the content of guild messages that do not mention the bot unless the session
   * asked for the privileged Message Content intent (see gateway.ts).
   */
  sendGuildMessage(user: FakeUser, channelId: string, content: string, { mentionBot = true } = {}) {
    const channel = this.guildChannels.get(channelId);
    if (!channel) throw new Error(`No guild channel ${channelId}`);
    const text = mentionBot ? `<@${this.bot.id}> ${content}` : content;
    const message = {
      ...apiMessage({ channelId, author: user, content: text }),
      guild_id: channel.guild_id,
      member: { roles: [], joined_at: new Date().toISOString(), deaf: false, mute: false, flags: 0 },
      mentions: mentionBot ? [apiUser(this.bot)] : [],
    };
    this.gateway.dispatch('MESSAGE_CREATE', { ...message, channel_type: channel.type });
    return message;
  }

  /** Messages the bot sent into a guild channel or thread, oldest first. */
  botMessagesIn(channelId: string): SentMessage[] {
    return [...this.messages.values()].filter((m) => m.channelId === channelId && m.fromBot && !m.deleted);
  }

  /** Re-sends a dispatch, as a resumed gateway session may. */
  replay(t: string, d: unknown): void {
    this.gateway.dispatch(t, d);
  }

  /** The user runs a slash command in their DM with the bot. */
  runCommand(user: FakeUser, name: string, options: { name: string; type: number; value: unknown }[] = []) {
    const command = this.commands.find((c) => c.name === name);
    return this.dispatchInteraction(user, {
      type: 2,
      data: { id: command?.id ?? snowflake(), name, type: 1, ...(options.length ? { options } : {}) },
    });
  }

  /** Runs a slash command and waits for its first visible reply (a deferred reply counts once edited). */
  commandReply(user: FakeUser, name: string, options: { name: string; type: number; value: unknown }[] = []): Promise<SentMessage> {
    const run = this.runCommand(user, name, options);
    return this.waitFor(() => {
      const original = run.response().original;
      return original && (original.content || original.embeds.length || original.attachments.length) ? original : null;
    }, 10_000, `/${name} reply`);
  }

  /** The user clicks a button on a message the bot sent. */
  clickButton(user: FakeUser, messageId: string, customId: string) {
    const message = this.messages.get(messageId);
    if (!message) throw new Error(`No message ${messageId}`);
    return this.dispatchInteraction(user, {
      type: 3,
      data: { custom_id: customId, component_type: 2 },
      message: this.toApiMessage(message),
    });
  }

  private dispatchInteraction(user: FakeUser, body: Record<string, unknown>) {
    let markResponded!: () => void;
    const responded = new Promise<void>((resolve) => (markResponded = resolve));
    const record: InteractionRecord = {
      id: snowflake(),
      token: `itoken-${snowflake()}`,
      user,
      channelId: user.dmChannelId,
      responseType: null,
      originalMessageId: body.type === 3 ? (body.message as { id: string }).id : null,
      followUps: [],
      responded,
      markResponded,
    };
    this.interactions.set(record.token, record);
    this.gateway.dispatch('INTERACTION_CREATE', {
      id: record.id,
      application_id: this.applicationId,
      token: record.token,
      version: 1,
      channel_id: user.dmChannelId,
      channel: dmChannel(user.dmChannelId, user),
      user: apiUser(user),
      locale: user.locale,
      app_permissions: '0',
      entitlements: [],
      authorizing_integration_owners: { '1': user.id },
      context: 1,
      attachment_size_limit: 10_485_760,
      ...body,
    });
    return {
      id: record.id,
      /** Resolves once the bot has sent its first response to this interaction. */
      responded: () => withTimeout(record.responded, 10_000, `interaction ${record.id} was not answered`),
      response: () => this.interactionView(record),
    };
  }

  private interactionView(record: InteractionRecord) {
    const original = record.originalMessageId ? this.messages.get(record.originalMessageId) : undefined;
    return {
      type: record.responseType,
      original,
      followUps: record.followUps.map((id) => this.messages.get(id)!),
    };
  }

  // ---- control API: read what the bot sent ---------------------------------------------------

  /** Messages the bot sent into a user's DM channel (not interaction responses), oldest first. */
  botMessagesTo(user: FakeUser): SentMessage[] {
    return [...this.messages.values()].filter((m) => m.channelId === user.dmChannelId && m.fromBot && !m.interactionId && !m.deleted);
  }

  /** Waits until `check` returns something truthy, re-checking whenever the bot sends or edits anything. */
  async waitFor<T>(check: () => T | undefined | null | false, timeoutMs = 10_000, what = 'condition'): Promise<T> {
    const found = check();
    if (found) return found;
    return withTimeout(
      new Promise<T>((resolve) => {
        // Re-checked on every change the bot makes, and every 50 ms for state outside REST (the gateway).
        const poll = setInterval(() => listener(), 50);
        const listener = () => {
          const value = check();
          if (value) {
            this.listeners.delete(listener);
            clearInterval(poll);
            resolve(value);
          }
        };
        this.listeners.add(listener);
      }),
      timeoutMs,
      `timed out waiting for ${what}`,
    );
  }

  /** Waits for `count` bot messages in the user's DM (counting from `after`). */
  waitForBotMessages(user: FakeUser, count: number, after = 0, timeoutMs = 10_000): Promise<SentMessage[]> {
    return this.waitFor(
      () => {
        const all = this.botMessagesTo(user).slice(after);
        return all.length >= count ? all : null;
      },
      timeoutMs,
      `${count} bot message(s) to ${user.username}`,
    );
  }

  /** Calls `listener` whenever the bot sends, edits or deletes something. Returns an unsubscribe function. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Makes the next `times` requests whose "METHOD path" matches `match` fail with `status`. */
  failNext(match: RegExp, status: number, times = 1, retryAfter = 0.05): void {
    this.failures.push({ match, status, remaining: times, retryAfter });
  }

  private changed(): void {
    for (const listener of [...this.listeners]) listener();
  }

  // ---- REST ----------------------------------------------------------------------------------

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      await this.handle(req, res);
    } catch (error) {
      this.log(`fake discord: handler error ${(error as Error).stack}`);
      if (!res.headersSent) send(res, 500, { message: 'Internal Server Error', code: 0 });
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = decodeURIComponent(url.pathname).replace(/^\/api\/v10/, '');
    const method = req.method ?? 'GET';
    const { body, files } = await readBody(req);
    this.requests.push({ method, path, at: Date.now(), body });

    const failure = this.failures.find((f) => f.remaining > 0 && f.match.test(`${method} ${path}`));
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
    if (needsAuth && req.headers.authorization !== `Bot ${this.token}`) {
      return send(res, 401, { message: '401: Unauthorized', code: 0 });
    }

    // Discord refuses content over 2000 characters with "Invalid Form Body"; so does the fake, and it remembers.
    if ((method === 'POST' || method === 'PATCH') && typeof body?.content === 'string' && body.content.length > 2000) {
      this.violations.push(`${method} ${path}: content of ${body.content.length} characters`);
      return send(res, 400, { message: 'Invalid Form Body', code: 50035, errors: { content: { _errors: [{ code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 2000 or fewer in length.' }] } } });
    }
    const m = (re: RegExp) => re.exec(path);
    let match: RegExpExecArray | null;
    const rate = { 'x-ratelimit-limit': '5', 'x-ratelimit-remaining': '4', 'x-ratelimit-reset-after': '1', 'x-ratelimit-bucket': 'fake' };

    if (method === 'GET' && (path === '/gateway/bot' || path === '/gateway')) {
      return send(res, 200, {
        url: this.gatewayUrl,
        shards: 1,
        session_start_limit: { total: 1000, remaining: 999, reset_after: 0, max_concurrency: 1 },
      });
    }
    if (method === 'GET' && (path === '/applications/@me' || path === '/oauth2/applications/@me')) {
      return send(res, 200, { id: this.applicationId, name: this.bot.username, bot_public: true, bot_require_code_grant: false, flags: 0, icon: null, description: '', verify_key: 'fake' });
    }
    if (method === 'GET' && path === '/users/@me') return send(res, 200, apiUser(this.bot));
    if ((match = m(/^\/applications\/(\d+)\/commands$/))) {
      if (method === 'PUT') {
        this.commands.splice(0, this.commands.length, ...(body as any[]).map((c) => ({ ...c, id: snowflake(), application_id: match![1], version: snowflake() })));
        this.changed();
        return send(res, 200, this.commands, rate);
      }
      if (method === 'GET') return send(res, 200, this.commands);
    }
    if (method === 'POST' && path === '/users/@me/channels') {
      const user = this.users.get(body?.recipient_id);
      if (!user) return send(res, 400, { message: 'Unknown user', code: 10013 });
      return send(res, 200, dmChannel(user.dmChannelId, user));
    }
    if ((match = m(/^\/channels\/(\d+)$/)) && method === 'GET') {
      const user = [...this.users.values()].find((u) => u.dmChannelId === match![1]);
      if (user) return send(res, 200, dmChannel(user.dmChannelId, user));
      const channel = this.guildChannels.get(match[1]!);
      return channel ? send(res, 200, channel) : send(res, 404, { message: 'Unknown Channel', code: 10003 });
    }
    if ((match = m(/^\/channels\/(\d+)\/messages\/(\d+)\/threads$/)) && method === 'POST') {
      const parent = this.guildChannels.get(match[1]!);
      if (!parent || parent.type !== 0) return send(res, 400, { message: 'Cannot execute action on this channel type', code: 50024 });
      const thread = {
        id: match[2]!, // Discord gives a thread started from a message the message's id
        type: 11,
        guild_id: parent.guild_id,
        parent_id: parent.id,
        owner_id: this.bot.id,
        name: String(body?.name ?? 'thread'),
        last_message_id: null,
        rate_limit_per_user: 0,
        message_count: 0,
        member_count: 1,
        total_message_sent: 0,
        flags: 0,
        thread_metadata: { archived: false, auto_archive_duration: body?.auto_archive_duration ?? 1440, archive_timestamp: new Date().toISOString(), locked: false, create_timestamp: new Date().toISOString() },
      };
      this.guildChannels.set(thread.id, thread);
      this.threads.push(thread);
      this.gateway.dispatch('THREAD_CREATE', { ...thread, newly_created: true });
      this.changed();
      return send(res, 201, thread);
    }
    if ((match = m(/^\/channels\/(\d+)\/typing$/)) && method === 'POST') {
      this.typing.set(match[1]!, (this.typing.get(match[1]!) ?? 0) + 1);
      res.writeHead(204).end();
      return;
    }
    if ((match = m(/^\/channels\/(\d+)\/messages$/)) && method === 'POST') {
      if (!this.isDmChannel(match[1]!) && !this.guildChannels.has(match[1]!)) return send(res, 404, { message: 'Unknown Channel', code: 10003 });
      const message = this.store({ channelId: match[1]!, body, files });
      return send(res, 200, this.toApiMessage(message), rate);
    }
    if ((match = m(/^\/channels\/(\d+)\/messages\/(\d+)$/))) {
      const message = this.messages.get(match[2]!);
      if (!message || message.deleted) return send(res, 404, { message: 'Unknown Message', code: 10008 });
      if (method === 'GET') return send(res, 200, this.toApiMessage(message));
      if (method === 'PATCH') return send(res, 200, this.toApiMessage(this.edit(message, body, files)), rate);
      if (method === 'DELETE') {
        message.deleted = true;
        this.changed();
        res.writeHead(204).end();
        return;
      }
    }
    if ((match = m(/^\/interactions\/(\d+)\/([^/]+)\/callback$/)) && method === 'POST') {
      return this.interactionCallback(res, match[1]!, match[2]!, body, files, url.searchParams.get('with_response') === 'true');
    }
    if ((match = m(/^\/webhooks\/(\d+)\/([^/]+)\/messages\/([^/]+)$/))) {
      const record = this.interactions.get(match[2]!);
      if (!record) return send(res, 404, { message: 'Unknown Webhook', code: 10015 });
      const id = match[3] === '@original' ? record.originalMessageId : match[3]!;
      const message = id ? this.messages.get(id) : undefined;
      if (!message) return send(res, 404, { message: 'Unknown Message', code: 10008 });
      if (method === 'GET') return send(res, 200, this.toApiMessage(message));
      if (method === 'PATCH') return send(res, 200, this.toApiMessage(this.edit(message, body, files)));
      if (method === 'DELETE') {
        message.deleted = true;
        this.changed();
        res.writeHead(204).end();
        return;
      }
    }
    if ((match = m(/^\/webhooks\/(\d+)\/([^/]+)$/)) && method === 'POST') {
      const record = this.interactions.get(match[2]!);
      if (!record) return send(res, 404, { message: 'Unknown Webhook', code: 10015 });
      if (record.responseType === null) return send(res, 400, { message: 'Interaction has not been acknowledged', code: 40060 });
      const message = this.store({ channelId: record.channelId, body, files, interactionId: record.id });
      record.followUps.push(message.id);
      this.changed();
      return send(res, 200, this.toApiMessage(message));
    }

    this.unknownRoutes.push(`${method} ${path}`);
    this.log(`fake discord: unknown route ${method} ${path}`);
    send(res, 404, { message: '404: Not Found', code: 0 });
  }

  private interactionCallback(res: ServerResponse, id: string, token: string, body: any, files: Attachment[], withResponse: boolean): void {
    const record = this.interactions.get(token);
    if (!record || record.id !== id) return send(res, 404, { message: 'Unknown interaction', code: 10062 });
    if (record.responseType !== null) {
      return send(res, 400, { message: 'Interaction has already been acknowledged.', code: 40060 });
    }
    const type = body?.type as number;
    record.responseType = type;
    if (type === 4 || type === 5) {
      // A new response message; a deferred one shows "thinking…" until @original is edited.
      const message = this.store({
        channelId: record.channelId,
        body: type === 4 ? body.data : { content: '', flags: body.data?.flags ?? 0 },
        files,
        interactionId: record.id,
      });
      record.originalMessageId = message.id;
    } else if (type === 7 && record.originalMessageId) {
      this.edit(this.messages.get(record.originalMessageId)!, body.data, files);
    } else if (type !== 6) {
      this.log(`fake discord: unsupported interaction callback type ${type}`);
    }
    record.markResponded();
    this.changed();
    if (!withResponse) {
      res.writeHead(204).end();
      return;
    }
    const original = record.originalMessageId ? this.messages.get(record.originalMessageId) : undefined;
    send(res, 200, {
      interaction: { id: record.id, type: type === 6 || type === 7 ? 3 : 2, activity_instance_id: null, response_message_id: original?.id ?? null, response_message_loading: type === 5, response_message_ephemeral: Boolean((original?.flags ?? 0) & 64) },
      resource: original ? { type, message: this.toApiMessage(original) } : { type },
    });
  }

  private isDmChannel(channelId: string): boolean {
    return [...this.users.values()].some((u) => u.dmChannelId === channelId);
  }

  private store({ channelId, body, files, interactionId }: { channelId: string; body: any; files: Attachment[]; interactionId?: string }): SentMessage {
    const content = String(body?.content ?? '');
    const message: SentMessage = {
      id: snowflake(),
      channelId,
      content,
      embeds: body?.embeds ?? [],
      components: body?.components ?? [],
      flags: body?.flags ?? 0,
      attachments: files.map((f) => ({ filename: f.filename, content: f.content })),
      revisions: [content],
      editedAt: [],
      createdAt: Date.now(),
      deleted: false,
      fromBot: true,
      allowedMentions: body?.allowed_mentions,
      ...(interactionId ? { interactionId } : {}),
    };
    this.messages.set(message.id, message);
    this.changed();
    return message;
  }

  private edit(message: SentMessage, body: any, files: Attachment[]): SentMessage {
    if (body && 'content' in body && body.content !== null) {
      message.content = String(body.content);
      message.revisions.push(message.content);
    }
    if (body?.embeds) message.embeds = body.embeds;
    if (body?.components) message.components = body.components;
    if (files.length) message.attachments = files.map((f) => ({ filename: f.filename, content: f.content }));
    message.editedAt.push(Date.now());
    this.changed();
    return message;
  }

  private toApiMessage(message: SentMessage) {
    const api = apiMessage({
      id: message.id,
      channelId: message.channelId,
      author: this.bot,
      content: message.content,
      embeds: message.embeds,
      components: message.components,
      flags: message.flags,
      attachments: message.attachments.map((a, i) => ({ id: String(i), filename: a.filename, size: a.content.length, url: `http://127.0.0.1:${this.port}/attachments/${message.id}/${a.filename}`, proxy_url: '' })),
    });
    return message.editedAt.length ? { ...api, edited_timestamp: new Date(message.editedAt.at(-1)!).toISOString() } : api;
  }
}

interface Attachment {
  filename: string;
  content: Buffer;
}

/** Reads a JSON or multipart/form-data body (discord.js sends files as multipart with `payload_json`). */
async function readBody(req: IncomingMessage): Promise<{ body: any; files: Attachment[] }> {
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
      if (key === 'payload_json') body = JSON.parse(String(value));
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

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...JSON_HEADERS, ...headers });
  res.end(JSON.stringify(body));
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(message)), ms);
    }),
  ]);
}
