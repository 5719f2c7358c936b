// Gateway trouble is never silent. discord.js reports a dropped connection and its reconnect
// attempts through neither `error` nor `warn` (a refused gateway was seen reconnecting 176 times in
// 45 s without a log line), and `client.isReady()` stays true while a shard reconnects. This watches
// the shards: close codes, reconnects, resumes, invalid sessions and dispatches by type are counted;
// trouble is logged at warn, at most once per THROTTLE_MS per kind with how often it happened since;
// and `up()` says whether every shard is connected (for /readyz).
// Close codes: https://discord.com/developers/docs/topics/opcodes-and-status-codes#gateway-gateway-close-event-codes
import { type Client, Events, Status } from 'discord.js';
import type { Logger } from 'pino';
import type { Metrics } from '../ops/metrics.js';

const THROTTLE_MS = 10_000;

export function watchGateway(client: Client, metrics: Pick<Metrics, 'gatewayEvents' | 'gatewayTrouble'>, logger: Logger): { up(): boolean } {
  const last = new Map<string, { at: number; since: number }>();
  const warn = (kind: string, fields: Record<string, unknown>, message: string) => {
    metrics.gatewayTrouble.inc({ kind });
    const seen = last.get(kind) ?? { at: 0, since: 0 };
    seen.since += 1;
    if (Date.now() - seen.at >= THROTTLE_MS) {
      logger.warn({ ...fields, kind, times: seen.since }, message);
      seen.at = Date.now();
      seen.since = 0;
    }
    last.set(kind, seen);
  };

  client.on(Events.ShardReconnecting, (shardId) => warn('reconnect', { shardId }, 'gateway connection lost; reconnecting'));
  client.on(Events.ShardDisconnect, (event, shardId) =>
    logger.error({ shardId, code: event.code }, 'gateway closed the connection for good (see the close code); not reconnecting'),
  );
  client.on(Events.ShardError, (error, shardId) => warn('error', { shardId, err: error }, 'gateway connection error'));
  client.on(Events.Invalidated, () => logger.error('gateway session invalidated'));
  client.on(Events.Raw, (packet: { t?: string | null; d?: { channel_id?: string; channel_type?: number } }) => {
    if (packet.t) metrics.gatewayEvents.inc({ type: packet.t });
    // discord.js drops a message it cannot place in a channel (no channel_type, not cached): say so.
    if (packet.t === 'MESSAGE_CREATE' && packet.d?.channel_type === undefined && packet.d?.channel_id && !client.channels.cache.has(packet.d.channel_id)) {
      warn('unplaceable_message', { channelId: packet.d.channel_id }, 'a message arrived for a channel discord.js cannot place; it is dropped');
    }
  });
  // Close codes are only surfaced by discord.js for the codes it gives up on (the @discordjs/ws
  // manager under it reports every close); invalid sessions only in its debug output.
  client.once(Events.ClientReady, () =>
    attach(client, warn, (shardId) => {
      metrics.gatewayTrouble.inc({ kind: 'resumed' });
      logger.info({ shardId }, 'gateway session resumed');
    }),
  );
  client.on(Events.Debug, (message) => {
    if (message.includes('Invalid session')) warn('invalid_session', {}, 'gateway answered Invalid Session');
  });

  return {
    up: () => client.ws.shards.size > 0 && client.ws.shards.every((shard) => shard.status === Status.Ready),
  };
}

type Warn = (kind: string, fields: Record<string, unknown>, message: string) => void;

function attach(client: Client, warn: Warn, resumed: (shardId: number) => void): void {
  const manager = (client.ws as unknown as { _ws?: { on(event: string, listener: (e: { code: number; shardId: number }) => void): void } })._ws;
  manager?.on('closed', ({ code, shardId }) => warn(`closed_${code}`, { shardId, code }, 'gateway connection closed'));
  manager?.on('resumed', ({ shardId }) => resumed(shardId));
}
