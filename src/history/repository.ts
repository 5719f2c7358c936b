// The one door to stored history. The core saves exchanges through it; commands list and clear
// through it. Each call works in its own EntityManager fork, so no identity map is shared.
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Exchange } from '../chat/types.js';
import { Message, User } from './entities.js';

export interface StoredExchange {
  id: string;
  discordMessageId: string;
  userText: string;
  gptResponse: string;
  model: string;
  totalTokens: number;
  createdAt: Date;
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

  /** Stores an answered exchange once: a second save of the same Discord message id is a no-op. Returns whether a row was written. */
  async save(exchange: Exchange, username?: string): Promise<boolean> {
    const em = this.orm.em.fork();
    await em
      .createQueryBuilder(User)
      .insert({ id: exchange.discordUserId, username: username ?? null, createdAt: new Date() })
      .onConflict('id')
      .ignore()
      .execute();
    const result = await em
      .createQueryBuilder(Message)
      .insert({
        user: exchange.discordUserId,
        discordMessageId: exchange.discordMessageId,
        userText: exchange.userText,
        gptResponse: exchange.gptResponse,
        model: exchange.model,
        promptTokens: exchange.usage.promptTokens,
        completionTokens: exchange.usage.completionTokens,
        totalTokens: exchange.usage.totalTokens,
        createdAt: exchange.createdAt,
      })
      .onConflict('discord_message_id')
      .ignore()
      .execute('run');
    return result.affectedRows > 0;
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
      fields: ['id', 'discordMessageId', 'userText', 'gptResponse', 'model', 'totalTokens', 'createdAt'],
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

  /** Every stored exchange of the user, oldest first (for exporting the whole history). */
  async all(discordUserId: string): Promise<StoredExchange[]> {
    const rows = await this.orm.em.fork().find(
      Message,
      { user: discordUserId },
      { orderBy: { id: 'asc' }, fields: ['id', 'discordMessageId', 'userText', 'gptResponse', 'model', 'totalTokens', 'createdAt'] },
    );
    return rows.map(toStored);
  }

  async count(discordUserId: string): Promise<number> {
    return this.orm.em.fork().count(Message, { user: discordUserId });
  }

  /** Deletes every stored exchange of the user. Returns how many there were. */
  async clear(discordUserId: string): Promise<number> {
    return this.orm.em.fork().nativeDelete(Message, { user: discordUserId });
  }
}

function toStored(row: { id: string; discordMessageId: string; userText: string; gptResponse: string; model: string; totalTokens: number; createdAt: Date }): StoredExchange {
  return {
    id: row.id,
    discordMessageId: row.discordMessageId,
    userText: row.userText,
    gptResponse: row.gptResponse,
    model: row.model,
    totalTokens: row.totalTokens,
    createdAt: row.createdAt,
  };
}
