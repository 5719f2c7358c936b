// A fake Discord (API v10) on 127.0.0.1 that the real discord.js client talks to through
// `rest.api` (DISCORD_API_URL). This file holds its state and the control API with which a test
// acts as Discord users and reads what the bot sent; rest.ts answers the REST routes and
// gateway.ts the WebSocket gateway.
// Simplifications, on purpose: guilds exist only when a test creates one, with one text channel and
// no permission checks; rate-limit headers are sent but a 429 is only returned when a test asks for
// one; files the bot uploads are kept as their metadata and bytes, without a CDN (files people attach
// are served by cdn.ts).
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIMessage } from 'discord.js';
import { FakeCdn, type FakeFile } from './cdn.js';
import { FakeGateway } from './gateway.js';
import { type Attachment, handleRest, send } from './rest.js';
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
  nonce?: string;
}

export interface RecordedRequest {
  method: string;
  path: string;
  at: number;
  body: any;
}

export interface InteractionRecord {
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
  /** DM channels of people who blocked the bot: Discord refuses the bot's messages there (rest.ts). */
  readonly blocked = new Set<string>();
  /** Requests Discord refused for good (403 50007 and the like), in order. */
  readonly refused: { method: string; path: string; code: number; at: number }[] = [];
  /**
   * The `attachment_size_limit` sent with every interaction, and the size over which rest.ts refuses
   * an uploaded file. Discord: "The file upload size limit applies to each file in a request. The
   * default limit is 10 MiB" (https://discord.com/developers/docs/reference#uploading-files). Tests
   * lower it so that exports split into several files stay fast.
   */
  attachmentSizeLimit = 10_485_760;
  /** Message creations answered with an earlier message of the same nonce (enforce_nonce). */
  nonceHits = 0;
  /** The files people attached, served at signed CDN-style links on this host (cdn.ts). */
  readonly cdn = new FakeCdn(() => `http://127.0.0.1:${this.port}`);
  /** Messages people sent (with their attachments), for GET /channels/{id}/messages/{id}. */
  readonly userMessages = new Map<string, any>();
  /** @internal (rest.ts) */
  readonly users = new Map<string, FakeUser>();
  /** Guild text channels and threads (id → channel payload). */
  readonly guildChannels = new Map<string, any>();
  readonly threads: any[] = [];
  /** The servers the bot is in. */
  readonly guilds = new Set<string>();
  /** @internal (rest.ts) */
  readonly interactions = new Map<string, InteractionRecord>();
  private readonly server: Server;
  /** @internal (rest.ts) */
  readonly gateway: FakeGateway;
  /** @internal (rest.ts) */
  failures: { match: RegExp; status: number; remaining: number; retryAfter: number }[] = [];
  private readonly listeners = new Set<() => void>();
  port = 0;

