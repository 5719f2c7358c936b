// Each person's own controls and the operator's safety net, against the real bot process: /usage
// shows what the model reported (and survives /clear-history), /privacy says what is kept and for
// how long, /stats answers owners only, retention deletes old exchanges at start-up, and every
// command can be installed to a server or to a person's account.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { en } from '../../src/discord/locales/en.js';
import { ko } from '../../src/discord/locales/ko.js';
import { openDatabase } from '../../src/history/orm.js';
import { snowflake } from '../support/builders.js';
import { startWorld, type World } from '../support/e2e.js';
import type { FakeUser } from '../support/fake-discord/server.js';

const DAY = 86_400_000;
let w: World;
let owner: FakeUser;

beforeAll(async () => {
  w = await startWorld({
    env: (discord) => {
      owner = discord.user('operator');
      return { OWNER_IDS: owner.id, DAILY_TOKEN_CAP: '100000', HISTORY_RETENTION_DAYS: '30', STREAM_REPLIES: 'false' };
    },
  });
}, 60_000);
afterAll(() => w?.close());

async function sql<T = Record<string, unknown>[]>(query: string, params: unknown[] = []): Promise<T> {
  const { orm } = await openDatabase(w.databaseUrl, { migrate: false });
  try {
    return (await orm.em.getConnection().execute(query, params)) as T;
  } finally {
    await orm.close(true);
  }
}

const reported = async (user: FakeUser) => (await w.storedRows(user.id)).reduce((n, r) => n + r.total_tokens, 0);
const number = (n: number) => n.toLocaleString('en-US');

describe('/usage', () => {
  it('shows the tokens the model reported today and this month, and the cap’s window, only to the person', async () => {
    const ann = w.discord.user('ann');
    await w.ask(ann, 'Count my words, please.');
    await w.ask(ann, 'And these ones as well, if you would.');
    const total = await reported(ann);
    expect(total).toBeGreaterThan(0);

    const reply = await w.discord.commandReply(ann, 'usage');
    expect(reply.flags & 64).toBe(64);
    const [today, month, cap] = reply.content.split('\n').filter((line) => /\d/.test(line));
    expect(today).toContain(number(total));
    expect(month).toContain(number(total));
    // The cap as the rate guard applies it: what this window has used, of how much, and when it frees up.
    expect(cap).toContain(`${number(total)} of ${number(100_000)}`);
    expect(cap).toMatch(/<t:\d+:R>/);
  });

  it('keeps counting after /clear-history, since the ledger holds no words', async () => {
    const ben = w.discord.user('ben');
    await w.ask(ben, 'Something to forget.');
    const total = await reported(ben);
    const run = w.discord.runCommand(ben, 'clear-history');
    const prompt = await w.discord.waitFor(() => (run.response().original?.components.length ? run.response().original : null));
    const [row] = prompt.components as { components: { style: number; custom_id: string }[] }[];
    const confirm = row!.components.find((b) => b.style === 4)!;
    await w.discord.clickButton(ben, prompt.id, confirm.custom_id).responded();
    await w.discord.waitFor(() => (/Deleted/.test(prompt.content) ? true : null));
    expect(await w.storedRows(ben.id)).toEqual([]);

    const reply = await w.discord.commandReply(ben, 'usage');
    expect(reply.content.split('\n').find((line) => /\d/.test(line))).toContain(number(total));
  });

  it('says so in Korean when nothing was used yet', async () => {
    const cho = w.discord.user('cho', 'ko');
    const reply = await w.discord.commandReply(cho, 'usage');
    expect(reply.content).toContain(ko.usage.title);
  });
});

describe('/privacy and /help', () => {
  it('/privacy says what is kept where and for how long, with the retention, only to the person', async () => {
    const dee = w.discord.user('dee');
    const reply = await w.discord.commandReply(dee, 'privacy');
    expect(reply.flags & 64).toBe(64);
    expect(reply.content).toBe(en.privacy({ sessionTtlMinutes: 60, retentionDays: 30 }));
    expect(reply.content).toContain('30 days');
    expect(reply.content).toContain('/clear-history');
  });

  it('/help lists /usage and /privacy and says how long history is kept', async () => {
    const eve = w.discord.user('eve');
    const reply = await w.discord.commandReply(eve, 'help');
    expect(reply.content).toContain('/usage');
    expect(reply.content).toContain('/privacy');
    expect(reply.content).toContain(en.retentionNote(30));
    expect(reply.content).not.toContain('/stats');
  });
});

describe('/stats', () => {
  it('answers an owner with people, exchanges and tokens by model', async () => {
    const fay = w.discord.user('fay');
    await w.ask(fay, 'Hello there.');
    const reply = await w.discord.commandReply(owner, 'stats');
    expect(reply.flags & 64).toBe(64);
    expect(reply.content).toContain('gpt-3.5-turbo');
    expect(reply.content).toContain(en.stats.today);
    expect(reply.content).toContain(en.stats.last30Days);
  });

  it('politely refuses anyone else, in their language', async () => {
    const gus = w.discord.user('gus');
    const hana = w.discord.user('hana', 'ko');
    expect((await w.discord.commandReply(gus, 'stats')).content).toBe(en.stats.refused);
    expect((await w.discord.commandReply(hana, 'stats')).content).toBe(ko.stats.refused);
  });
});

describe('installs', () => {
  it('registers every command for server installs and user installs, in DMs, servers and private channels', () => {
    expect(w.discord.commands.length).toBeGreaterThan(0);
    for (const command of w.discord.commands as { integration_types: number[]; contexts: number[] }[]) {
      expect([...command.integration_types].sort()).toEqual([0, 1]);
      expect([...command.contexts].sort()).toEqual([0, 1, 2]);
    }
  });
});

describe('retention', () => {
  it('deletes exchanges older than HISTORY_RETENTION_DAYS at start-up, and keeps the ledger', async () => {
    const old = snowflake();
    const ivy = w.discord.user('ivy');
    await w.ask(ivy, 'This one is recent.');
    const longAgo = new Date(Date.now() - 45 * DAY);
    await sql(`insert into users (id, username, created_at) values (?, 'old_timer', ?)`, [old, longAgo]);
    for (let i = 0; i < 3; i++) {
      await sql(
        `insert into messages (user_id, discord_message_id, user_text, gpt_response, model, prompt_tokens, completion_tokens, total_tokens, created_at) values (?, ?, 'old words', 'old answer', 'gpt-3.5-turbo', 4, 2, 6, ?)`,
        [old, snowflake(), longAgo],
      );
    }
    await sql(`insert into usage_ledger (user_id, day, model, prompt_tokens, completion_tokens, cached_tokens, requests) values (?, ?, 'gpt-3.5-turbo', 12, 6, 0, 3)`, [old, longAgo.toISOString().slice(0, 10)]);

    await w.bot.stop();
    const restarted = await w.launch();
    const line = await restarted.waitForLog((l) => l.msg === 'old history deleted', 20_000);
    expect(line).toMatchObject({ deleted: 3, retentionDays: 30 });

    expect(await w.storedRows(old)).toEqual([]);
    expect(await sql(`select username from users where id = ?`, [old])).toEqual([{ username: null }]);
    expect(await w.storedRows(ivy.id)).toHaveLength(1);
    const ledger = await sql<{ requests: number }[]>(`select requests from usage_ledger where user_id = ?`, [old]);
    expect(ledger).toEqual([{ requests: 3 }]);
  });
});
