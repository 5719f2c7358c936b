// Builds the MikroORM configuration from our settings and opens the database: creates it when it
// does not exist yet and applies the committed migrations.
import { fileURLToPath } from 'node:url';
import { Migrator } from '@mikro-orm/migrations';
import { MikroORM, defineConfig, type Options } from '@mikro-orm/postgresql';
import { migrationsList } from '../../migrations/index.js';
import { entities } from './entities.js';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations', import.meta.url));

export function ormOptions(databaseUrl: string, extra: Partial<Options> = {}): Options {
  return defineConfig({
    clientUrl: databaseUrl,
    entities,
    extensions: [Migrator],
    discovery: { warnWhenNoEntities: true },
    migrations: {
      path: MIGRATIONS_DIR,
      pathTs: MIGRATIONS_DIR,
      glob: 'Migration*.{js,ts}',
      migrationsList,
      transactional: true,
      allOrNothing: true,
      snapshot: false,
      emit: 'ts',
      silent: true, // the bot logs what was applied itself, as JSON
    },
    pool: { min: 0, max: 10 },
    debug: false,
    allowGlobalContext: false,
    ...extra,
  });
}

/**
 * Connects, creating the database first if needed; with `migrate`, applies pending migrations.
 * Replicas starting together race to create the database and apply migrations; the loser's attempt
 * fails (each migration runs in a transaction, so nothing half-applied is left) and is retried,
 * and then finds the work done.
 */
export async function openDatabase(databaseUrl: string, { migrate = true } = {}): Promise<{ orm: MikroORM; applied: string[] }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await openOnce(databaseUrl, migrate);
    } catch (error) {
      if (attempt >= 3 || !isRace(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt + Math.random() * 300));
    }
  }
}

async function openOnce(databaseUrl: string, migrate: boolean): Promise<{ orm: MikroORM; applied: string[] }> {
  const orm = await MikroORM.init(ormOptions(databaseUrl, { connect: false }));
  try {
    // This opens the connection pool (reconnecting once if it had to create the database first).
    // `orm.connect()` after it would start a second pool without closing this one, whose idle
    // connection then kept `npm run migrate` alive for the pool's 30 s idle timeout.
    await orm.schema.ensureDatabase({ create: false });
    const applied = migrate ? (await orm.migrator.up()).map((m) => m.name) : [];
    return { orm, applied };
  } catch (error) {
    await orm.close(true);
    throw error;
  }
}

/** A failure another process starting at the same moment causes: something already exists. */
function isRace(error: unknown): boolean {
  const cause = (error as { cause?: unknown })?.cause;
  const text = `${String(error)} ${cause instanceof Error ? cause.message : ''}`;
  return /already exists|duplicate key|unique constraint/i.test(text);
}
