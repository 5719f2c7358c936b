// `npm run sandbox` driven as a person at a terminal would: pasted lines, bad commands, clicks on
// buttons that are not there. Every line gets its answer, in order, the prompt always comes back,
// and the sandbox says which model answers and why a model call failed.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/history/orm.js';
import { dropDatabase, freshDatabaseUrl } from '../support/database.js';
import { FakeOpenAI } from '../support/fake-openai.js';
import { REDIS_URL, createTestRedis, freshPrefix } from '../support/redis.js';
import { type SandboxProcess, startSandbox } from '../support/sandbox-process.js';

// The sandbox appends `_sandbox` to the database and `-sandbox` to the key prefix it is given.
const database = freshDatabaseUrl('sbx');
const prefix = freshPrefix('sbx');
const env = { DATABASE_URL: database.url, REDIS_URL, REDIS_KEY_PREFIX: prefix, USER: 'tester' };
const PROMPT = 'tester> ';
const sandboxes: SandboxProcess[] = [];
const start = (args: string[] = [], extra: Record<string, string> = {}) => {
  const sandbox = startSandbox(args, { ...env, ...extra });
  sandboxes.push(sandbox);
  return sandbox;
};

async function storedTexts(): Promise<string[]> {
  const { orm } = await openDatabase(`${database.url}_sandbox`, { migrate: false });
  try {
    const rows = await orm.em.getConnection().execute<{ user_text: string }[]>('select user_text from messages order by id');
    return rows.map((r) => r.user_text);
  } finally {
    await orm.close(true);
  }
}

afterAll(async () => {
  await Promise.all(sandboxes.map((s) => s.stop()));
  await dropDatabase(`${database.name}_sandbox`);
  const redis = await createTestRedis('sbx-cleanup');
  const keys = await redis.redis.keys(`${prefix.replace(/:$/, '')}-sandbox:*`);
  if (keys.length) await redis.redis.del(...keys);
  await redis.cleanup();
});

describe('the sandbox with the echo model', () => {
  let s: SandboxProcess;
  beforeAll(async () => {
    s = start();
    await s.waitFor(PROMPT, 0, 60_000);
  }, 70_000);

  it('names the model and where it answers, and where the sandbox keeps its data', () => {
    expect(s.output).toMatch(/Model: sandbox-echo, a fake that repeats what you write, at http:\/\/127\.0\.0\.1:\d+\/v1/);
    expect(s.output).toContain(`database ${database.name}_sandbox on 127.0.0.1:5432`);
    expect(s.output).toContain(`Redis keys ${prefix.replace(/:$/, '')}-sandbox:*`);
  });

  it('sends every line of a paste, in order, and stores each', async () => {
    const from = s.output.length;
    s.type('first line\nsecond line\nthird line\n');
    await s.waitFor('You said: third line', from);
    const shown = s.output.slice(from);
    expect(shown.indexOf('You said: first line')).toBeGreaterThanOrEqual(0);
    expect(shown.indexOf('You said: first line')).toBeLessThan(shown.indexOf('You said: second line'));
    expect(shown.indexOf('You said: second line')).toBeLessThan(shown.indexOf('You said: third line'));
    expect(await storedTexts()).toEqual(['first line', 'second line', 'third line']);
  });

  it('survives a click on a button that does not exist, a bad command and a bad option', async () => {
    const from = s.output.length;
    s.type('/click 7\n/click\n/nonsense\n/history sideways\n/logout now\nstill here\n');
    await s.waitFor('You said: still here', from);
    const shown = s.output.slice(from);
    expect(shown.match(/No such button\./g)).toHaveLength(2);
    expect(shown).toContain('Unknown command /nonsense');
    expect(shown).toContain('/history format must be one of: page, file, json');
    expect(shown).toContain('/logout takes no options');
    await s.waitFor(PROMPT, s.output.indexOf('You said: still here', from));
  });

  it('presses a button the last reply showed', async () => {
    const from = s.output.length;
    s.type('/clear-history\n/click 2\n');
    await s.waitFor('Cancelled. Nothing was deleted.', from);
    expect(s.output.slice(from)).toMatch(/\[1\] Delete everything\s+\[2\] Cancel/);
    expect(await storedTexts()).toHaveLength(4);
  });

  it('does not claim gpt-3.5-turbo in /help or in the export', async () => {
    const from = s.output.length;
    s.type('/help\n/history json\n');
    await s.waitFor(/\[file [^\]]+\.json, \d+ bytes\]/, from);
    const shown = s.output.slice(from);
    expect(shown).toContain('running **sandbox-echo**');
    expect(shown).toContain('"model": "sandbox-echo"');
    expect(shown).not.toContain('gpt-3.5-turbo');
  });

  it('stops on /quit', async () => {
    s.type('/quit\n');
    expect(await s.exited).toBe(0);
  });
});

