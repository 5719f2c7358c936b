// `npm run bench`: measures the real bot against the fakes on 127.0.0.1 and prints a table (and
// bench/results.json). It reports; it never fails on a target. See docs/performance.md.
//   1. overhead per DM vs a minimal discord.js bot (the floor)   4. /history at 1M rows
//   2. time to first visible text with streaming                 5. memory: RSS and Redis per session
//   3. 200 users at once                                         6. tokens per request vs the budget
//   7. replicas: throughput of one vs two, recovery after SIGKILL
//   9. attachments: a 4000×3000 photo's bytes and tokens before/after preparing, download + prepare time
import { writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { countTokens, fitToBudget, loadTokenCounter } from '../src/chat/context.js';
import { attachmentFigures } from './attachments.js';
import type { Turn } from '../src/chat/types.js';
import { openDatabase } from '../src/history/orm.js';
import { HistoryRepository } from '../src/history/repository.js';
import { startBot, startCommand, type BotProcess } from '../test/support/bot-process.js';
import { dropDatabase, freshDatabaseUrl, PG_BASE_URL } from '../test/support/database.js';
import { FakeDiscord, type FakeUser } from '../test/support/fake-discord/server.js';
import { FakeOpenAI } from '../test/support/fake-openai.js';
import { freshPrefix, REDIS_URL } from '../test/support/redis.js';

const args = new Set(process.argv.slice(2));
const only = [...args].find((a) => a.startsWith('--only='))?.slice(7).split(',');
const runs = (name: string) => !only || only.includes(name);
const profileArgs = args.has('--cpu-prof') ? ['--cpu-prof', `--cpu-prof-dir=${fileURLToPath(new URL('./profiles', import.meta.url))}`] : [];

const results: Record<string, unknown> = { machine: { cpus: (await import('node:os')).cpus().length, node: process.version }, at: new Date().toISOString() };
const rows: [string, string, string][] = [];
const report = (what: string, value: string, target = '') => {
  rows.push([what, value, target]);
  process.stdout.write(`  ${what}: ${value}${target ? `   (target: ${target})` : ''}\n`);
};

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
};
const ms = (v: number) => `${v.toFixed(1)} ms`;
const sleep = (t: number) => new Promise((r) => setTimeout(r, t));

interface Stage {
  discord: FakeDiscord;
  openai: FakeOpenAI;
  bot: BotProcess;
  prefix: string;
  databaseName: string;
  /** Every bot process of the stage (the first is `bot`). */
  bots: BotProcess[];
  /** Starts another replica on the same fakes, database and Redis prefix. */
  launch(env?: Record<string, string>): Promise<BotProcess>;
  stop(): Promise<void>;
}

async function stage(env: Record<string, string> = {}, entry?: string): Promise<Stage> {
  const discord = await new FakeDiscord().start();
  const openai = await new FakeOpenAI().start();
  const prefix = freshPrefix('bench');
  const { url, name } = freshDatabaseUrl('bench');
  // LOG_LEVEL stays at the default (info): one log line per message is part of the real cost.
  // The bench's people write faster than any person can: where it lifts the per-minute limit, it lifts
  // the cap on one person's waiting messages too (measured by the tests, not here).
  if (env.RATE_LIMIT_PER_MINUTE === '0') env = { MAX_WAITING_PER_PERSON: '0', ...env };
  const launch = (extra: Record<string, string> = {}) =>
    startBot(
      { discord, openai, databaseUrl: url, redisPrefix: prefix },
      { LOG_LEVEL: 'info', OPENAI_MAX_RETRIES: '0', OPENAI_TIMEOUT_MS: '30000', ...env, ...extra },
      // The floor runs plain; the bot runs exactly as `npm start` runs it.
      entry ? { entry, nodeArgs: profileArgs } : { nodeArgs: [...startCommand().nodeArgs, ...profileArgs] },
    );
  const bot = await launch();
  const bots = [bot];
  return {
    discord,
    openai,
    bot,
    prefix,
    databaseName: name,
    bots,
    async launch(extra) {
      const started = await launch(extra);
      bots.push(started);
      return started;
    },
    async stop() {
      await Promise.all(bots.map((b) => b.stop()));
      await Promise.all([discord.stop(), openai.stop()]);
      const redis = new Redis(REDIS_URL);
      const keys = await redis.keys(`${prefix}*`);
      for (let i = 0; i < keys.length; i += 500) await redis.del(...keys.slice(i, i + 500));
      redis.disconnect();
      if (!entry) await dropDatabase(name);
    },
  };
}