  constructor(readonly log: (line: string) => void = () => {}) {
    this.gateway = new FakeGateway({
      token: this.token,
      bot: this.bot,
      applicationId: this.applicationId,
      resumeUrl: () => this.gatewayUrl,
      log,
      guildCount: () => this.guilds.size,
    });
    this.server = createServer((req, res) => void this.route(req, res));
    this.server.on('upgrade', (req, socket, head) => {
      // A gateway outage: connections are refused until `gatewayDownUntil`.
      if (req.url?.startsWith('/gateway') && Date.now() >= this.gatewayDownUntil) this.gateway.handleUpgrade(req, socket, head);
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
    const g = this.gateway;
    return { identifies: g.identifies, resumes: g.resumes, invalidSessions: g.invalidSessions, failedResumes: g.failedResumes, endedByClient: g.endedByClient };
  }

  dropGatewayConnections(code?: number): void {
    this.gateway.dropConnections(code);
  }

  /** The gateway goes away for `ms`: open connections close (4000, resumable) and new ones are refused. */
  gatewayOutage(ms: number): void {
    this.gatewayDownUntil = Date.now() + ms;
    this.gateway.dropConnections(4000);
  }

  private gatewayDownUntil = 0;

  // ---- control API: act as a Discord user ---------------------------------------------------

  /** A Discord user (a new id unless `id` is given: the sandbox keeps one per name across runs). */
  user(username: string, locale = 'en-US', id = snowflake()): FakeUser {
    const user: FakeUser = { id, username, locale, dmChannelId: snowflake() };
    this.users.set(user.id, user);
    return user;
  }

  /** The user blocks the bot (or unblocks it): the bot's messages to them are refused. */
  block(user: FakeUser, blocked = true): void {
    if (blocked) this.blocked.add(user.dmChannelId);
    else this.blocked.delete(user.dmChannelId);
  }

  /** The bot's token is reset in the developer portal: every authenticated request answers 401. */
  resetToken(): void {
    this.tokenReset = true;
  }

  /** @internal (rest.ts) */
  tokenReset = false;

  /**
   * The user sends the bot a DM. Returns the Discord message (its id is the one the bot must store).
   * `files` are attached as Discord does: stored on the fake CDN, their attachment objects (signed
   * links; already expired with `expiredLinks`) in the message; `flags` are the message's flags.
   */
  sendDm(
    user: FakeUser,
    content: string,
    extra: { attachments?: unknown[]; stickerItems?: unknown[]; author?: FakeUserInit; files?: FakeFile[]; flags?: number; expiredLinks?: boolean } = {},
  ) {
    const attachments = [...(extra.attachments ?? []), ...(extra.files ?? []).map((file) => this.cdn.attach(user.dmChannelId, file, { expired: extra.expiredLinks ?? false }))];
    const message = apiMessage({
      channelId: user.dmChannelId,
      author: extra.author ?? user,
      content,
      ...(attachments.length ? { attachments } : {}),
      ...(extra.stickerItems ? { stickerItems: extra.stickerItems } : {}),
      ...(extra.flags ? { flags: extra.flags } : {}),
    });
    this.userMessages.set(message.id, message);
    this.written.push(message);
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
    this.guilds.add(guildId);
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
    this.written.push(message);
    this.gateway.dispatch('MESSAGE_CREATE', { ...message, channel_type: channel.type });
    return message;
  }

  /** GET channel messages served (a catch-up reads channels this way). */
  historyReads = 0;

  /** What people wrote (the bot's own messages are in `messages`), kept for GET channel messages. */
  readonly written: APIMessage[] = [];

  /**
   * A channel's messages after `after` (the `limit` nearest to it), listed newest first as Discord
   * lists them (GET /channels/{id}/messages). https://discord.com/developers/docs/resources/message#get-channel-messages
   * Messages sent over REST carry no `guild_id`; only gateway events do.
   */
  channelMessages(channelId: string, after: string | null, limit: number): APIMessage[] {
    const all = [
      ...this.written.filter((m) => m.channel_id === channelId).map(({ guild_id: _, member: __, ...m }: any) => m as APIMessage),
      ...[...this.messages.values()].filter((m) => m.channelId === channelId && !m.deleted).map((m) => this.toApiMessage(m)),
    ];
    return all
      .filter((m) => after === null || BigInt(m.id) > BigInt(after))
      .sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1))
      .slice(after === null ? -limit : 0, after === null ? undefined : limit)
      .reverse();
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

  /**
   * The user clicks a button on a message the bot sent: an INTERACTION_CREATE of type 3
   * MESSAGE_COMPONENT carrying the button's `custom_id` and the message it is on
   * (https://discord.com/developers/docs/interactions/receiving-and-responding#interaction-object).
   */
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
      attachment_size_limit: this.attachmentSizeLimit,
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

  /** @internal Tells waiters that the bot changed something. */
  changed(): void {
    for (const listener of [...this.listeners]) listener();
  }

  // ---- REST ----------------------------------------------------------------------------------

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.url?.startsWith('/attachments/')) return this.cdn.serve(req, res);
    try {
      await handleRest(this, req, res);
    } catch (error) {
      this.log(`fake discord: handler error ${(error as Error).stack}`);
      if (!res.headersSent) send(res, 500, { message: 'Internal Server Error', code: 0 });
    }
  }

  /** A message a person sent, as GET /channels/{id}/messages/{id} returns it: with freshly signed attachment links. */
  userMessage(channelId: string, messageId: string) {
    const message = this.userMessages.get(messageId);
    if (!message || message.channel_id !== channelId) return undefined;
    return { ...message, attachments: this.cdn.refreshed(message.attachments) };
  }

  /** Every link to this message's attachments issued so far stops working, as an expired one does (404). */
  expireLinks(message: { attachments: { id: string }[] }): void {
    this.cdn.expire(message.attachments.map((a) => a.id));
  }

  isDmChannel(channelId: string): boolean {
    return [...this.users.values()].some((u) => u.dmChannelId === channelId);
  }

  /** @internal (rest.ts) */
  store({ channelId, body, files, interactionId }: { channelId: string; body: any; files: Attachment[]; interactionId?: string }): SentMessage {
    const content = String(body?.content ?? '');
    // enforce_nonce: a message the bot already created with this nonce (here, in the last few
    // minutes) is returned instead of creating another.
    const nonce = body?.nonce === undefined ? undefined : String(body.nonce);
    if (nonce !== undefined && body?.enforce_nonce) {
      const earlier = [...this.messages.values()].find((m) => m.channelId === channelId && m.nonce === nonce && Date.now() - m.createdAt < NONCE_WINDOW_MS);
      if (earlier) {
        this.nonceHits += 1;
        return earlier;
      }
    }
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
      ...(nonce !== undefined ? { nonce } : {}),
    };
    this.messages.set(message.id, message);
    this.changed();
    return message;
  }

  /**
   * @internal (rest.ts) Discord's Edit Message: "All parameters to this endpoint are optional and
   * nullable" (https://discord.com/developers/docs/resources/message#edit-message): a field left out
   * stays as it was (the content, or the buttons under `components`); `components: []` removes them.
   */
  edit(message: SentMessage, body: any, files: Attachment[]): SentMessage {
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

  /** @internal (rest.ts) */
  toApiMessage(message: SentMessage) {
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
    if (message.nonce !== undefined) api.nonce = message.nonce;
    return message.editedAt.length ? { ...api, edited_timestamp: new Date(message.editedAt.at(-1)!).toISOString() } : api;
  }
}

// Discord: "checked for uniqueness in the past few minutes".
const NONCE_WINDOW_MS = 5 * 60_000;

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(message)), ms);
    }),
  ]);
}
