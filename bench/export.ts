// `npx tsx bench/export.ts [--exchanges=100000]`: a whole-history export (/history format:file|json)
// of one person with that many exchanges, through the bot's own repository and file builder against
// the real PostgreSQL. No Discord: each message's files are copied into a Blob, as discord.js does
// for an upload, then dropped. Each way of exporting runs in a fresh process, which reports its peak
// RSS and the longest event-loop stall (perf_hooks.monitorEventLoopDelay, cross-checked by a 5 ms
// interval timer). "one buffer" is the way before batching: every row read at once and the whole
// file built as one string. See docs/performance.md ("/history exports").
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { exportFiles, exportLimits, exportMessages } from '../src/discord/history-export.js';
import { repliesFor } from '../src/discord/replies.js';
import { Message } from '../src/history/entities.js';
import { openDatabase } from '../src/history/orm.js';
import { HistoryRepository } from '../src/history/repository.js';
import { createTestDatabase } from '../test/support/database.js';

const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const USER_ID = '1300000000000000001';
const MiB = 1024 * 1024;
type Way = 'markdown' | 'json' | 'one-buffer-json';

/** CPU time of this process's main thread (utime + stime in /proc, 10 ms ticks); all threads elsewhere. */
function mainThreadCpuMs(): number {
  try {
    const fields = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  }
}

/** Runs one export in this process and prints its figures as one JSON line. */
async function measure(way: Way, databaseUrl: string): Promise<void> {
  const { orm } = await openDatabase(databaseUrl, { migrate: false });
  const r = repliesFor('en');
  const baseline = process.memoryUsage.rss();
  let peak = baseline;
  const sample = () => (peak = Math.max(peak, process.memoryUsage.rss()));
  // On a shared machine a late timer may only mean another process had the cores: the CPU time the
  // main thread itself spent within each late tick (its JavaScript and its share of GC; Linux counts
  // it per thread) tells how much of a stall was the export's own work.
  let [lastTick, lastCpu, longestGapMs, longestBusyMs] = [performance.now(), mainThreadCpuMs(), 0, 0];
  const sampler = setInterval(() => {
    sample();
    const [now, cpu] = [performance.now(), mainThreadCpuMs()];
    longestGapMs = Math.max(longestGapMs, now - lastTick);
    longestBusyMs = Math.max(longestBusyMs, Math.min(now - lastTick, cpu - lastCpu));
    [lastTick, lastCpu] = [now, cpu];
  }, 5);
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  const started = performance.now();
  let [files, messages, bytes] = [0, 0, 0];
  if (way === 'one-buffer-json') {
    const rows = await orm.em.fork().find(Message, { user: USER_ID }, { orderBy: { id: 'asc' } });
    const text = JSON.stringify(rows.map((i) => ({ time: i.createdAt.toISOString(), you: i.userText, bot: i.gptResponse, model: i.model, tokens: i.totalTokens, discordMessageId: i.discordMessageId })), null, 2);
    const blob = new Blob([new Uint8Array(Buffer.from(text))]);
    [files, messages, bytes] = [1, 1, blob.size];
    sample();
  } else {
    const { fileBytes, filesPerMessage } = exportLimits(10 * MiB); // Discord's default attachment_size_limit
    const built = exportFiles(new HistoryRepository(orm).batches(USER_ID, 200), { format: way, maxBytes: fileBytes, r });
    for await (const message of exportMessages(built, filesPerMessage)) {
      const upload = new Blob(message.files.map((f) => new Uint8Array(f.data.buffer as ArrayBuffer, f.data.byteOffset, f.data.length)));
      sample();
      [files, messages, bytes] = [files + message.files.length, messages + 1, bytes + upload.size];
    }
  }
  const seconds = (performance.now() - started) / 1000;
  // The monitor records a stall when its timer finally runs: give it that turn after the last one.
  await new Promise((resolve) => setTimeout(resolve, 50));
  delay.disable();
  clearInterval(sampler);
  await orm.close(true);
  process.stdout.write(
    `${JSON.stringify({ way, seconds, files, messages, mib: bytes / MiB, baselineRssMib: baseline / MiB, peakRssMib: peak / MiB, longestStallMs: Math.max(delay.max / 1e6, longestGapMs), p99StallMs: delay.percentile(99) / 1e6, longestBusyMs })}\n`,
  );
}

async function main(): Promise<void> {
  const exchanges = Number(arg('exchanges') ?? 100_000);
  const db = await createTestDatabase('bench_export');
  try {
    const conn = db.orm.em.getConnection();
    // Sizes like real exchanges: a question of ~150 characters and an answer of ~1,100, some in Korean.
    await conn.execute(`insert into users (id, username, created_at) values (?, 'heavy', now())`, [USER_ID]);
    await conn.execute(
      `insert into messages (user_id, discord_message_id, user_text, gpt_response, model, prompt_tokens, completion_tokens, total_tokens, created_at)
       select ?, (1400000000000000000 + g)::text,
              'question ' || g || ': ' || case when g % 5 = 0 then repeat('한국어 질문 ', 20) else repeat('what about this ', 9) end,
              'answer ' || g || ': ' || repeat('lorem ipsum dolor sit amet ', 40),
              'gpt-3.5-turbo', 50, 300, 350, now() - (? - g) * interval '1 second'
       from generate_series(1, ?) g`,
      [USER_ID, exchanges, exchanges],
    );
    await conn.execute('analyze messages');
    process.stdout.write(`${exchanges} exchanges stored; exporting each way in a fresh process (load average ${loadavg()[0]!.toFixed(1)}) …\n`);
    const self = fileURLToPath(import.meta.url);
    for (const way of ['markdown', 'json', 'one-buffer-json'] satisfies Way[]) {
      const run = spawnSync(process.execPath, ['--optimize-for-size', '--import', 'tsx', self, `--measure=${way}`, `--db=${db.url}`], { encoding: 'utf8', maxBuffer: 16 * MiB });
      const line = run.stdout.trim().split('\n').at(-1) ?? '';
      if (run.status !== 0 || !line.startsWith('{')) {
        process.stdout.write(`  ${way}: failed (${run.status}) ${run.stderr.slice(-500)}\n`);
        continue;
      }
      const f = JSON.parse(line) as Record<string, number>;
      process.stdout.write(
        `  ${way.padEnd(16)} ${f.mib!.toFixed(1)} MiB in ${f.files} file(s), ${f.messages} message(s), ${f.seconds!.toFixed(1)} s; ` +
          `RSS ${f.baselineRssMib!.toFixed(0)} → peak ${f.peakRssMib!.toFixed(0)} MiB; longest event-loop stall ${f.longestStallMs!.toFixed(0)} ms (p99 ${f.p99StallMs!.toFixed(0)} ms; its own work ≤ ${f.longestBusyMs!.toFixed(0)} ms)\n`,
      );
    }
  } finally {
    await db.drop();
  }
}

const way = arg('measure') as Way | undefined;
if (way) await measure(way, arg('db')!);
else await main();