/** Sends a DM and resolves with the ms from dispatch to the bot's first message in that DM. */
function timeToFirstReply(discord: FakeDiscord, user: FakeUser, text: string): Promise<number> {
  return new Promise((resolve) => {
    const before = discord.botMessagesTo(user).length;
    let sentAt = 0;
    const off = discord.onChange(() => {
      if (discord.botMessagesTo(user).length > before) {
        off();
        resolve(performance.now() - sentAt);
      }
    });
    sentAt = performance.now();
    discord.sendDm(user, text);
  });
}

async function overheadSeries(s: Stage, count: number): Promise<number[]> {
  const users = Array.from({ length: 20 }, (_, i) => s.discord.user(`bench${i}`));
  for (const u of users) await timeToFirstReply(s.discord, u, 'warm up'); // JIT, connections, first sessions
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    // Until the whole answer is visible (not its first words), as the person waits for it.
    times.push((await timeToWholeAnswer(s.discord, users[i % users.length]!, `message ${i}`, `You said: message ${i}`)).whole);
    // discord.js keeps every bot under Discord's global 50 requests/s; pacing the DMs keeps both
    // bots below it, so the figures show the bot's own work rather than that queue.
    await sleep(50);
  }
  return times;
}

/**
 * Sends a DM and resolves when the fake Discord first holds the whole answer `expected` in that DM
 * (after any edits): what the person waits for, not the first words. Also gives the first words' time.
 */
function timeToWholeAnswer(discord: FakeDiscord, user: FakeUser, text: string, expected: string): Promise<{ whole: number; first: number }> {
  return new Promise((resolve) => {
    const before = discord.botMessagesTo(user).length;
    let sentAt = 0;
    let first = 0;
    const check = () => {
      const sent = discord.botMessagesTo(user).slice(before);
      if (sent.length && !first) first = performance.now() - sentAt;
      if (sent.some((m) => m.content === expected)) {
        off();
        resolve({ whole: performance.now() - sentAt, first });
      }
    };
    const off = discord.onChange(check);
    sentAt = performance.now();
    discord.sendDm(user, text);
  });
}

/** Message requests (posts and edits in DMs) the bot made since `from`. */
const messageRequests = (discord: FakeDiscord, from = 0) =>
  discord.requests.slice(from).filter((r) => /^\/channels\/\d+\/messages(\/\d+)?$/.test(r.path) && (r.method === 'POST' || r.method === 'PATCH')).length;

