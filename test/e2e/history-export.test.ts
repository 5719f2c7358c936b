// /history as files when the history is larger than one upload: split to fit the
// `attachment_size_limit` Discord sends with the interaction, every exchange delivered once and
// never cut between files, each JSON file valid on its own, nothing of the export in the bot's log,
// and one export per person at a time.
import type { MikroORM } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/history/orm.js';
import { startWorld, type World } from '../support/e2e.js';
import type { FakeUser, SentMessage } from '../support/fake-discord/server.js';

const LIMIT = 64 * 1024;
const EXCHANGES = 1200;
const HUGE = '가'.repeat(40_000); // 120,000 bytes of UTF-8: more than one file may hold

let w: World;
let db: MikroORM;
let seeded = 0;

beforeAll(async () => {
  w = await startWorld();
  w.discord.attachmentSizeLimit = LIMIT;
  db = (await openDatabase(w.databaseUrl, { migrate: false })).orm;
}, 60_000);
afterAll(async () => {
  await db?.close(true);
  await w?.close();
});

/**
 * Stores `count` exchanges for the user straight in PostgreSQL, of varied length with Korean and
 * emoji (a file cut anywhere but between exchanges would split a character), then `extra` ones.
 */
async function seed(user: FakeUser, count: number, extra: string[] = []): Promise<void> {
  const conn = db.em.getConnection();
  const base = (9_000_000_000_000_000_000n + BigInt(++seeded) * 1_000_000n).toString();
  await conn.execute('insert into users (id, username, created_at) values (?, ?, now())', [user.id, user.username]);
  await conn.execute(
    `insert into messages (user_id, discord_message_id, user_text, gpt_response, model, prompt_tokens, completion_tokens, total_tokens, created_at)
     select ?, (?::bigint + g)::text,
            'question ' || g || ': ' || repeat('한글 😀 ', g % 37) || 'end-of-question-' || g,
            'answer ' || g || repeat(' lorem ipsum', g % 61),
            'gpt-3.5-turbo', 5, 5, 10, now() - (? - g) * interval '1 second'
     from generate_series(1, ?) g`,
    [user.id, base, count, count],
  );
  for (const [i, text] of extra.entries()) {
    await conn.execute(
      `insert into messages (user_id, discord_message_id, user_text, gpt_response, model, created_at) values (?, (?::bigint + ?)::text, ?, 'a short answer', 'gpt-3.5-turbo', now())`,
      [user.id, base, count + 1 + i, text],
    );
  }
}

const fileOption = (value: string) => [{ name: 'format', type: 3, value }];

/** Runs /history with a file format and returns every message of the answer once the summary arrived. */
async function exportHistory(user: FakeUser, format: 'file' | 'json'): Promise<SentMessage[]> {
  const run = w.discord.runCommand(user, 'history', fileOption(format));
  const all = () => {
    const { original, followUps } = run.response();
    return original ? [original, ...followUps] : [];
  };
  await w.discord.waitFor(() => all().some((m) => /whole history/.test(m.content)), 20_000, 'the export summary');
  return all();
}

function expectWithinDiscordLimits(messages: SentMessage[], extension: string): Buffer[] {
  const files = messages.flatMap((m) => m.attachments);
  expect(w.discord.violations).toEqual([]); // nothing was ever refused, so nothing over the limit was sent
  for (const m of messages) {
    expect(m.flags & 64).toBe(64);
    expect(m.attachments.length).toBeGreaterThan(0);
    expect(m.attachments.length).toBeLessThanOrEqual(10);
  }
  expect(files.map((f) => f.filename)).toEqual(files.map((_, i) => `history-${i + 1}.${extension}`));
  for (const f of files) {
    expect(f.content.length).toBeLessThanOrEqual(LIMIT);
    expect(() => new TextDecoder('utf-8', { fatal: true }).decode(f.content)).not.toThrow();
  }
  expect(messages.at(-1)!.content).toContain(`whole history: ${EXCHANGES + 1} exchanges in ${files.length} files`);
  return files.map((f) => f.content);
}

function expectNothingExportedInLogs(): void {
  const log = w.bot.stdout.join('\n');
  for (const text of ['end-of-question', 'lorem ipsum', '한글', '가가가']) expect(log).not.toContain(text);
}

