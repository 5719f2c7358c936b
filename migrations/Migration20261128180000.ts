import { Migration } from '@mikro-orm/migrations';

// Each person's own settings (/model, /instructions), apart from `users`, which goes with their last
// exchange: a choice of model outlives /clear-history; their instructions are erased with their words.
export class Migration20261128180000 extends Migration {
  override up(): void {
    this.addSql(
      `create table "user_settings" ("user_id" varchar(20) not null, "model" varchar(100) null, "instructions" text null, "updated_at" timestamptz not null default now(), constraint "user_settings_pkey" primary key ("user_id"));`,
    );
  }

  override down(): void {
    this.addSql(`drop table if exists "user_settings";`);
  }
}
