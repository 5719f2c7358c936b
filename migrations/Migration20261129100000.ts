import { Migration } from '@mikro-orm/migrations';

// Whether the person pressed Stop while the answer was being written: the stored answer then holds
// only what was written until then, and /history says so. Existing rows were all finished answers.
export class Migration20261129100000 extends Migration {
  override up(): void {
    this.addSql(`alter table "messages" add column "stopped" boolean not null default false;`);
  }

  override down(): void {
    this.addSql(`alter table "messages" drop column "stopped";`);
  }
}