const sequence = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe('/history format:file and format:json over the upload limit', () => {
  it('sends the Markdown history as several files, each within the limit, with every exchange once and in order', async () => {
    const ava = w.discord.user('ava');
    await seed(ava, EXCHANGES, [HUGE]);
    const messages = await exportHistory(ava, 'file');
    expect(messages.length).toBeGreaterThan(1); // more than ten files: follow-up messages
    const files = expectWithinDiscordLimits(messages, 'md');
    const text = files.map((f) => f.toString('utf8')).join('');
    expect([...text.matchAll(/end-of-question-(\d+)/g)].map((m) => Number(m[1]))).toEqual(sequence(EXCHANGES));
    expect([...text.matchAll(/^answer (\d+)/gm)].map((m) => Number(m[1]))).toEqual(sequence(EXCHANGES));
    // The one exchange larger than a file is cut, with a note, instead of failing the export.
    const last = files.at(-1)!.toString('utf8');
    expect(last).toContain('가'.repeat(1000));
    expect(last).toMatch(/cut/i);
    expectNothingExportedInLogs();
  });

  it('sends JSON as several files that each parse on their own', async () => {
    const bo = w.discord.user('bo');
    await seed(bo, EXCHANGES, [HUGE]);
    const messages = await exportHistory(bo, 'json');
    const files = expectWithinDiscordLimits(messages, 'json');
    const parsed = files.map((f) => JSON.parse(f.toString('utf8')) as { you: string; bot: string; cut?: string }[]);
    for (const part of parsed) expect(part.length).toBeGreaterThan(0);
    const exchanges = parsed.flat();
    expect(exchanges.slice(0, EXCHANGES).map((e) => Number(/end-of-question-(\d+)$/.exec(e.you)?.[1]))).toEqual(sequence(EXCHANGES));
    expect(exchanges.slice(0, EXCHANGES).every((e) => e.cut === undefined)).toBe(true);
    const huge = exchanges.at(-1)!;
    expect(HUGE.startsWith(huge.you) && huge.you.length > 1000).toBe(true);
    expect(huge.bot).toBe('a short answer');
    expect(huge.cut).toBeTruthy();
    expectNothingExportedInLogs();
  });
});

describe('when Discord refuses an upload anyway', () => {
  it('apologizes, logs nothing of the files, and frees the export for the next try', async () => {
    const dot = w.discord.user('dot');
    await seed(dot, EXCHANGES);
    w.discord.failNext(/^POST \/webhooks\/\d+\/[^/]+$/, 400, 1); // the first follow-up, with files 11–20
    const run = w.discord.runCommand(dot, 'history', fileOption('json'));
    const apology = await w.discord.waitFor(() => run.response().followUps.find((m) => /command failed/.test(m.content)), 20_000, 'the apology');
    expect(apology.attachments).toEqual([]);
    await w.bot.waitForLog((l) => l.msg === 'interaction handled' && l.userId === dot.id && l.outcome === 'error');
    expectNothingExportedInLogs();
    expect((await exportHistory(dot, 'file')).at(-1)!.content).toContain(`whole history: ${EXCHANGES} exchanges`);
  });
});

describe('one export at a time', () => {
  it('politely refuses a second export while one is running, and the same format again right after it', async () => {
    const cal = w.discord.user('cal');
    await seed(cal, 50);
    // Hold the first export's upload for a moment (Discord asks to retry in 2 s), so it is surely still running.
    const started = Date.now();
    w.discord.failNext(/^PATCH \/webhooks\/\d+\/[^/]+\/messages\/@original$/, 429, 1, 2);
    const first = w.discord.runCommand(cal, 'history', fileOption('file'));
    await w.discord.waitFor(() => w.discord.requests.some((r) => r.method === 'PATCH' && r.at >= started && r.path.endsWith('@original')), 10_000, 'the first upload');

    const second = await w.discord.commandReply(cal, 'history', fileOption('json'));
    expect(second.content).toMatch(/already/i);
    expect(second.attachments).toEqual([]);
    expect(second.flags & 64).toBe(64);

    const done = await w.discord.waitFor(() => (first.response().original?.attachments.length ? first.response().original : null), 15_000, 'the first export');
    expect(done.content).toContain('whole history: 50 exchanges in 1 file');
    expect(done.attachments.map((a) => a.filename)).toEqual(['history.md']);

    const third = await w.discord.commandReply(cal, 'history', fileOption('file'));
    expect(third.content).toMatch(/again <t:\d+:R>/);
    expect(third.attachments).toEqual([]);
    // The other format is not held back by the pause: asking for both is ordinary.
    expect((await exportHistory(cal, 'json'))[0]!.content).toContain('whole history: 50 exchanges in 1 file');
    // Paging is not an export: it still works meanwhile.
    expect((await w.discord.commandReply(cal, 'history')).embeds.length).toBe(5);
  });
});
