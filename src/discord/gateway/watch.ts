// Gateway trouble is never silent. A dropped connection and its reconnect attempts reach no `error`
// or `warn` by themselves (a refused gateway was seen reconnecting 176 times in 45 s without a log
// line). This watches the @discordjs/ws manager: close codes, reconnects, resumes, identifies,
// invalid sessions and dispatches by type are counted; trouble is logged at warn, at most once per
// THROTTLE_MS per kind with how often it happened since; `bot_gateway_up` follows the connection.
// Close codes: https://discord.com/developers/docs/topics/opcodes-and-status-codes#gateway-gateway-close-event-codes
import { CloseCodes, WebSocketShardEvents, type WebSocketManager } from '@discordjs/ws';
import type { Logger } from 'pino';
import type { Metrics } from '../../ops/metrics.js';

const THROTTLE_MS = 10_000;
// Codes after which @discordjs/ws does not reconnect: the operator must act.
// (4011, sharding required, is acted on: see index.ts.)
const FOR_GOOD = new Set([4004, 4010, 4011, 4012, 4013, 4014]);

type GatewayMetrics = Pick<Metrics, 'gatewayEvents' | 'gatewayTrouble' | 'gatewaySessions' | 'gatewayUp'>;

export function watchGateway(manager: WebSocketManager, metrics: GatewayMetrics, logger: Logger, up: () => boolean): void {
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
  const status = () => metrics.gatewayUp.set(up() ? 1 : 0);
  // Shards that were connected once: their next connection attempt is a reconnect.
  const connectedBefore = new Set<number>();
  const connected = (shardId: number) => {
    connectedBefore.add(shardId);
    status();
  };

  manager.on(WebSocketShardEvents.Dispatch, ({ data }) => metrics.gatewayEvents.inc({ type: data.t }));
  manager.on(WebSocketShardEvents.Ready, ({ shardId }) => {
    metrics.gatewaySessions.inc({ how: 'identify' });
    logger.info({ shardId, how: 'identify' }, 'gateway session started');
    connected(shardId);
  });
  manager.on(WebSocketShardEvents.Resumed, ({ shardId }) => {
    metrics.gatewaySessions.inc({ how: 'resume' });
    logger.info({ shardId, how: 'resume' }, 'gateway session resumed');
    connected(shardId);
  });
  manager.on(WebSocketShardEvents.Closed, ({ code, shardId }) => {
    status();
    if (code === Number(CloseCodes.Resuming)) return; // this replica closing for a restart or handing a shard on
    if (FOR_GOOD.has(code)) {
      metrics.gatewayTrouble.inc({ kind: `closed_${code}` });
      logger.error({ shardId, code }, 'gateway closed the connection for good (see the close code); not reconnecting');
    } else {
      warn(`closed_${code}`, { shardId, code }, 'gateway connection closed; reconnecting');
    }
  });
  manager.on(WebSocketShardEvents.Error, ({ error, shardId }) => warn('error', { shardId, err: error }, 'gateway connection error'));
  manager.on(WebSocketShardEvents.Debug, ({ message, shardId }) => {
    if (message.startsWith('Invalid session')) warn('invalid_session', { shardId }, 'gateway answered Invalid Session');
    else if (message.startsWith('Connecting to') && connectedBefore.has(shardId)) warn('reconnect', { shardId }, 'reconnecting to the gateway');
  });
}
