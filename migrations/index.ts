// The explicit, ordered list of migrations. Listing them (instead of letting the migrator scan the
// folder) works the same under tsx, vitest and compiled JS. `npm run migration:create` writes a new
// file here; add it to this list.
import { Migration20261125014410 } from './Migration20261125014410.js';
import { Migration20261128150000 } from './Migration20261128150000.js';
import { Migration20261128170000 } from './Migration20261128170000.js';
import { Migration20261128180000 } from './Migration20261128180000.js';
import { Migration20261129100000 } from './Migration20261129100000.js';
import { Migration20261129120000 } from './Migration20261129120000.js';

export const migrationsList = [
  { name: 'Migration20261125014410', class: Migration20261125014410 },
  { name: 'Migration20261128150000', class: Migration20261128150000 },
  { name: 'Migration20261128170000', class: Migration20261128170000 },
  { name: 'Migration20261128180000', class: Migration20261128180000 },
  { name: 'Migration20261129100000', class: Migration20261129100000 },
  { name: 'Migration20261129120000', class: Migration20261129120000 },
];
