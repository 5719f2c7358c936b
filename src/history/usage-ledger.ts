// The ledger of tokens the model reported: one row per person, UTC day and model, added to as each
// exchange is answered. It holds counts only, never words, so /clear-history and retention leave it:
// it is what /usage tells a person and /stats tells the operator.
import type { MikroORM } from '@mikro-orm/postgresql';
import type { TokenUsage } from '../chat/types.js';

export interface UsageCounts {
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  /** Answers the model wrote. */
  requests: number;
}

export interface PersonUsage {
  today: UsageCounts;
  month: UsageCounts;
}

export interface ModelUsage extends UsageCounts {
  model: string;
  people: number;
}

export interface UsageWindow {
  /** Different people who were answered. */
  people: number;
  /** Exchanges still stored from the window (fewer than answered after /clear-history or retention). */
  storedExchanges: number;
  /** Most tokens first. */
  models: ModelUsage[];
}

export interface UsageStats {
  today: UsageWindow;
  last30Days: UsageWindow;
}

const DAY_MS = 86_400_000;
/** The UTC calendar day, as PostgreSQL's `date` reads it. */
const utcDay = (at: Date) => at.toISOString().slice(0, 10);

type CountRow = { prompt: string | number; completion: string | number; cached: string | number; requests: string | number };
const counts = (row: CountRow | undefined): UsageCounts => ({
  promptTokens: Number(row?.prompt ?? 0),
  completionTokens: Number(row?.completion ?? 0),
  cachedTokens: Number(row?.cached ?? 0),
  requests: Number(row?.requests ?? 0),
});

export class UsageLedger {
  constructor(private readonly orm: MikroORM) {}

  /** Adds one answer's tokens to the person's row for that UTC day and model. */
  async record(userId: string, model: string, usage: TokenUsage, at = new Date()): Promise<void> {
    await this.orm.em.fork().execute(
      `insert into usage_ledger (user_id, day, model, prompt_tokens, completion_tokens, cached_tokens, requests) values (?, ?, ?, ?, ?, ?, 1)
       on conflict (user_id, day, model) do update set
         prompt_tokens = usage_ledger.prompt_tokens + excluded.prompt_tokens,
         completion_tokens = usage_ledger.completion_tokens + excluded.completion_tokens,
         cached_tokens = usage_ledger.cached_tokens + excluded.cached_tokens,
         requests = usage_ledger.requests + 1`,
      [userId, utcDay(at), model.slice(0, 100), usage.promptTokens, usage.completionTokens, usage.cachedTokens ?? 0],
      'run',
    );
  }

  /** The person's tokens today and this month, in UTC. */
  async person(userId: string, now = new Date()): Promise<PersonUsage> {
    const today = utcDay(now);
    const monthStart = `${today.slice(0, 8)}01`;
    const [row] = await this.orm.em.fork().execute<Record<string, string | number>[]>(
      `select coalesce(sum(prompt_tokens) filter (where day = ?), 0) as t_prompt, coalesce(sum(completion_tokens) filter (where day = ?), 0) as t_completion,
              coalesce(sum(cached_tokens) filter (where day = ?), 0) as t_cached, coalesce(sum(requests) filter (where day = ?), 0) as t_requests,
              coalesce(sum(prompt_tokens), 0) as m_prompt, coalesce(sum(completion_tokens), 0) as m_completion,
              coalesce(sum(cached_tokens), 0) as m_cached, coalesce(sum(requests), 0) as m_requests
       from usage_ledger where user_id = ? and day >= ?`,
      [today, today, today, today, userId, monthStart],
    );
    const part = (p: 't' | 'm') => counts(row && { prompt: row[`${p}_prompt`]!, completion: row[`${p}_completion`]!, cached: row[`${p}_cached`]!, requests: row[`${p}_requests`]! });
    return { today: part('t'), month: part('m') };
  }

  /** For the operator: people, exchanges and tokens by model, today and over the last 30 UTC days. */
  async stats(now = new Date()): Promise<UsageStats> {
    const [today, last30Days] = await Promise.all([this.window(utcDay(now)), this.window(utcDay(new Date(now.getTime() - 29 * DAY_MS)))]);
    return { today, last30Days };
  }

  private async window(fromDay: string): Promise<UsageWindow> {
    const em = this.orm.em.fork();
    const [models, [people], [stored]] = await Promise.all([
      em.execute<(CountRow & { model: string; people: string })[]>(
        `select model, count(distinct user_id) as people, sum(requests) as requests, sum(prompt_tokens) as prompt, sum(completion_tokens) as completion, sum(cached_tokens) as cached
         from usage_ledger where day >= ? group by model order by sum(prompt_tokens + completion_tokens) desc, model`,
        [fromDay],
      ),
      em.execute<{ n: string }[]>('select count(distinct user_id) as n from usage_ledger where day >= ?', [fromDay]),
      em.execute<{ n: string }[]>('select count(*) as n from messages where created_at >= ?', [new Date(`${fromDay}T00:00:00Z`)]),
    ]);
    return {
      people: Number(people?.n ?? 0),
      storedExchanges: Number(stored?.n ?? 0),
      models: models.map((row) => ({ model: row.model, people: Number(row.people), ...counts(row) })),
    };
  }
}
