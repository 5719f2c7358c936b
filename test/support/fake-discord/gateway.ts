// The gateway half of the fake Discord: a WebSocket server speaking gateway v10 JSON (no
// compression, which discord.js only asks for when zlib-sync is installed).
//   connect → HELLO(op 10) · IDENTIFY(op 2) → READY · HEARTBEAT(op 1) → ACK(op 11)
//   RESUME(op 6) → replay of missed dispatches + RESUMED · dispatches (op 0) with sequence numbers.
// Sessions outlive their connection (and keep what they are sent, for a RESUME to replay) until they
// time out (`sessionLifetimeMs`) or the bot closes with 1000/1001, which ends them.
// Sharding as Discord does it: a session is one shard of `num_shards`; a server's events go to the
// sessions of shard `(guild_id >> 22) % num_shards`, DMs to shard 0 only; several sessions may hold
// one shard. A session that would hold more than `maxGuildsPerShard` servers is closed with 4011.
// Simplifications: no rate limit on gateway sends; presence updates are accepted and ignored.
// Session starts are limited as Discord limits them: one IDENTIFY per 5 s per bucket, counted.
import type { IncomingMessage } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import { apiUser, snowflake, type FakeUserInit } from './payloads.js';

const HEARTBEAT_INTERVAL_MS = 41_250;
const IDENTIFY_WINDOW_MS = 5000;

interface GatewaySession {
  id: string;
  seq: number;
  socket: WebSocket | null;
  /** Dispatches sent, kept so a RESUME can replay what the client missed. */
  sent: { s: number; t: string; d: unknown }[];
  intents: number;
  /** When its last connection closed (null while connected). */
  detachedAt: number | null;
  /** [shard id, number of shards] from its IDENTIFY. */
  shard: [number, number];
}

/**
 * The shard a server's events go to; DMs (no server) go to shard 0.
 * https://discord.com/developers/docs/events/gateway#sharding
 */
export function shardOf(guildId: string | undefined, shards: number): number {
  return guildId ? Number((BigInt(guildId) >> 22n) % BigInt(shards)) : 0;
}

export interface GatewayOptions {
  token: string;
  bot: FakeUserInit;
  applicationId: string;
  resumeUrl: () => string;
  log: (line: string) => void;
  /** How long a session outlives its connection ("a few minutes" at Discord). */
  sessionLifetimeMs?: number;
  /** The servers the bot is in (for 4011 and the recommended number of shards). */
  guildCount: () => number;
}

export class FakeGateway {
  readonly wss = new WebSocketServer({ noServer: true });
  private readonly sessions = new Map<string, GatewaySession>();
  identifies = 0;
  resumes = 0;
  /** RESUMEs refused (the session had ended or timed out). */
  failedResumes = 0;
  /** Sessions the bot ended by closing with 1000/1001. */
  endedByClient = 0;
  /** IDENTIFYs closed with 4011 (the bot must shard). */
  shardingRequired = 0;
  /** IDENTIFYs refused with Invalid Session because another came within 5 s in the same bucket. */
  invalidSessions = 0;
  /** Every IDENTIFY counts against the day's session starts, refused ones too. */
  sessionStartsUsed = 0;
  sessionStartTotal = 1000;
  /** session_start_limit.reset_after: when the day's starts come back (tests shorten it). */
  sessionStartResetAfterMs = 3_600_000;
  /** session_start_limit.max_concurrency: IDENTIFY buckets (1 for most bots, 16 and more for large ones). */
  maxConcurrency = 1;
  private readonly lastIdentifyAt = new Map<number, number>();

  constructor(private readonly options: GatewayOptions) {
    this.sessionLifetimeMs = options.sessionLifetimeMs ?? 120_000;
  }

  handleUpgrade(request: IncomingMessage, socket: import('node:stream').Duplex, head: Buffer): void {
    this.wss.handleUpgrade(request, socket, head, (ws) => this.onConnection(ws, request));
  }

  /** Sessions that are connected and identified (one per bot process). */
  get connected(): number {
    return [...this.sessions.values()].filter((s) => s.socket).length;
  }

