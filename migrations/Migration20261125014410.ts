import { Migration } from '@mikro-orm/migrations';

// Users keyed by Discord id; one message row per answered DM, unique per Discord message id;
// (user_id, id) serves /history's newest-first keyset pages.
export class Migration20261125014410 extends Migration {
  override up(): void {
    this.addSql(`create table "users" ("id" varchar(20) not null, "username" varchar(100) null, "created_at" timestamptz not null, constraint "users_pkey" primary key ("id"));`);

    this.addSql(`create table "messages" ("id" bigserial primary key, "user_id" varchar(20) not null, "discord_message_id" varchar(20) not null, "user_text" text not null, "gpt_response" text not null, "model" varchar(100) not null, "prompt_tokens" int not null default 0, "completion_tokens" int not null default 0, "total_tokens" int not null default 0, "created_at" timestamptz not null);`);
    this.addSql(`alter table "messages" add constraint "messages_discord_message_id_unique" unique ("discord_message_id");`);
    this.addSql(`create index "messages_user_id_id_idx" on "messages" ("user_id", "id");`);

    this.addSql(`alter table "messages" add constraint "messages_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);
  }

  override down(): void {
    this.addSql(`drop table if exists "messages" cascade;`);
    this.addSql(`drop table if exists "users" cascade;`);
  }
}
