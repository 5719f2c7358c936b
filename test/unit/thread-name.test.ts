import type { REST } from 'discord.js';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ReplyTarget } from '../../src/discord/reply-target.js';
import type { DmJob } from '../../src/queue/dm-stream.js';
import { graphemes, hasLoneSurrogate } from '../support/text-arbitraries.js';

/** The name the bot asks Discord to give the thread it opens on a mention. */
async function threadNameFor(text: string): Promise<string> {
  let name = '';
  const rest = {
    post: (_route: string, { body }: { body: { name: string } }) => {
      name = body.name;
      return Promise.resolve({ id: '1300000000000000001' });
    },
  } as unknown as REST;
  const job: DmJob = { messageId: '1300000000000000002', userId: '1300000000000000003', username: 'ann', channelId: '1300000000000000004', guildId: '1300000000000000005', openThread: true, text, createdAt: 0, queuedAt: 0 };
  await ReplyTarget.open(rest, job, pino({ level: 'silent' }));
  return name;
}

describe('the name of a reply thread', () => {
  it('is the start of the message, cut between characters', async () => {
    const family = '👨‍👩‍👧‍👦';
    for (let pad = 70; pad < 82; pad++) {
      const name = await threadNameFor('x'.repeat(pad) + family.repeat(3));
      expect(name.length).toBeLessThanOrEqual(80);
      expect(hasLoneSurrogate(name)).toBe(false);
      expect(graphemes(name).every((g) => g === 'x' || g === family)).toBe(true);
    }
  });

  it('keeps a short message whole', async () => {
    expect(await threadNameFor('안녕 🇰🇷')).toBe('안녕 🇰🇷');
  });
});