  /** How long a session outlives its connection; tests shorten it to provoke an outage longer than that. */
  sessionLifetimeMs: number;

  /**
   * Sends a dispatch event to every live session (as Discord does for DMs: each session gets it). A
   * session whose connection dropped keeps what it is sent, for a RESUME to replay, until it times out.
   */
  dispatch(t: string, d: unknown): void {
    const event = d as { guild_id?: string; id?: string } | null;
    const guildId = t === 'GUILD_CREATE' ? event?.id : event?.guild_id;
    for (const session of this.sessions.values()) {
      if (this.expired(session)) this.sessions.delete(session.id);
      else if (shardOf(guildId, session.shard[1]) === session.shard[0]) this.send(session, t, d);
    }
  }

  /** Servers one shard may hold before Discord requires more shards (2,500 at Discord). */
  maxGuildsPerShard = 2500;

  /** At least this many shards are recommended (tests stand for a bot in thousands of servers). */
  minimumShards = 1;

  /** GET /gateway/bot's `shards`: enough for the servers the bot is in. */
  get recommendedShards(): number {
    return Math.max(this.minimumShards, Math.ceil(this.options.guildCount() / this.maxGuildsPerShard));
  }

  /** Live sessions per shard id (for tests: who holds what). */
  sessionsByShard(): Map<number, number> {
    const counts = new Map<number, number>();
    for (const s of this.sessions.values()) if (s.socket && !this.expired(s)) counts.set(s.shard[0], (counts.get(s.shard[0]) ?? 0) + 1);
    return counts;
  }

  /**
   * Closing with 1000 or 1001 ends a session; any other close, or a dropped connection, leaves it
   * resumable for a few minutes. https://discord.com/developers/docs/events/gateway#disconnecting
   */
  private expired(session: GatewaySession): boolean {
    return session.detachedAt !== null && Date.now() - session.detachedAt > this.sessionLifetimeMs;
  }

  /** Sessions Discord still keeps (connected, or resumable). */
  get liveSessions(): number {
    return [...this.sessions.values()].filter((s) => !this.expired(s)).length;
  }

  /**
   * Closes every connection, as Discord does on a gateway restart (4000: resumable). With 4007 (invalid
   * seq) or 4009 (session timed out) the sessions end too: "reconnect and start a new session".
   * https://discord.com/developers/docs/topics/opcodes-and-status-codes#gateway-gateway-close-event-codes
   */
  dropConnections(code = 4000): void {
    for (const session of this.sessions.values()) {
      session.socket?.close(code, 'fake gateway reconnect');
      if (code === 4007 || code === 4009) this.sessions.delete(session.id);
    }
  }

  close(): void {
    for (const client of this.wss.clients) client.terminate();
    this.wss.close();
  }

  private send(session: GatewaySession, t: string, d: unknown): void {
    d = visibleTo(session, t, d, this.options.bot.id);
    session.seq += 1;
    const frame = { op: 0, s: session.seq, t, d };
    session.sent.push({ s: session.seq, t, d });
    if (session.sent.length > 500) session.sent.shift();
    if (session.socket?.readyState === 1) session.socket.send(JSON.stringify(frame));
  }

