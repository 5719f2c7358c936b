// The one door to stored history. The core saves exchanges through it; commands list and clear
// through it. Each call works in its own EntityManager fork, so no identity map is shared.
import type { MikroORM } from '@mikro-orm/postgresql';
import type { AttachmentMeta, Exchange } from '../chat/types.js';
import { Message } from './entities.js';
import { storable } from './sanitize.js';

export interface StoredExchange {
  id: string;
  discordMessageId: string;
  userText: string;
  gptResponse: string;
  model: string;
  totalTokens: number;
  createdAt: Date;
  /** The server thread it happened in; null in DMs. */
  channelId?: string | null;
  /** The person stopped the answer while it was written. */
  stopped?: boolean;
  /** The pictures and files sent with it (name, type, size). */
  attachments?: AttachmentMeta[];
}

/** Where a page starts: the newest page, or strictly older/newer than a row id. */
export type PageCursor = { kind: 'first' } | { kind: 'before'; id: string } | { kind: 'after'; id: string };

export interface HistoryPage {
  items: StoredExchange[]; // newest first
  hasOlder: boolean;
  hasNewer: boolean;
}

export class HistoryRepository {
  constructor(private readonly orm: MikroORM) {}

  /**
   * Stores an answered exchange once: a second save of the same Discord message id is a no-op.
   * Nothing is stored for a message sent before the person erased their history (an answer that was
   * being written then): the check and the inserts run under the person's advisory lock, which the
   * erasure holds too, so a store can never slip in while an erasure is under way (it would survive
   * it, name and all, with an id above the newest the erasure counted).
   * Values are cleaned and fitted to their columns first (sanitize.ts). Returns whether a row was written.
   */
  async save(given: Exchange, givenUsername?: string): Promise<boolean> {
    const { exchange, username } = storable(given, givenUsername);
    return this.orm.em.fork().transactional(async (em) => {
      await em.execute('select pg_advisory_xact_lock(hashtextextended(?, 0))', [exchange.discordUserId]);
      const result = await em.execute(
        `with open as (select not exists (select 1 from erasures where user_id = ? and erased_at >= ?) as ok),
              identity as (insert into users (id, username, created_at) select ?, ?, now() where (select ok from open) on conflict (id) do nothing)
         insert into messages (user_id, discord_message_id, user_text, gpt_response, model, prompt_tokens, completion_tokens, total_tokens, cached_tokens, created_at, guild_id, channel_id, stopped, attachments)
         select ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb where (select ok from open)
         on conflict (discord_message_id) do nothing`,
        [
          exchange.discordUserId,
          exchange.createdAt,
          exchange.discordUserId,
          username ?? null,
          exchange.discordUserId,
          exchange.discordMessageId,
          exchange.userText,
          exchange.gptResponse,
          exchange.model,
          exchange.usage.promptTokens,
          exchange.usage.completionTokens,
          exchange.usage.totalTokens,
          exchange.usage.cachedTokens ?? 0,
          exchange.createdAt,
          exchange.guildId ?? null,
          exchange.channelId ?? null,
          exchange.stopped === true,
          exchange.attachments?.length ? JSON.stringify(exchange.attachments) : null,
        ],
        'run',
      );
      return (result as unknown as { affectedRows: number }).affectedRows > 0;
    });
  }

  /**
   * Erases the person's stored exchanges up to `upToId` (the newest one they were shown when they
   * asked; later ones stay, as the confirmation says), and their name; leaves a tombstone of their id
   * and the time, so an answer being written now is not stored afterwards. Returns how many went.
   */
  async erase(discordUserId: string, upToId: string | null, at: Date): Promise<number> {
    return this.orm.em.fork().transactional(async (em) => {
      await em.execute('select pg_advisory_xact_lock(hashtextextended(?, 0))', [discordUserId]);
      await em.execute('insert into erasures (user_id, erased_at) values (?, ?) on conflict (user_id) do update set erased_at = greatest(erasures.erased_at, excluded.erased_at)', [discordUserId, at]);
      const deleted = upToId === null ? 0 : await em.nativeDelete(Message, { user: discordUserId, id: { $lte: upToId } });
      // The identity row goes with the last exchange; while newer ones remain, it keeps no name.
      await em.execute('delete from users where id = ? and not exists (select 1 from messages where user_id = ?)', [discordUserId, discordUserId]);
      await em.execute('update users set username = null where id = ?', [discordUserId]);
      return deleted;
    });
  }

