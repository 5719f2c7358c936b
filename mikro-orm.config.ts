// Configuration for the MikroORM CLI (`npm run migration:create`). The bot itself builds the same
// options in src/history/orm.ts from the validated config.
import { loadDatabaseUrl } from './src/config/index.js';
import { ormOptions } from './src/history/orm.js';

export default ormOptions(loadDatabaseUrl());
