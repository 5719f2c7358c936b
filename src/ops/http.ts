// Health and metrics over HTTP for orchestrators and Prometheus:
//   GET /healthz  the process is alive
//   GET /readyz   Discord connected, PostgreSQL and Redis reachable (503 with the failing parts otherwise)
//   GET /metrics  Prometheus text format
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Metrics } from './metrics.js';

export type ReadinessCheck = () => Promise<boolean>;

export interface OpsServer {
  server: Server;
  port: number;
  /** Starts answering /readyz and /metrics (until then: /healthz only; /readyz says "starting"). */
  serve(handlers: { metrics: Metrics; checks: Record<string, ReadinessCheck> }): void;
}

/**
 * Binds the port first of all, so a second process with the same settings refuses at once (before
 * migrating or connecting to anything) instead of after its whole start-up.
 */
export async function listenOps({ host, port }: { host: string; port: number }): Promise<OpsServer> {
  let handlers: { metrics: Metrics; checks: Record<string, ReadinessCheck> } | null = null;
  const server = createServer((req, res) => void respond(req, res));
  const respond = async (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') return void res.writeHead(405).end();
    if (path === '/healthz') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    if (path === '/readyz') {
      if (!handlers) return void res.writeHead(503, { 'content-type': 'application/json' }).end('{"status":"starting"}');
      const results = Object.fromEntries(
        await Promise.all(
          Object.entries(handlers.checks).map(async ([name, check]) => [name, await withTimeout(check(), 2000).catch(() => false)] as const),
        ),
      );
      const ok = Object.values(results).every(Boolean);
      return void res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ status: ok ? 'ready' : 'not ready', checks: results }));
    }
    if (path === '/metrics' && handlers) {
      const body = await handlers.metrics.registry.metrics();
      return void res.writeHead(200, { 'content-type': handlers.metrics.registry.contentType }).end(body);
    }
    res.writeHead(path === '/metrics' ? 503 : 404).end();
  };
  server.listen(port, host);
  await once(server, 'listening');
  return {
    server,
    port: (server.address() as AddressInfo).port,
    serve(h) {
      handlers = h;
    },
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([promise, new Promise<T>((_, reject) => setTimeout(() => reject(new Error('timeout')), ms).unref())]);
}
