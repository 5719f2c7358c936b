// Health and metrics over HTTP for orchestrators and Prometheus:
//   GET /healthz  the process is alive
//   GET /readyz   Discord connected, PostgreSQL and Redis reachable (503 with the failing parts otherwise)
//   GET /metrics  Prometheus text format
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Metrics } from './metrics.js';

export type ReadinessCheck = () => Promise<boolean>;

export async function startOpsServer(
  { metrics, checks }: { metrics: Metrics; checks: Record<string, ReadinessCheck> },
  { host, port }: { host: string; port: number },
): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => void respond(req, res));
  const respond = async (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') return void res.writeHead(405).end();
    if (path === '/healthz') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    if (path === '/readyz') {
      const results = Object.fromEntries(
        await Promise.all(
          Object.entries(checks).map(async ([name, check]) => [name, await withTimeout(check(), 2000).catch(() => false)] as const),
        ),
      );
      const ok = Object.values(results).every(Boolean);
      return void res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ status: ok ? 'ready' : 'not ready', checks: results }));
    }
    if (path === '/metrics') {
      const body = await metrics.registry.metrics();
      return void res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body);
    }
    res.writeHead(404).end();
  };
  server.listen(port, host);
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([promise, new Promise<T>((_, reject) => setTimeout(() => reject(new Error('timeout')), ms).unref())]);
}
