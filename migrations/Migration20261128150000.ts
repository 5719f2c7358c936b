import { Migration } from '@mikro-orm/migrations';

// Where each exchange happened (null for a DM; the server and the thread otherwise), how many of its
// prompt tokens the provider served from its prompt cache, and one
// tombstone per person who erased their history: only their id and when, so an answer that was
// being written at that moment is not stored afterwards.
export class Migration20261128150000 extends Migration {
  override up(): void {
    this.addSql(`alter table "messages" add column "guild_id" varchar(20) null, add column "channel_id" varchar(20) null, add column "cached_tokens" int not null default 0;`);
    this.addSql(`create table "erasures" ("user_id" varchar(20) not null, "erased_at" timestamptz not null, constraint "erasures_pkey" primary key ("user_id"));`);
  }

  override down(): void {
    this.addSql(`drop table if exists "erasures";`);
    this.addSql(`alter table "messages" drop column "guild_id", drop column "channel_id", drop column "cached_tokens";`);
  }
}
