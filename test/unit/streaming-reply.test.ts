// How a streamed answer spends Discord requests: the first words wait a moment for a short answer,
// optional requests only while the budget has room, the final text always.
import { describe, expect, it } from 'vitest';
import { StreamBudget } from '../../src/discord/stream-budget.js';
import { StreamingReply } from '../../src/discord/streaming-reply.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function recorder() {
  const requests: string[] = [];
  let slot = 0;
  const post = async (content: string) => {
    const n = slot++;
    requests.push(`post ${n}: ${content}`);
    await sleep(5);
    return { edit: async (c: string) => void requests.push(`edit ${n}: ${c}`) };
  };
  return { requests, post };
}

describe('StreamingReply', () => {
  it('posts an answer completed within the first moment once, whole', async () => {
    const { requests, post } = recorder();
    const reply = new StreamingReply(post, { editIntervalMs: 1000 });
    reply.push('Hello');
    reply.push(' there');
    await reply.finish('Hello there');
    expect(requests).toEqual(['post 0: Hello there']);
  });

  it('finishes by editing a first post still on its way, never posting the part again', async () => {
    const { requests } = recorder();
    let slot = 0;
    const slowPost = async (content: string) => {
      const n = slot++;
      requests.push(`post ${n}: ${content}`);
      await sleep(50); // the answer completes before this returns
      return { edit: async (c: string) => void requests.push(`edit ${n}: ${c}`) };
    };
    const reply = new StreamingReply(slowPost, { editIntervalMs: 1000, firstPostHoldMs: 0 });
    reply.push('Hello');
    await sleep(5);
    await reply.finish('Hello there, whole');
    expect(requests).toEqual(['post 0: Hello', 'edit 0: Hello there, whole']);
  });

  it('streams nothing while the budget has no room, then shows the whole answer in one request', async () => {
    const { requests, post } = recorder();
    const reply = new StreamingReply(post, { editIntervalMs: 100, mayStream: () => false, firstPostHoldMs: 0 });
    for (let i = 0; i < 10; i++) {
      reply.push(`word${i} `);
      await sleep(30);
    }
    await reply.finish('word0 … word9');
    expect(requests).toEqual(['post 0: word0 … word9']);
  });

  it('streams at a steady pace while there is room', async () => {
    const { requests, post } = recorder();
    const reply = new StreamingReply(post, { editIntervalMs: 100, firstPostHoldMs: 0 });
    for (let i = 0; i < 10; i++) {
      reply.push(`w${i} `);
      await sleep(40);
    }
    await reply.finish('done');
    // ~400 ms of streaming at 100 ms: at most a post, four edits and the final edit.
    expect(requests.length).toBeGreaterThan(2);
    expect(requests.length).toBeLessThanOrEqual(1 + 4 + 1);
    expect(requests.at(-1)).toBe('edit 0: done');
  });
});

describe('StreamingReply with the Stop button', () => {
  function buttons() {
    const requests: string[] = [];
    let slot = 0;
    const post = async (content: string, button: boolean) => {
      const n = slot++;
      requests.push(`post ${n}${button ? ' [stop]' : ''}: ${content.length} chars`);
      return { edit: async (c: string, removeButton?: boolean) => void requests.push(`edit ${n}${removeButton ? ' [no stop]' : ''}: ${c.length} chars`) };
    };
    return { requests, post };
  }

  it('shows it on the first words and takes it off in the final text edit, with no request of its own', async () => {
    const { requests, post } = buttons();
    const reply = new StreamingReply(post, { editIntervalMs: 50, firstPostHoldMs: 0, stopButton: () => true });
    reply.push('Hello');
    await sleep(20);
    await reply.finish('Hello there');
    expect(requests).toEqual(['post 0 [stop]: 5 chars', 'edit 0 [no stop]: 11 chars']);
  });

  it('moves it to the newest part, taking it off the earlier one in the edit that completes it', async () => {
    const { requests, post } = buttons();
    const reply = new StreamingReply(post, { editIntervalMs: 50, firstPostHoldMs: 0, stopButton: () => true });
    const long = `${'a'.repeat(1500)}\n\n${'b'.repeat(1000)}`;
    reply.push(long.slice(0, 1000));
    await sleep(20);
    reply.push(long.slice(1000));
    await sleep(80);
    await reply.finish(`${long} end`);
    expect(requests).toEqual(['post 0 [stop]: 1000 chars', 'edit 0 [no stop]: 1500 chars', 'post 1 [stop]: 1000 chars', 'edit 1 [no stop]: 1004 chars']);
  });

  it('edits a part still carrying it at the end, even when its text is complete', async () => {
    const { requests, post } = buttons();
    const reply = new StreamingReply(post, { editIntervalMs: 50, firstPostHoldMs: 0, stopButton: () => true });
    reply.push('All of it');
    await sleep(20);
    await reply.finish('All of it');
    expect(requests).toEqual(['post 0 [stop]: 9 chars', 'edit 0 [no stop]: 9 chars']);
  });

  it('takes it off when the model fails midway, keeping the words shown, and edits nothing after', async () => {
    const { requests, post } = buttons();
    const reply = new StreamingReply(post, { editIntervalMs: 50, firstPostHoldMs: 0, stopButton: () => true });
    reply.push('Half an ans');
    await sleep(20);
    reply.push('wer'); // an edit is due at the steady pace
    await reply.settle();
    await sleep(120);
    expect(requests).toEqual(['post 0 [stop]: 11 chars', 'edit 0 [no stop]: 14 chars']);
  });

  it('shows none when there is no budget to spare for it', async () => {
    const { requests, post } = buttons();
    const reply = new StreamingReply(post, { editIntervalMs: 50, firstPostHoldMs: 0, stopButton: () => false });
    reply.push('Hello');
    await sleep(20);
    await reply.finish('Hello there');
    expect(requests).toEqual(['post 0: 5 chars', 'edit 0: 11 chars']);
  });
});

describe('StreamBudget', () => {
  const rest = (perSecond: number, remaining: number) => ({ options: { globalRequestsPerSecond: perSecond }, globalRemaining: remaining, globalReset: Date.now() + 1000 }) as never;

  it('has room for streamed words while few answers are being written and the second has requests left', () => {
    const budget = new StreamBudget(rest(50, 40), 1000);
    const done = [budget.begin(), budget.begin()];
    expect(budget.hasRoom()).toBe(true);
    done.forEach((d) => d());
  });

  it('has none when the answers being written would need most of the budget for edits', () => {
    const budget = new StreamBudget(rest(50, 50), 1000);
    const done = Array.from({ length: 30 }, () => budget.begin());
    expect(budget.hasRoom()).toBe(false); // 30 edits a second > half of 50
    done.slice(0, 10).forEach((d) => d());
    expect(budget.hasRoom()).toBe(true);
  });

  it('keeps the last fifth of the second for first posts and final texts', () => {
    expect(new StreamBudget(rest(50, 9), 1000).hasRoom()).toBe(false);
    expect(new StreamBudget(rest(50, 11), 1000).hasRoom()).toBe(true);
  });
});
