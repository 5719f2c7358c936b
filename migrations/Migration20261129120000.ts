import { Migration } from '@mikro-orm/migrations';

// The pictures and files sent with each exchange: for each, its name, media type and size in bytes
// (never its content), as a JSON array; null for an exchange without attachments, as every existing
// row is. Erased with its row.
export class Migration20261129120000 extends Migration {
  override up(): void {
    this.addSql(`alter table "messages" add column "attachments" jsonb null;`);
  }

  override down(): void {
    this.addSql(`alter table "messages" drop column "attachments";`);
  }
}