  /** How many exchanges the person has stored, and the id of the newest. */
  async summary(discordUserId: string): Promise<{ count: number; newestId: string | null }> {
    const [row] = await this.orm.em
      .fork()
      .execute<{ count: string; newest: string | null }[]>('select count(*) as count, max(id)::text as newest from messages where user_id = ?', [discordUserId]);
    return { count: Number(row?.count ?? 0), newestId: row?.newest ?? null };
  }

  /** One page of the user's exchanges, newest first, by keyset on the row id. */
  async page(discordUserId: string, cursor: PageCursor, pageSize: number): Promise<HistoryPage> {
    const em = this.orm.em.fork();
    const ascending = cursor.kind === 'after';
    const where =
      cursor.kind === 'first'
        ? { user: discordUserId }
        : { user: discordUserId, id: cursor.kind === 'before' ? { $lt: cursor.id } : { $gt: cursor.id } };
    const rows = await em.find(Message, where, {
      orderBy: { id: ascending ? 'asc' : 'desc' },
      limit: pageSize + 1,
      fields: ['id', 'discordMessageId', 'userText', 'gptResponse', 'model', 'totalTokens', 'createdAt', 'channelId', 'stopped', 'attachments'],
    });
    const more = rows.length > pageSize;
    const pageRows = rows.slice(0, pageSize);
    if (ascending) pageRows.reverse();
    const items = pageRows.map(toStored);
    return {
      items,
      hasOlder: ascending ? cursor.kind === 'after' : more,
      hasNewer: ascending ? more : cursor.kind === 'before',
    };
  }

  /**
   * Every stored exchange of the user, oldest first, `batchSize` rows at a time by keyset on the row
   * id, so an export never holds the whole history: each batch is read when the previous one is used.
   */
  async *batches(discordUserId: string, batchSize: number): AsyncGenerator<StoredExchange[]> {
    for (let after: string | null = null; ; ) {
      const rows: StoredExchange[] = await this.batchAfter(discordUserId, after, batchSize);
      if (rows.length > 0) yield rows;
      if (rows.length < batchSize) return;
      after = rows.at(-1)!.id;
    }
  }

  private async batchAfter(discordUserId: string, after: string | null, batchSize: number): Promise<StoredExchange[]> {
    // Plain rows, not entities: an export reads every row once, and hydrating entities (with an
    // identity map to hold them) doubled the time of a 100k-exchange export.
    const rows = await this.orm.em
      .fork()
      .createQueryBuilder(Message)
      .select(['id', 'discordMessageId', 'userText', 'gptResponse', 'model', 'totalTokens', 'createdAt', 'stopped', 'attachments'])
      .where(after === null ? { user: discordUserId } : { user: discordUserId, id: { $gt: after } })
      .orderBy({ id: 'asc' })
      .limit(batchSize)
      .execute('all');
    return rows.map(toStored);
  }

  async count(discordUserId: string): Promise<number> {
    return this.orm.em.fork().count(Message, { user: discordUserId });
  }
}

/** A row as read (its attachments column may be null) as the exchange the callers see. */
function toStored(row: Omit<StoredExchange, 'attachments'> & { attachments?: AttachmentMeta[] | null }): StoredExchange {
  return {
    ...(row.channelId ? { channelId: row.channelId } : {}),
    ...(row.attachments?.length ? { attachments: row.attachments } : {}),
    ...(row.stopped ? { stopped: true } : {}),
    id: row.id,
    discordMessageId: row.discordMessageId,
    userText: row.userText,
    gptResponse: row.gptResponse,
    model: row.model,
    totalTokens: row.totalTokens,
    createdAt: row.createdAt,
  };
}