describe('choosing the model and starting afresh', () => {
  it('uses the echo model even with a key set, until --real is given; --reset empties the history', async () => {
    const s = start(['--reset'], { OPENAI_API_KEY: 'sk-in-env' });
    await s.waitFor(PROMPT, 0, 60_000);
    expect(s.output).toMatch(new RegExp(`Reset: dropped the database ${database.name}_sandbox and \\d+ Redis key`));
    expect(s.output).toContain('OPENAI_API_KEY is set: `npm run sandbox -- --real` uses your model');
    const from = s.output.length;
    s.type('/history\n');
    await s.waitFor("You don't have any saved conversations yet", from);
    s.type('/quit\n');
    expect(await s.exited).toBe(0);
  }, 70_000);

  it('refuses --real without OPENAI_API_KEY, naming the setting', async () => {
    const s = start(['--real']);
    expect(await s.exited).toBe(2);
    expect(s.stderr.join('')).toContain('--real needs OPENAI_API_KEY');
  });

  it('with --real, names the model and base URL, shows why a model call failed, and streams the answer as it grows', async () => {
    const model = await new FakeOpenAI().start();
    try {
      const s = start(['--real'], { OPENAI_API_KEY: 'sk-wrong', OPENAI_BASE_URL: model.baseUrl, OPENAI_MODEL: 'test-model', STREAM_EDIT_INTERVAL_MS: '250' });
      await s.waitFor(PROMPT, 0, 60_000);
      expect(s.output).toContain(`Model: test-model at ${model.baseUrl}`);

      model.failNext(1, 401);
      let from = s.output.length;
      s.type('are you there?\n');
      await s.waitFor(/bot log: message failed: [^\n]*401[^\n]*Injected 401/, from);

      const words = Array.from({ length: 12 }, (_, i) => `word${i}`);
      model.setReply(words.join(' '));
      model.chunkDelayMs = 150;
      from = s.chunks.length;
      s.type('stream please\n');
      await s.waitFor(words.join(' '));
      // Some piece of output showed the first words before the last one was written.
      const pieces = s.chunks.slice(from);
      const first = pieces.findIndex((c) => c.includes('word0'));
      const last = pieces.findIndex((c) => c.includes('word11'));
      expect(first).toBeGreaterThanOrEqual(0);
      expect(last).toBeGreaterThan(first);
      s.type('/quit\n');
      expect(await s.exited).toBe(0);
    } finally {
      await model.stop();
    }
  }, 70_000);
});

describe('attaching files in the sandbox', () => {
  it('sends a file with the next message (/attach PATH), or alone (/send), and says when it cannot read one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sbx-attach-'));
    const notes = join(dir, 'notes.txt');
    const picture = join(dir, 'red.png');
    await writeFile(notes, 'milk, eggs, bread\n');
    await writeFile(picture, await sharp({ create: { width: 64, height: 48, channels: 3, background: '#c00' } }).png().toBuffer());
    const s = start([], { USER: 'attacher' });
    try {
      await s.waitFor('attacher> ', 0, 60_000);
      let from = s.output.length;
      s.type(`/attach ${notes}\nWhat is on my list?\n`);
      await s.waitFor('[end of file: notes.txt]', from);
      expect(s.output.slice(from)).toContain('Attached notes.txt (18 bytes)');
      expect(s.output.slice(from)).toContain('You said: What is on my list?\n\n[file: notes.txt]\nmilk, eggs, bread');
      from = s.output.length;
      s.type(`/attach ${picture}\n/send\n/send\n/attach ${join(dir, 'missing.png')}\n`);
      await s.waitFor('Could not read', from);
      const shown = s.output.slice(from);
      expect(shown).toContain('(and I was shown 1 image with this message)');
      expect(shown).toContain('Nothing attached: /attach PATH first.');
      expect(shown).toContain(`Could not read ${join(dir, 'missing.png')}: ENOENT`);
      s.type('/quit\n');
      expect(await s.exited).toBe(0);
    } finally {
      await s.stop();
      await rm(dir, { recursive: true, force: true });
    }
  }, 70_000);
});
