import { describe, expect, it } from 'vitest';
import { type ExportFile, type ExportFormat, exportFiles, exportLimits, exportMessages } from '../../src/discord/history-export.js';
import { repliesFor } from '../../src/discord/replies.js';
import type { StoredExchange } from '../../src/history/repository.js';

const en = repliesFor('en-US');
const exchange = (i: number, userText = `question ${i}`, gptResponse = `answer ${i}`): StoredExchange => ({
  id: String(i),
  discordMessageId: String(1_000_000_000_000_000_000n + BigInt(i)),
  userText,
  gptResponse,
  model: 'gpt-3.5-turbo',
  totalTokens: 10,
  createdAt: new Date(Date.UTC(2026, 0, 1, 12, 0, i)),
});
/** Text of varied length mixing ASCII, Korean (3 bytes) and emoji (4 bytes, a surrogate pair). */
const mixed = (i: number) => `q${i} ${'한글 😀 abc '.repeat(i % 23)}end-${i}`;

async function* inBatches(items: StoredExchange[], size: number) {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

async function collect(format: ExportFormat, items: StoredExchange[], maxBytes: number, r = en): Promise<ExportFile[]> {
  const files: ExportFile[] = [];
  for await (const file of exportFiles(inBatches(items, 7), { format, maxBytes, r })) files.push(file);
  return files;
}

const strictUtf8 = (data: Buffer) => new TextDecoder('utf-8', { fatal: true }).decode(data);

describe('history export files', () => {
  it('keeps a small history in one file, whole, oldest first', async () => {
    const items = [exchange(1, 'question 1 '.repeat(500)), exchange(2)];
    const [md, ...noMore] = await collect('markdown', items, 1 << 20);
    expect(noMore).toEqual([]);
    expect(md).toMatchObject({ name: 'history.md', exchanges: 2, last: true });
    const text = md!.data.toString('utf8');
    expect(text.startsWith('# Conversation history')).toBe(true);
    expect(text).toContain(items[0]!.userText);
    expect(text.indexOf('question 1')).toBeLessThan(text.indexOf('question 2'));
    const [json] = await collect('json', items, 1 << 20);
    expect(json!.name).toBe('history.json');
    expect(JSON.parse(json!.data.toString('utf8'))[1]).toEqual({
      time: '2026-01-01T12:00:02.000Z',
      you: 'question 2',
      bot: 'answer 2',
      model: 'gpt-3.5-turbo',
      tokens: 10,
      discordMessageId: items[1]!.discordMessageId,
    });
  });

  it('marks an answer the person stopped, in both formats', async () => {
    const items = [{ ...exchange(1), stopped: true }, exchange(2)];
    const [md] = await collect('markdown', items, 1 << 20);
    const sections = md!.data.toString('utf8').split('## ');
    expect(sections[1]).toContain(`(gpt-3.5-turbo) ${en.history.stopped}:`);
    expect(sections[2]).not.toContain(en.history.stopped);
    const [json] = await collect('json', items, 1 << 20);
    const parsed = JSON.parse(json!.data.toString('utf8')) as { stopped?: boolean }[];
    expect(parsed.map((e) => e.stopped)).toEqual([true, undefined]);
  });

  it('makes nothing of an empty history', async () => {
    expect(await collect('json', [], 4096)).toEqual([]);
  });

  it.each(['markdown', 'json'] as const)('splits %s into numbered files within the limit, only between exchanges, each valid on its own', async (format) => {
    const items = Array.from({ length: 400 }, (_, i) => exchange(i + 1, mixed(i + 1), `answer ${i + 1} ${'😀'.repeat(i % 31)}`));
    const files = await collect(format, items, 4096);
    expect(files.length).toBeGreaterThan(10);
    const extension = format === 'json' ? 'json' : 'md';
    expect(files.map((f) => f.name)).toEqual(files.map((_, i) => `history-${i + 1}.${extension}`));
    expect(files.map((f) => f.last)).toEqual(files.map((_, i) => i === files.length - 1));
    for (const f of files) expect(f.data.length).toBeLessThanOrEqual(4096);
    expect(files.reduce((n, f) => n + f.exchanges, 0)).toBe(items.length);
    const texts = files.map((f) => strictUtf8(f.data));
    if (format === 'json') {
      const parsed = texts.map((t) => JSON.parse(t) as { you: string; bot: string }[]);
      parsed.forEach((part, i) => expect(part).toHaveLength(files[i]!.exchanges));
      expect(parsed.flat().map((e) => [e.you, e.bot])).toEqual(items.map((e) => [e.userText, e.gptResponse]));
    } else {
      for (const t of texts) expect(t.startsWith('# Conversation history\n\n## ')).toBe(true);
      expect(texts.join('').match(/end-\d+/g)).toEqual(items.map((_, i) => `end-${i + 1}`));
    }
  });

  it('cuts an exchange larger than a whole file at a character boundary, with a note, and goes on', async () => {
    const huge = '😀한'.repeat(5000); // 35,000 bytes
    const items = [exchange(1), exchange(2, huge, 'short answer'), exchange(3)];
    const json = await collect('json', items, 4096);
    for (const f of json) expect(f.data.length).toBeLessThanOrEqual(4096);
    const all = json.flatMap((f) => JSON.parse(strictUtf8(f.data)) as { you: string; bot: string; cut?: string }[]);
    expect(all.map((e) => e.cut === undefined)).toEqual([true, false, true]);
    const cut = all[1]!;
    expect(cut.you.length).toBeGreaterThan(1000);
    expect(huge.startsWith(cut.you)).toBe(true);
    expect(cut.you.endsWith('😀') || cut.you.endsWith('한')).toBe(true); // never half an emoji
    expect(cut.bot).toBe('short answer'); // only the long text is cut
    expect(cut.cut).toMatch(/^✂ Cut here/);

    const md = await collect('markdown', items, 4096, repliesFor('ko'));
    const text = md.map((f) => strictUtf8(f.data)).join('');
    expect(text).toContain('여기서 잘렸어요');
    expect(text).toContain('short answer');
    expect(text).toContain('answer 3');
  });

  it('never cuts inside a character, whatever the file size', async () => {
    const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
    const items = [exchange(1, '😀'.repeat(3000), '😀'.repeat(3000))];
    for (let maxBytes = 4096; maxBytes < 4106; maxBytes++) {
      const [json] = await collect('json', items, maxBytes);
      const { you, bot } = (JSON.parse(strictUtf8(json!.data)) as { you: string; bot: string }[])[0]!;
      expect(loneSurrogate.test(you) || loneSurrogate.test(bot)).toBe(false);
      const [md] = await collect('markdown', items, maxBytes);
      expect(strictUtf8(md!.data)).not.toContain('\ufffd');
    }
  });

  it('reads the next batch only when it needs it, so a big history is never held whole', async () => {
    let pulled = 0;
    async function* counting() {
      for (let b = 0; b < 100; b++) {
        pulled += 1;
        yield Array.from({ length: 10 }, (_, i) => exchange(b * 10 + i, 'x'.repeat(400)));
      }
    }
    const files = exportFiles(counting(), { format: 'markdown', maxBytes: 8192, r: en });
    await files.next();
    expect(pulled).toBeLessThanOrEqual(2);
    await files.return(undefined);
  });

  it('lets the event loop run between batches', async () => {
    let turns = 0;
    let running = true;
    const tick = () => {
      turns += 1;
      if (running) setImmediate(tick);
    };
    setImmediate(tick);
    // Batches that are already in memory: without an explicit pause the loop would never get a turn.
    for await (const _ of exportFiles(inBatches(Array.from({ length: 200 }, (_, i) => exchange(i)), 10), { format: 'json', maxBytes: 4096, r: en })) {
      // consumed
    }
    running = false;
    expect(turns).toBeGreaterThanOrEqual(10);
  });
});

describe('export limits and messages', () => {
  it("follows the interaction's attachment_size_limit, ten small files a message, about one file's bytes in memory", () => {
    const MiB = 1024 * 1024;
    expect(exportLimits(64 * 1024)).toEqual({ fileBytes: 64 * 1024, filesPerMessage: 10 });
    expect(exportLimits(2 * MiB)).toEqual({ fileBytes: 2 * MiB, filesPerMessage: 5 });
    expect(exportLimits(10 * MiB)).toEqual({ fileBytes: 10 * MiB, filesPerMessage: 1 });
    expect(exportLimits(undefined)).toEqual(exportLimits(10 * MiB)); // Discord's default when absent
    // A Nitro person's 500 MiB limit: still within Discord's 25 MiB request size, one file a message.
    const nitro = exportLimits(500 * MiB);
    expect(nitro.fileBytes).toBeLessThan(25 * MiB);
    expect(nitro.filesPerMessage).toBe(1);
  });

  it('groups files into messages of at most n, marking the one with the last file', async () => {
    async function* files(n: number) {
      for (let i = 1; i <= n; i++) yield { name: `history-${i}.md`, data: Buffer.from('x'), exchanges: 1, last: i === n } satisfies ExportFile;
    }
    const shape = async (n: number, per: number) => {
      const out: [number, boolean][] = [];
      for await (const m of exportMessages(files(n), per)) out.push([m.files.length, m.last]);
      return out;
    };
    expect(await shape(23, 10)).toEqual([[10, false], [10, false], [3, true]]);
    expect(await shape(20, 10)).toEqual([[10, false], [10, true]]);
    expect(await shape(1, 10)).toEqual([[1, true]]);
  });
});

describe('attachments in the exports', () => {
  const files = [{ name: 'cat.png', type: 'image/png', size: 48_213 }];

  it('lists them in JSON (name, type, size) and names them in Markdown', async () => {
    const items = [{ ...exchange(1), attachments: files }, exchange(2)];
    const [json] = await collect('json', items, 100_000);
    const parsed = JSON.parse(json!.data.toString('utf8'));
    expect(parsed[0].attachments).toEqual(files);
    expect(parsed[1].attachments).toBeUndefined();
    const [md] = await collect('markdown', items, 100_000);
    expect(md!.data.toString('utf8')).toContain('question 1\n\n📎 Attached: `cat.png` (47 KB)\n\n**Bot**');
  });
});
