// `npm run migrate`: creates the database if needed and applies pending migrations.
import { loadDatabaseUrl } from '../src/config/index.js';
import { openDatabase } from '../src/history/orm.js';

const { orm, applied } = await openDatabase(loadDatabaseUrl());
await orm.close();
process.stdout.write(applied.length ? `Applied ${applied.length} migration(s): ${applied.join(', ')}\n` : 'Database schema is up to date.\n');
