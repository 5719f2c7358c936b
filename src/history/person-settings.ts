// Each person's own settings, one row in `user_settings`: the model they chose with /model and their
// standing instructions (/instructions). Read once per message they send; no row means the defaults.
// Their instructions are their words, so /clear-history erases them; the choice of model stays.
import type { MikroORM } from '@mikro-orm/postgresql';

/** The longest standing instructions accepted (characters), as the README and /instructions say. */
export const MAX_INSTRUCTIONS_CHARS = 1000;

export interface OwnSettings {
  model: string | null;
  instructions: string | null;
}

export class PersonSettingsStore {
  constructor(private readonly orm: MikroORM) {}

  /** Everything the person set, in one read (the conversation core asks once per message). */
  async of(userId: string): Promise<OwnSettings> {
    const [row] = await this.orm.em.fork().execute<OwnSettings[]>('select model, instructions from user_settings where user_id = ?', [userId]);
    return { model: row?.model ?? null, instructions: row?.instructions ?? null };
  }

  /** The model the person chose, or null for the default. */
  async modelOf(userId: string): Promise<string | null> {
    return (await this.of(userId)).model;
  }

  async setModel(userId: string, model: string): Promise<void> {
    await this.upsert(userId, 'model', model);
  }

  async instructionsOf(userId: string): Promise<string | null> {
    return (await this.of(userId)).instructions;
  }

  async setInstructions(userId: string, text: string): Promise<void> {
    await this.upsert(userId, 'instructions', text);
  }

  /** Forgets the person's instructions (/instructions clear, /clear-history); true if there were any. */
  async clearInstructions(userId: string): Promise<boolean> {
    const [row] = await this.orm.em
      .fork()
      .execute<{ had: boolean }[]>(
        'update user_settings set instructions = null, updated_at = now() where user_id = ? and instructions is not null returning true as had',
        [userId],
      );
    return Boolean(row?.had);
  }

  private async upsert(userId: string, column: 'model' | 'instructions', value: string): Promise<void> {
    await this.orm.em.fork().execute(
      `insert into user_settings (user_id, ${column}, updated_at) values (?, ?, now())
       on conflict (user_id) do update set ${column} = excluded.${column}, updated_at = excluded.updated_at`,
      [userId, value],
      'run',
    );
  }
}