  private onConnection(ws: WebSocket, request: IncomingMessage): void {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (url.searchParams.get('v') !== '10' || url.searchParams.get('encoding') !== 'json') {
      this.options.log(`gateway: unexpected connect parameters ${url.search}`);
    }
    let session: GatewaySession | null = null;
    ws.send(JSON.stringify({ op: 10, d: { heartbeat_interval: HEARTBEAT_INTERVAL_MS }, s: null, t: null }));

    ws.on('message', (raw) => {
      let payload: { op: number; d: any };
      try {
        payload = JSON.parse((raw as Buffer).toString('utf8'));
      } catch {
        ws.close(4002, 'Decode error');
        return;
      }
      switch (payload.op) {
        case 1: // heartbeat
          ws.send(JSON.stringify({ op: 11, d: null, s: null, t: null }));
          break;
        case 2: {
          // identify
          if (payload.d?.token !== this.options.token && payload.d?.token !== `Bot ${this.options.token}`) {
            ws.close(4004, 'Authentication failed.');
            return;
          }
          // One session start per 5 seconds per bucket (shard_id % max_concurrency); a sooner one is
          // answered Invalid Session (op 9, d false) and still counts against session_start_limit.
          // https://discord.com/developers/docs/events/gateway#rate-limiting
          // https://discord.com/developers/docs/events/gateway#session-start-limit-object
          this.sessionStartsUsed += 1;
          const bucket = (payload.d.shard?.[0] ?? 0) % this.maxConcurrency;
          const last = this.lastIdentifyAt.get(bucket) ?? -Infinity;
          this.lastIdentifyAt.set(bucket, Date.now());
          if (Date.now() - last < IDENTIFY_WINDOW_MS) {
            this.invalidSessions += 1;
            ws.send(JSON.stringify({ op: 9, d: false, s: null, t: null }));
            return;
          }
          const shard: [number, number] = payload.d.shard ?? [0, 1];
          // "Sharding required": the session would hold too many servers.
          // https://discord.com/developers/docs/topics/opcodes-and-status-codes#gateway-gateway-close-event-codes
          if (this.options.guildCount() / shard[1] > this.maxGuildsPerShard) {
            this.shardingRequired += 1;
            ws.close(4011, 'Sharding required.');
            return;
          }
          this.identifies += 1;
          session = { id: snowflake(), seq: 0, socket: ws, sent: [], intents: payload.d.intents ?? 0, detachedAt: null, shard };
          this.sessions.set(session.id, session);
          this.send(session, 'READY', {
            v: 10,
            user: { ...apiUser(this.options.bot), verified: true, mfa_enabled: false, flags: 0 },
            guilds: [],
            session_id: session.id,
            resume_gateway_url: this.options.resumeUrl(),
            shard,
            application: { id: this.options.applicationId, flags: 0 },
            private_channels: [],
            relationships: [],
            user_settings: {},
            presences: [],
            geo_ordered_rtc_regions: [],
            guild_join_requests: [],
          });
          break;
        }
        case 6: {
          // resume
          // An ended or timed-out session cannot be resumed: Invalid Session, d false (identify anew).
          // https://discord.com/developers/docs/events/gateway-events#invalid-session
          const known = this.sessions.get(payload.d?.session_id);
          if (!known || this.expired(known) || payload.d?.token?.replace(/^Bot /, '') !== this.options.token) {
            if (known) this.sessions.delete(known.id);
            this.failedResumes += 1;
            ws.send(JSON.stringify({ op: 9, d: false, s: null, t: null }));
            return;
          }
          this.resumes += 1;
          session = known;
          session.socket = ws;
          session.detachedAt = null;
          for (const missed of session.sent.filter((e) => e.s > (payload.d.seq ?? 0))) {
            ws.send(JSON.stringify({ op: 0, ...missed }));
          }
          this.send(session, 'RESUMED', null);
          break;
        }
        case 3: // presence update
        case 4: // voice state
        case 8: // request guild members
          break;
        default:
          this.options.log(`gateway: unknown opcode ${payload.op}`);
      }
    });

    ws.on('close', (code) => {
      if (!session || session.socket !== ws) return;
      session.socket = null;
      session.detachedAt = Date.now();
      if (code === 1000 || code === 1001) {
        this.sessions.delete(session.id);
        this.endedByClient += 1;
      }
    });
  }
}

const MESSAGE_CONTENT_INTENT = 1 << 15;

/**
 * Discord's rule for the privileged Message Content intent: without it, a guild message reaches the
 * bot with empty content (and no embeds, attachments or components) unless it mentions the bot.
 * DMs are exempt.
 */
function visibleTo(session: GatewaySession, t: string, d: any, botId: string): unknown {
  if (t !== 'MESSAGE_CREATE' || !d?.guild_id || session.intents & MESSAGE_CONTENT_INTENT) return d;
  if (d.author?.id === botId || d.mentions?.some((u: { id: string }) => u.id === botId)) return d;
  return { ...d, content: '', embeds: [], attachments: [], components: [] };
}
