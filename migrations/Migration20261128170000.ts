import { Migration } from '@mikro-orm/migrations';

// A ledger of token counts per person, UTC day and model, with no words in it, so /usage and /stats
// outlive /clear-history and retention; it starts from the exchanges already stored. An index on
// `messages.created_at` lets retention find old exchanges (and /stats recent ones) without
// reading the whole table.
export class Migration20261128170000 extends Migration {
  override up(): void {
    this.addSql(
      `create table "usage_ledger" ("user_id" varchar(20) not null, "day" date not null, "model" varchar(100) not null, "prompt_tokens" bigint not null default 0, "completion_tokens" bigint not null default 0, "cached_tokens" bigint not null default 0, "requests" int not null default 0, constraint "usage_ledger_pkey" primary key ("user_id", "day", "model"));`,
    );
    this.addSql(`create index "usage_ledger_day_idx" on "usage_ledger" ("day");`);
    this.addSql(
      `insert into "usage_ledger" ("user_id", "day", "model", "prompt_tokens", "completion_tokens", "cached_tokens", "requests")
       select "user_id", ("created_at" at time zone 'UTC')::date, "model", sum("prompt_tokens"), sum("completion_tokens"), sum("cached_tokens"), count(*)
       from "messages" group by 1, 2, 3;`,
    );
    this.addSql(`create index "messages_created_at_idx" on "messages" ("created_at");`);
  }

  override down(): void {
    this.addSql(`drop index if exists "messages_created_at_idx";`);
    this.addSql(`drop table if exists "usage_ledger";`);
  }
}
