// A Redis server of a test's own on a free port, so a test can stop and restart it. With
// `cluster: true` it is a one-node Redis Cluster owning every slot: like any cluster it refuses a
// script, transaction or multi-key command whose keys hash to different slots (CROSSSLOT).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './bot-process.js';

export class OwnRedisServer {
  private child: ChildProcess | null = null;
  private dir: string | null = null;
  port = 0;

  constructor(private readonly options: { cluster?: boolean } = {}) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  async start(): Promise<this> {
    if (this.running) return this;
    this.port ||= await freePort();
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
    if (this.options.cluster) {
      this.dir ??= mkdtempSync(join(tmpdir(), 'redis-cluster-'));
      rmSync(join(this.dir, 'nodes.conf'), { force: true });
      args.push('--cluster-enabled', 'yes', '--cluster-config-file', join(this.dir, 'nodes.conf'), '--dir', this.dir, '--cluster-announce-ip', '127.0.0.1');
    }
    this.child = spawn('redis-server', args, { stdio: 'ignore' });
    const probe = new Redis(this.port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => undefined); // refused until the server is up
    for (let i = 0; i < 100; i++) {
      try {
        await probe.connect();
        await probe.ping();
        if (this.options.cluster) await this.ownEverySlot(probe);
        probe.disconnect();
        return this;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    throw new Error('redis-server did not start');
  }

  private async ownEverySlot(probe: Redis): Promise<void> {
    await probe.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
    for (let i = 0; i < 100; i++) {
      if (String(await probe.call('CLUSTER', 'INFO')).includes('cluster_state:ok')) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error('the one-node cluster did not become ready');
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    this.child = null;
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = null;
  }
}
