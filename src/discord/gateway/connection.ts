// The bot's gateway session, run on @discordjs/ws directly rather than through discord.js's Client:
// discord.js keeps session info in memory only, and a Client that starts from a resumed session never
// becomes ready (it waits for READY and holds every other event until then), so the events Discord
// replays after a restart would never arrive. Here the session hooks are backed by Redis
// (sessions.ts), every dispatch goes straight to `onDispatch` (messages to the intake, interactions to
// discord.js's structures), and stopping closes resumably, so the next start resumes what this one held.
// discord.js stays for REST and for the interaction and message types.
import { CloseCodes, WebSocketManager, WebSocketShardEvents, type IIdentifyThrottler } from '@discordjs/ws';
import type { GatewayDispatchPayload, REST } from 'discord.js';
import type { Logger } from 'pino';
import type { GatewaySessions } from './sessions.js';

export interface GatewayConnectionDeps {
  token: string;
  rest: REST;
  intents: number;
  sessions: GatewaySessions;
  logger: Logger;
  /** The shard this connection runs, of how many. */
  shardId: number;
  shardCount: number;
  buildIdentifyThrottler?: (manager: WebSocketManager) => Promise<IIdentifyThrottler>;
  /** Every event Discord sends, handled before its sequence counts as seen (for a later resume). */
  onDispatch: (payload: GatewayDispatchPayload, shardId: number) => Promise<void> | void;
}

export class GatewayConnection {
  readonly manager: WebSocketManager;
  private readonly connected = new Map<number, boolean>();

  constructor(private readonly deps: GatewayConnectionDeps) {
    this.manager = new WebSocketManager({
      token: deps.token,
      intents: deps.intents,
      rest: deps.rest,
      // One shard per manager: a replica runs shard 0 (DMs) and whichever others it leases.
      shardCount: deps.shardCount,
      shardIds: [deps.shardId],
      retrieveSessionInfo: (shardId) => deps.sessions.retrieve(shardId),
      updateSessionInfo: (shardId, info) => deps.sessions.update(shardId, info),
      ...(deps.buildIdentifyThrottler ? { buildIdentifyThrottler: deps.buildIdentifyThrottler } : {}),
    });
    this.manager.on(WebSocketShardEvents.Dispatch, ({ data, shardId }) => {
      const handled = deps.sessions.handling(shardId, data.s);
      void Promise.resolve()
        .then(() => deps.onDispatch(data, shardId))
        .catch((error: unknown) => deps.logger.error({ err: error, event: data.t, shardId }, 'gateway event not handled'))
        .finally(handled);
    });
    this.manager.on(WebSocketShardEvents.Ready, ({ shardId }) => this.connected.set(shardId, true));
    this.manager.on(WebSocketShardEvents.Resumed, ({ shardId }) => this.connected.set(shardId, true));
    this.manager.on(WebSocketShardEvents.Closed, ({ shardId }) => this.connected.set(shardId, false));
  }

  /** Connects every shard (resuming a session a predecessor left where there is one). */
  async connect(): Promise<void> {
    this.deps.sessions.start();
    await this.manager.connect();
  }

  /** Whether every shard is connected (resumed or identified, and not since closed). */
  up(): boolean {
    return this.connected.size > 0 && [...this.connected.values()].every(Boolean);
  }

  /**
   * Closes for a restart: not with 1000/1001 (which end the session) but with a resumable code, and
   * hands the sessions over (saved at the last event handled, leases let go), so the next process to
   * start resumes them and Discord replays whatever came in between.
   */
  async closeForRestart(): Promise<void> {
    await this.deps.sessions.handOver(async () => {
      await this.manager.destroy({ code: CloseCodes.Resuming, reason: 'restarting' });
    });
  }
}
