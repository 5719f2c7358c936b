// Wiring, part 1: where things are kept. PostgreSQL (migrated on start), Redis (failing fast when it
// is away), and the stores over them: history and its outbox, each person's settings, the usage
// ledger, retention, and the shared message stream.
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import { HistoryOutbox } from '../history/outbox.js';
import { openDatabase } from '../history/orm.js';
import { PersonSettingsStore } from '../history/person-settings.js';
import { HistoryRepository } from '../history/repository.js';
import { HistoryRetention } from '../history/retention.js';
import { UsageLedger } from '../history/usage-ledger.js';
import type { StartupProgress } from '../ops/start-up.js';
import { DmStream } from '../queue/dm-stream.js';
import { connectRedis } from '../redis.js';

export async function openStorage(config: Config, logger: Logger, startup: StartupProgress, onDeadLetter: () => void) {
  startup.begin('database', logger);
  const { orm, applied } = await openDatabase(config.DATABASE_URL, { migrate: config.MIGRATE_ON_START });
  logger.info({ applied }, applied.length ? 'migrations applied' : 'database schema up to date');

  // Fail fast instead of queueing forever when Redis is away; the user is told memory is unavailable.
  const redis = connectRedis(config.REDIS_URL, { cluster: config.REDIS_CLUSTER, maxRetriesPerRequest: 1, connectTimeout: 5000, lazyConnect: true });
  redis.on('error', (error) => logger.warn({ err: error }, 'redis error'));
  startup.begin('redis', logger, redis);
  // A cluster whose nodes cannot be reached would be retried forever: start-up gives up instead.
  await Promise.race([
    redis.connect(),
    new Promise((_, reject) => setTimeout(() => reject(new Error(`Redis at ${new URL(config.REDIS_URL).host} did not answer within 10 s`)), 10_000).unref()),
  ]);
  // Blocking reads and subscriptions hold their connection, so each gets one of its own.
  const reader = connectRedis(config.REDIS_URL, { cluster: config.REDIS_CLUSTER, maxRetriesPerRequest: null, connectTimeout: 5000 });
  reader.on('error', (error) => logger.debug({ err: error }, 'redis reader error'));
  const subscriber = connectRedis(config.REDIS_URL, { cluster: config.REDIS_CLUSTER, maxRetriesPerRequest: null, connectTimeout: 5000 });
  subscriber.on('error', (error) => logger.debug({ err: error }, 'redis subscriber error'));

  const prefix = config.REDIS_KEY_PREFIX;
  const history = new HistoryRepository(orm);
  return {
    orm,
    redis,
    reader,
    subscriber,
    history,
    // What each person chose for themselves (/model, /instructions).
    personSettings: new PersonSettingsStore(orm),
    // Counts only, no words (/usage, /stats); written as each answer arrives, never holding it up.
    usage: new UsageLedger(orm),
    retention: new HistoryRetention({ orm, redis, logger }, { prefix, retentionDays: config.HISTORY_RETENTION_DAYS }),
    outbox: new HistoryOutbox({ history, redis, logger, onDeadLetter }, { prefix, flushIntervalMs: config.OUTBOX_FLUSH_INTERVAL_MS }),
    stream: new DmStream(redis, { prefix }),
  };
}

export type Storage = Awaited<ReturnType<typeof openStorage>>;
