// How a conversation remembers images: by reference in the session, shown again for
// IMAGE_MEMORY_TURNS more messages, then a placeholder — and the prompt changes only then, so the
// provider's prompt cache keeps applying between those moments.
import { describe, expect, it } from 'vitest';
import { fitToBudget, loadTokenCounter } from '../../src/chat/context.js';
import { ageImages, forSession, showImages } from '../../src/chat/image-memory.js';
import type { Turn, TurnImage } from '../../src/chat/types.js';

const count = await loadTokenCounter('gpt-4o');
const image = (name: string): TurnImage => ({ name, width: 1024, height: 768, detail: 'high', source: { channelId: '1', messageId: name, attachmentId: name, url: `https://cdn.discordapp.com/attachments/1/${name}/${name}` } });
// Fetching an image again gives the same bytes (the same file, prepared the same way).
const load = (img: TurnImage) => Promise.resolve(`data:image/jpeg;base64,${img.name}`);

describe('image memory', () => {
  it('shows an image for IMAGE_MEMORY_TURNS more messages, then leaves a placeholder', () => {
    const turns: Turn[] = [
      { role: 'system', content: 'sys' },
      { role: 'user', content: 'look', images: [image('cat.png')] },
      { role: 'assistant', content: 'a cat' },
      { role: 'user', content: 'second' },
      { role: 'assistant', content: 'ok' },
      { role: 'user', content: 'third' },
    ];
    expect(ageImages(turns, 2)[1]!.images).toHaveLength(1);
    expect(ageImages(turns, 1)[1]).toEqual({ role: 'user', content: 'look\n[image: cat.png]' });
    // A model that takes no images: every image is a placeholder.
    expect(ageImages(turns, 5, { keep: false })[1]!.images).toBeUndefined();
  });

  it('keeps only references in the session, and turns an image that cannot be fetched again into a placeholder', async () => {
    const turns: Turn[] = [{ role: 'user', content: 'two', images: [image('a.png'), image('b.png')] }];
    const shown = await showImages(turns, (img) => (img.name === 'a.png' ? load(img) : Promise.resolve(null)));
    expect(shown).toEqual([{ role: 'user', content: 'two\n[image: b.png]', images: [{ ...image('a.png'), data: 'data:image/jpeg;base64,a.png' }] }]);
    expect(JSON.stringify(forSession(shown))).not.toContain('base64');
  });

  it('changes the prompt only when images age out: most requests extend the one before exactly', async () => {
    let session: Turn[] = [{ role: 'system', content: 'You are helpful.' }];
    const prompts: string[][] = [];
    for (let i = 0; i < 16; i++) {
      const newest: Turn = { role: 'user', content: `message ${i}`, ...(i % 4 === 0 ? { images: [image(`photo${i}.jpg`)] } : {}) };
      const fit = fitToBudget(ageImages([...session, newest], 3), 100_000, count);
      if (!fit.ok) throw new Error('did not fit');
      const request = await showImages(fit.turns, load);
      prompts.push(request.map((t) => JSON.stringify([t.role, t.content, t.images?.map((img) => img.data)])));
      session = [...forSession(request), { role: 'assistant', content: `answer ${i}` }];
    }
    const extending = prompts.slice(1).filter((p, i) => prompts[i]!.every((part, j) => p[j] === part)).length;
    // 15 follow-ups; an image ages out at messages 4, 8 and 12 (the one of four messages before).
    expect(extending).toBe(15 - 3);
  });
});