/** Resident memory of the bot process (`npm start` runs one node process). */
async function rssMb(bot: BotProcess): Promise<number> {
  const status = await readFile(`/proc/${bot.child.pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

// ---- 1. overhead per DM ------------------------------------------------------------------------
if (runs('overhead')) {
  process.stdout.write('\n1. Overhead per DM, until the whole answer is visible (zero-latency model, 200 DMs, one at a time)\n');
  const floor = await stage({}, 'bench/floor-bot.ts');
  const floorTimes = await overheadSeries(floor, 200);
  await floor.stop();
  const bot = await stage({ RATE_LIMIT_PER_MINUTE: '0', ...(process.env.BENCH_STREAM === 'false' ? { STREAM_REPLIES: 'false' } : {}) });
  const botTimes = await overheadSeries(bot, 200);
  await bot.stop();
  const summary = (t: number[]) => ({ p50: percentile(t, 50), p95: percentile(t, 95), p99: percentile(t, 99) });
  const f = summary(floorTimes);
  const b = summary(botTimes);
  results.overhead = { floor: f, bot: b, ratioP95: b.p95 / f.p95 };
  report('floor p50/p95/p99', `${ms(f.p50)} / ${ms(f.p95)} / ${ms(f.p99)}`);
  report('bot   p50/p95/p99', `${ms(b.p50)} / ${ms(b.p95)} / ${ms(b.p99)}`);
  report('bot/floor at p95', `${(b.p95 / f.p95).toFixed(2)}×`, '≤ 1.5×');
}

// ---- 1b. whole answers: one person's back-to-back DMs, and 300 people at once --------------------
if (runs('whole')) {
  process.stdout.write('\n1b. Whole answer visible: one person sends 3 DMs back to back (zero-latency model, streaming on), 60 rounds\n');
  const series = async (s: Stage) => {
    const people = Array.from({ length: 10 }, (_, i) => s.discord.user(`b2b${i}`));
    for (const u of people) await timeToWholeAnswer(s.discord, u, 'warm up', 'You said: warm up');
    const times: number[] = [];
    const requestsBefore = messageRequests(s.discord);
    for (let round = 0; round < 60; round++) {
      const u = people[round % people.length]!;
      const texts = [0, 1, 2].map((k) => `round ${round} part ${k}`);
      const done = texts.map((t) => timeToWholeAnswer(s.discord, u, t, `You said: ${t}`));
      times.push(...(await Promise.all(done)).map((d) => d.whole));
      await sleep(60); // stay under Discord's 50 requests/s for both bots
    }
    return { times, requestsPerAnswer: (messageRequests(s.discord) - requestsBefore) / 180 };
  };
  const floor = await stage({}, 'bench/floor-bot.ts');
  const f = await series(floor);
  await floor.stop();
  const bot = await stage({ RATE_LIMIT_PER_MINUTE: '0' });
  const b = await series(bot);
  const nonceHits = bot.discord.nonceHits;
  await bot.stop();
  const sum = (t: number[]) => ({ p50: percentile(t, 50), p95: percentile(t, 95) });
  results.backToBack = { floor: { ...sum(f.times), requestsPerAnswer: f.requestsPerAnswer }, bot: { ...sum(b.times), requestsPerAnswer: b.requestsPerAnswer }, nonceHits };
  report('back to back, floor whole answer p50/p95', `${ms(sum(f.times).p50)} / ${ms(sum(f.times).p95)}, ${f.requestsPerAnswer.toFixed(2)} req/answer`);
  report('back to back, bot whole answer p50/p95', `${ms(sum(b.times).p50)} / ${ms(sum(b.times).p95)}, ${b.requestsPerAnswer.toFixed(2)} req/answer, nonce hits ${nonceHits}`);
  report('back to back, bot/floor p50 and p95', `${(sum(b.times).p50 / sum(f.times).p50).toFixed(2)}× / ${(sum(b.times).p95 / sum(f.times).p95).toFixed(2)}×`, '≤ 1.3×');

  process.stdout.write('\n1c. Saturation: 300 people at once; the model starts after 300 ms and writes ~720 characters in ~3 s\n');
  const answerFor = (r: { messages: { content: string }[] }) => `${r.messages.at(-1)?.content}: ${'a fairly long answer that streams. '.repeat(20)}`.trim();
  const saturate = async (s: Stage, label: string) => {
    s.openai.setReply(answerFor);
    s.openai.latencyMs = 300;
    s.openai.chunkDelayMs = 25; // ~120 words: about 3 s
    const people = Array.from({ length: 300 }, (_, i) => s.discord.user(`${label}${i}`));
    const requestsBefore = messageRequests(s.discord);
    const started = performance.now();
    const timings = await Promise.all(people.map((u, i) => timeToWholeAnswer(s.discord, u, `q${i}`, answerFor({ messages: [{ content: `q${i}` }] }))));
    const all = performance.now() - started;
    return { allVisibleMs: all, firstP50: percentile(timings.map((t) => t.first), 50), wholeP50: percentile(timings.map((t) => t.whole), 50), requestsPerAnswer: (messageRequests(s.discord) - requestsBefore) / 300 };
  };
  const floorN = await stage({}, 'bench/floor-bot.ts');
  const fN = await saturate(floorN, 'sf');
  await floorN.stop();
  const botN = await stage({ RATE_LIMIT_PER_MINUTE: '0' });
  const bN = await saturate(botN, 'sb');
  await botN.stop();
  results.saturation = { floor: fN, bot: bN };
  report('saturation, floor: all visible / first words p50 / req per answer', `${ms(fN.allVisibleMs)} / ${ms(fN.firstP50)} / ${fN.requestsPerAnswer.toFixed(2)}`);
  report('saturation, bot: all visible / first words p50 / req per answer', `${ms(bN.allVisibleMs)} / ${ms(bN.firstP50)} / ${bN.requestsPerAnswer.toFixed(2)}`, '≤ 1.1× floor, ≤ 1.1 req, first ≤ floor');
}

// ---- 2. time to first visible text ---------------------------------------------------------------
if (runs('first-text')) {
  process.stdout.write('\n2. Time to first visible text, streaming, first token at 300 ms (50 DMs)\n');
  const s = await stage({ RATE_LIMIT_PER_MINUTE: '0' });
  s.openai.latencyMs = 300;
  s.openai.chunkDelayMs = 20;
  const users = Array.from({ length: 10 }, (_, i) => s.discord.user(`stream${i}`));
  await timeToFirstReply(s.discord, users[0]!, 'warm up');
  await sleep(1500);
  const times: number[] = [];
  for (let i = 0; i < 50; i++) {
    times.push(await timeToFirstReply(s.discord, users[i % users.length]!, `tell me something ${i}`));
    await sleep(400); // let the answer finish streaming
  }
  await s.stop();
  const p50 = percentile(times, 50);
  const p95 = percentile(times, 95);
  results.firstText = { p50, p95, afterFirstTokenP50: p50 - 300, afterFirstTokenP95: p95 - 300 };
  report('first text p50/p95', `${ms(p50)} / ${ms(p95)}`);
  report('after the first token p95', ms(p95 - 300), '≤ 50 ms');
}

// ---- 3. concurrency ------------------------------------------------------------------------------
async function crowd(s: Stage, label: string): Promise<{ lastAnsweredMs: number; lost: number; wrong: number }> {
  s.openai.latencyMs = 500;
  const users = Array.from({ length: 200 }, (_, i) => s.discord.user(`${label}${i}`));
  const started = performance.now();
  const answered = await Promise.all(
    users.map((u, i) => Promise.race([timeToFirstReply(s.discord, u, `hello from ${i}`).then(() => true), sleep(30_000).then(() => false)])),
  );
  const lastAnsweredMs = performance.now() - started;
  await sleep(300);
  const wrong = users.filter((u, i) => s.discord.botMessagesTo(u)[0]?.content !== `You said: hello from ${i}`).length;
  return { lastAnsweredMs, lost: answered.filter((a) => !a).length, wrong };
}

if (runs('concurrency')) {
  process.stdout.write('\n3. 200 users at once, model latency 500 ms\n');
  // Discord allows a bot 50 requests per second in all (discord.js enforces it), so 200 replies take
  // at least 4 s whatever the bot does; the floor bot shows that bound, a raised limit the bot's own.
  const floor = await stage({}, 'bench/floor-bot.ts');
  const f = await crowd(floor, 'floor');
  await floor.stop();
  const s = await stage({ RATE_LIMIT_PER_MINUTE: '0', STREAM_REPLIES: 'false' });
  const b = await crowd(s, 'crowd');
  await s.stop();
  const raised = await stage({ RATE_LIMIT_PER_MINUTE: '0', STREAM_REPLIES: 'false', DISCORD_GLOBAL_RPS: '1000' });
  const r = await crowd(raised, 'raised');
  await raised.stop();
  results.concurrency = { users: 200, modelLatencyMs: 500, floorAt50rps: f, botAt50rps: b, botAt1000rps: r };
  report('floor, Discord limit 50 req/s', `last after ${ms(f.lastAnsweredMs)}, lost ${f.lost}`);
  report('bot, Discord limit 50 req/s', `last after ${ms(b.lastAnsweredMs)}, lost ${b.lost}, wrong ${b.wrong}`);
  report('bot, limit raised to 1000 req/s', `last after ${ms(r.lastAnsweredMs)}, lost ${r.lost}, wrong ${r.wrong}`, '≤ 2000 ms, none lost');
}

// ---- 4. /history at scale ------------------------------------------------------------------------
if (runs('history')) {
  process.stdout.write('\n4. /history with 1,000,000 exchanges across 10,000 users\n');
  const url = `${PG_BASE_URL}/dgpt_bench_history`;
  const { orm } = await openDatabase(url);
  const conn = orm.em.getConnection();
  const [counted] = await conn.execute<{ n: string }[]>('select count(*) as n from messages');
  if (Number(counted?.n) !== 1_000_000) {
    const seedStart = performance.now();
    await conn.execute('truncate messages, users cascade');
    await conn.execute(`insert into users (id, username, created_at) select (1300000000000000000 + g)::text, 'user' || g, now() from generate_series(1, 10000) g`);
    // User 1 is the heavy one with 5,000 exchanges; the other 995,000 are spread over the rest.
    await conn.execute(`insert into messages (user_id, discord_message_id, user_text, gpt_response, model, prompt_tokens, completion_tokens, total_tokens, created_at)
      select (1300000000000000000 + case when g <= 5000 then 1 else 2 + (g % 9999) end)::text, (1400000000000000000 + g)::text,
             'question number ' || g, 'an answer of moderate length for exchange number ' || g || repeat(' lorem ipsum', 20),
             'gpt-3.5-turbo', 50, 80, 130, now() - (1000000 - g) * interval '1 second'
      from generate_series(1, 1000000) g`);
    await conn.execute('analyze messages');
    report('seeded in', ms(performance.now() - seedStart));
  }
  const history = new HistoryRepository(orm);
  const heavyId = (1_300_000_000_000_000_000n + 1n).toString();
  // Walk to page 50 by keyset, as the Next button does.
  let cursor: { kind: 'first' } | { kind: 'before'; id: string } = { kind: 'first' };
  for (let page = 1; page < 50; page++) {
    const p = await history.page(heavyId, cursor, 5);
    cursor = { kind: 'before', id: p.items.at(-1)!.id };
  }
  const page50Cursor = cursor;
  const time = async (fn: () => Promise<unknown>) => {
    const times: number[] = [];
    for (let i = 0; i < 20; i++) await fn(); // warm
    for (let i = 0; i < 200; i++) {
      const t = performance.now();
      await fn();
      times.push(performance.now() - t);
    }
    return { p50: percentile(times, 50), p95: percentile(times, 95) };
  };
  const first = await time(() => history.page(heavyId, { kind: 'first' }, 5));
  const deep = await time(() => history.page(heavyId, page50Cursor, 5));
  const count = await time(() => history.count(heavyId));
  const plan = await conn.execute<{ 'QUERY PLAN': string }[]>(
    `explain (analyze, buffers off) select id, discord_message_id, user_text, gpt_response, model, total_tokens, created_at from messages where user_id = ? and id < ? order by id desc limit 6`,
    [heavyId, page50Cursor.kind === 'before' ? page50Cursor.id : '0'],
  );
  await orm.close(true);
  const planText = plan.map((r) => r['QUERY PLAN']).join('\n');
  results.history = { firstPage: first, page50: deep, count, plan: planText };
  report('first page p50/p95', `${ms(first.p50)} / ${ms(first.p95)}`, 'p95 < 5 ms');
  report('page 50 p50/p95', `${ms(deep.p50)} / ${ms(deep.p95)}`, 'p95 < 5 ms');
  report('count (page counter) p50/p95', `${ms(count.p50)} / ${ms(count.p95)}`);
  process.stdout.write(`  plan for page 50:\n${planText.replace(/^/gm, '    ')}\n`);
}

// ---- 5. memory -----------------------------------------------------------------------------------
if (runs('memory')) {
  process.stdout.write('\n5. Memory\n');
  const s = await stage({ RATE_LIMIT_PER_MINUTE: '0', STREAM_REPLIES: 'false' });
  await sleep(1000);
  const idle = await rssMb(s.bot);
  const users = Array.from({ length: 1000 }, (_, i) => s.discord.user(`mem${i}`));
  for (let i = 0; i < users.length; i += 50) {
    await Promise.all(users.slice(i, i + 50).map((u) => timeToFirstReply(s.discord, u, `Hi, I am user ${i}, tell me about the weather today please.`)));
  }
  await sleep(1000);
  const busy = await rssMb(s.bot);
  const redis = new Redis(REDIS_URL);
  let bytes = 0;
  for (const u of users.slice(0, 100)) bytes += (await redis.memory('USAGE', `${s.prefix}session:{${u.id}}`)) ?? 0;
  redis.disconnect();
  await s.stop();
  // The floor bot, the same way.
  const floor = await stage({}, 'bench/floor-bot.ts');
  await sleep(1000);
  const floorIdle = await rssMb(floor.bot);
  const floorUsers = Array.from({ length: 1000 }, (_, i) => floor.discord.user(`fmem${i}`));
  for (let i = 0; i < floorUsers.length; i += 50) {
    await Promise.all(floorUsers.slice(i, i + 50).map((u) => timeToFirstReply(floor.discord, u, `Hi, I am user ${i}, tell me about the weather today please.`)));
  }
  await sleep(1000);
  const floorBusy = await rssMb(floor.bot);
  await floor.stop();
  results.memory = { idleRssMb: idle, rssWith1000SessionsMb: busy, redisBytesPerSession: bytes / 100, floorIdleRssMb: floorIdle, floorRssWith1000Mb: floorBusy };
  report('floor RSS idle / after 1,000 people', `${floorIdle.toFixed(0)} MB / ${floorBusy.toFixed(0)} MB`);
  report('bot RSS idle', `${idle.toFixed(0)} MB`);
  report('bot RSS with 1,000 active sessions', `${busy.toFixed(0)} MB`, '< 150 MB');
  report('Redis bytes per session (one exchange)', `${(bytes / 100).toFixed(0)} B`);
}

// ---- 6. cost ------------------------------------------------------------------------------------
if (runs('cost')) {
  process.stdout.write('\n6. Tokens per request over a 50-turn conversation (CONTEXT_TOKEN_BUDGET=3000)\n');
  const s = await stage({ RATE_LIMIT_PER_MINUTE: '0', STREAM_REPLIES: 'false', CONTEXT_TOKEN_BUDGET: '3000' });
  s.openai.setReply((r) => `Here is a thoughtful answer to "${r.messages.at(-1)?.content}". ${'It goes on with useful detail. '.repeat(12)}`);
  const user = s.discord.user('talker');
  for (let i = 0; i < 50; i++) await timeToFirstReply(s.discord, user, `Question ${i}: ${'could you explain a little more about this topic? '.repeat(3)}`);
  await sleep(300);
  const count = await loadTokenCounter('gpt-3.5-turbo');
  const perRequest = s.openai.requests.map((r) => countTokens(r.messages as never, count));
  await s.stop();
  results.cost = { budget: 3000, perRequest, max: Math.max(...perRequest) };
  const pick = [1, 10, 20, 30, 40, 50].map((t) => `#${t}: ${perRequest[t - 1]}`).join(', ');
  report('tokens per request', pick);
  report('largest request', `${Math.max(...perRequest)} tokens`, '≤ 3000');
}

// ---- 6b. prompt cache ---------------------------------------------------------------------------
/**
 * Input tokens OpenAI could serve from its prompt cache: a request reuses the longest prefix it
 * shares with an earlier request of the same person, if that prefix is at least 1,024 tokens, counted
 * in steps of 128 (https://platform.openai.com/docs/guides/prompt-caching). Prefixes are compared
 * message by message (a message's tokens count once all of it matches).
 */
function reusableShare(requests: { role: string; content: string }[][], count: (t: { role: 'user'; content: string }) => number): number {
  let input = 0;
  let reusable = 0;
  const tokens = (m: { content: string }) => count({ role: 'user', content: m.content });
  requests.forEach((messages, i) => {
    const total = messages.reduce((n, m) => n + tokens(m), 3);
    input += total;
    let best = 0;
    for (const earlier of requests.slice(0, i)) {
      let shared = 0;
      for (const [k, message] of messages.entries()) {
        if (earlier[k]?.content !== message.content || earlier[k]?.role !== message.role) break;
        shared += tokens(message);
      }
      best = Math.max(best, shared);
    }
    if (best >= 1024) reusable += 1024 + Math.floor((best - 1024) / 128) * 128;
  });
  return reusable / input;
}

if (runs('cache')) {
  process.stdout.write('\n6b. Prompt cache: a 60-message conversation, gpt-4o, CONTEXT_TOKEN_BUDGET=4000\n');
  const s = await stage({ RATE_LIMIT_PER_MINUTE: '0', STREAM_REPLIES: 'false', CONTEXT_TOKEN_BUDGET: '4000', OPENAI_MODEL: 'gpt-4o', MAX_INPUT_CHARS: '4000' });
  const answer = (r: { messages: { content: string }[] }) => `About "${r.messages.at(-1)?.content.slice(0, 40)}": ${'Here is a careful, detailed answer with examples and caveats. '.repeat(14)}`.trim();
  s.openai.setReply(answer);
  const user = s.discord.user('regular');
  const questions = Array.from({ length: 60 }, (_, i) => `Question ${i}: ${'could you explain a little more about this part of the topic, with an example? '.repeat(3)}`);
  for (const [i, q] of questions.entries()) await timeToWholeAnswer(s.discord, user, q, answer({ messages: [{ content: q }] })).catch(() => i);
  const requests = s.openai.requests.map((r) => r.messages as { role: string; content: string }[]);
  await s.stop();
  const count = await loadTokenCounter('gpt-4o');
  const after = reusableShare(requests, count);
  // The same conversation trimmed one turn at a time (as before): replayed through fitToBudget with a keep share of 100%.
  const before = (() => {
    let session: Turn[] = [{ role: 'system', content: requests[0]![0]!.content }];
    const prompts: { role: string; content: string }[][] = [];
    for (const q of questions) {
      const fit = fitToBudget([...session, { role: 'user', content: q }], 4000, count, 1);
      if (!fit.ok) break;
      prompts.push(fit.turns);
      session = [...fit.turns, { role: 'assistant', content: answer({ messages: [{ content: q }] }) }];
    }
    return reusableShare(prompts, count);
  })();
  results.promptCache = { requests: requests.length, reusableShareAfter: after, reusableShareOneTurnAtATime: before };
  report('input tokens reusable from earlier requests (OpenAI rule)', `${(after * 100).toFixed(0)}% (trimming one turn at a time: ${(before * 100).toFixed(0)}%)`, '≥ 60%');
}

// ---- 7. replicas ---------------------------------------------------------------------------------
/** Sends `count` DMs from as many people at once; resolves with the time until the last is answered. */
async function burst(s: Stage, label: string, count: number): Promise<{ seconds: number; perSecond: number; lost: number; doubled: number }> {
  const users = Array.from({ length: count }, (_, i) => s.discord.user(`${label}${i}`));
  const started = performance.now();
  const answered = await Promise.all(users.map((u, i) => Promise.race([timeToFirstReply(s.discord, u, `hi ${i}`).then(() => true), sleep(60_000).then(() => false)])));
  const seconds = (performance.now() - started) / 1000;
  await sleep(500);
  const doubled = users.filter((u) => s.discord.botMessagesTo(u).length > 1).length;
  return { seconds, perSecond: count / seconds, lost: answered.filter((a) => !a).length, doubled };
}

async function replicated(count: number, env: Record<string, string>): Promise<Stage> {
  const s = await stage({ RATE_LIMIT_PER_MINUTE: '0', STREAM_REPLIES: 'false', ...env });
  while (s.bots.length < count) await s.launch();
  await s.discord.waitFor(() => s.discord.connectedSessions === count, 10_000, 'gateway sessions');
  // Each replica learns how many share Discord's budget within 5 s.
  if (count > 1) await Promise.all(s.bots.map((b) => b.waitForLog((l) => l.msg === 'sharing the Discord request budget' && l.replicas === count, 15_000)));
  s.openai.latencyMs = 500;
  const warm = s.discord.user('warm');
  for (let i = 0; i < 5; i++) await timeToFirstReply(s.discord, warm, `warm ${i}`);
  return s;
}

/** The replica whose consumer holds the one pending stream entry (consumer names end in -<pid>-<random>). */
async function holder(s: Stage, redis: Redis): Promise<BotProcess> {
  for (let i = 0; i < 200; i++) {
    const pending = (await redis.xpending(`${s.prefix}{dm}:stream`, 'answerers', '-', '+', 10)) as [string, string][];
    const pid = pending.length === 1 ? Number(pending[0]![1].split('-').at(-2)) : NaN;
    const bot = s.bots.find((b) => b.child.pid === pid);
    if (bot) return bot;
    await sleep(10);
  }
  throw new Error('no single pending entry');
}

/** Kills the replica answering a DM (model latency 500 ms) and times the answer from the kill. */
async function recovery(redeliverAfterMs: number, samples: number): Promise<number[]> {
  const s = await stage({ RATE_LIMIT_PER_MINUTE: '0', STREAM_REPLIES: 'false', REDELIVER_AFTER_MS: String(redeliverAfterMs) });
  const redis = new Redis(REDIS_URL);
  const times: number[] = [];
  try {
    for (let i = 0; i < samples; i++) {
      while (s.bots.filter((b) => b.child.exitCode === null && b.child.signalCode === null).length < 2) await s.launch({ REDELIVER_AFTER_MS: String(redeliverAfterMs) });
      await s.discord.waitFor(() => s.discord.connectedSessions === 2, 10_000, 'two gateway sessions');
      s.openai.latencyMs = 500;
      const user = s.discord.user(`victim${i}`);
      const answered = s.discord.waitForBotMessages(user, 1, 0, redeliverAfterMs * 3 + 10_000);
      s.discord.sendDm(user, 'still there?');
      await s.discord.waitFor(() => s.openai.requests.some((r) => JSON.stringify(r.messages).includes('still there?')), 5000, 'the model request');
      s.openai.latencyMs = 500;
      const victim = await holder(s, redis);
      const killedAt = performance.now();
      await victim.stop('SIGKILL');
      await answered;
      times.push(performance.now() - killedAt);
      await sleep(300);
      if (s.discord.botMessagesTo(user).length !== 1) throw new Error('a DM was answered twice');
    }
  } finally {
    redis.disconnect();
    await s.stop();
  }
  return times;
}

if (runs('replicas')) {
  process.stdout.write('\n7. Replicas: 400 DMs from 400 people at once, model latency 500 ms\n');
  const throughput: Record<string, unknown> = {};
  for (const [label, env] of [
    ['Discord limit 50 req/s', {}],
    ['limit raised to 1000 req/s', { DISCORD_GLOBAL_RPS: '1000' }],
  ] as const) {
    for (const count of [1, 2]) {
      const s = await replicated(count, env);
      const r = await burst(s, `r${count}x`, 400);
      await s.stop();
      throughput[`${label}, ${count} replica(s)`] = r;
      report(`${count} replica${count > 1 ? 's' : ''}, ${label}`, `${r.perSecond.toFixed(1)} answers/s (400 in ${r.seconds.toFixed(2)} s), lost ${r.lost}, doubled ${r.doubled}`);
    }
  }
  process.stdout.write('\n   Recovery after SIGKILL of the replica answering a DM (model latency 500 ms)\n');
  const fast = await recovery(2000, 5);
  const standard = await recovery(15_000, 1);
  results.replicas = { throughput, recoveryMs: { redeliverAfter2000: fast, redeliverAfter15000: standard } };
  report('answer after SIGKILL, REDELIVER_AFTER_MS=2000 (5 runs)', `p50 ${ms(percentile(fast, 50))}, max ${ms(Math.max(...fast))}`, '≤ 2000 + 500 ms model (+ takeover poll)');
  report('answer after SIGKILL, REDELIVER_AFTER_MS=15000 (default)', ms(standard[0]!), '≤ 15000 + 500 ms model (+ takeover poll)');
}

// ---- 8. restarts ---------------------------------------------------------------------------------
/** The only replica restarted `times` times (SIGTERM or SIGKILL, then a new process) while a DM arrives every 100 ms. */
async function restarts(times: number, signal: NodeJS.Signals): Promise<{ sent: number; lost: number; doubled: number; identifies: number; resumes: number; failedResumes: number; downMs: number[] }> {
  const s = await stage({ RATE_LIMIT_PER_MINUTE: '0', STREAM_REPLIES: 'false' });
  const user = s.discord.user(`restarts-${signal}`);
  const before = s.discord.gatewayStats;
  const texts: string[] = [];
  let sending = true;
  const sender = (async () => {
    for (let i = 0; sending; i++) {
      texts.push(`dm ${i}`);
      s.discord.sendDm(user, `dm ${i}`);
      await sleep(100);
    }
  })();
  const downMs: number[] = [];
  for (let i = 0; i < times; i++) {
    const running = s.bots.find((b) => b.child.exitCode === null && b.child.signalCode === null)!;
    const stoppedAt = performance.now();
    await running.stop(signal);
    await s.launch();
    downMs.push(performance.now() - stoppedAt);
  }
  sending = false;
  await sender;
  const answers = (text: string) => s.discord.botMessagesTo(user).filter((m) => m.content === `You said: ${text}`).length;
  await s.discord.waitFor(() => texts.every((t) => answers(t) > 0), 30_000, 'every DM answered').catch(() => undefined);
  await sleep(500);
  const after = s.discord.gatewayStats;
  await s.stop();
  return {
    sent: texts.length,
    lost: texts.filter((t) => answers(t) === 0).length,
    doubled: texts.filter((t) => answers(t) > 1).length,
    identifies: after.identifies - before.identifies,
    resumes: after.resumes - before.resumes,
    failedResumes: after.failedResumes - before.failedResumes,
    downMs,
  };
}

if (runs('restarts')) {
  process.stdout.write('\n8. Restarts of the only replica while a DM arrives every 100 ms\n');
  const out: Record<string, unknown> = {};
  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    const r = await restarts(10, signal);
    out[signal] = r;
    report(`10 restarts after ${signal}`, `${r.sent} DMs: lost ${r.lost}, doubled ${r.doubled}; ${r.identifies} IDENTIFYs, ${r.resumes} RESUMEs; down ${ms(percentile(r.downMs, 50))} p50 per restart`, 'lost 0, 0 IDENTIFYs');
  }
  results.restarts = out;
}

if (runs('attachments')) {
  process.stdout.write('\n9. A 4000×3000 photo sent to the bot: before and after it is prepared for the model\n');
  const a = await attachmentFigures();
  const kb = (n: number) => `${(n / 1024).toFixed(0)} kB`;
  report('photo bytes: original JPEG → prepared', `${kb(a.originalBytes)} → ${kb(a.preparedBytes)} (${a.preparedSize}); as base64 in the request ${kb(a.base64Before)} → ${kb(a.base64After)}`);
  report('image tokens before → after (detail high)', Object.entries(a.tokens).map(([model, t]) => `${model} ${t.before} → ${t.after}`).join(', '));
  report('download from the CDN + prepare (sharp)', `${ms(percentile(a.downloadMs, 50))} + ${ms(percentile(a.prepareMs, 50))} p50 (${ms(percentile(a.downloadMs, 95) + percentile(a.prepareMs, 95))} p95)`);
  report('kept in the session per image', `${a.referenceBytes} B reference (a low-detail copy would be ${kb(a.lowCopyBytes)})`);
  results.attachments = a;
}

writeFileSync(new URL('./results.json', import.meta.url), `${JSON.stringify(results, null, 2)}\n`);
process.stdout.write(`\n| measure | result | target |\n| --- | --- | --- |\n${rows.map((r) => `| ${r.join(' | ')} |`).join('\n')}\n\nWritten to bench/results.json\n`);
process.exit(0);
