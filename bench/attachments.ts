// `npm run bench -- --only=attachments`: what a 4000×3000 phone photo costs before and after the
// bot prepares it (bytes sent to the model, image tokens), how long downloading it from the (fake)
// CDN and preparing it takes, and what keeping it in the session would cost (a reference vs. a
// low-detail copy). The photo is synthetic but photo-like: a gradient with sensor-like noise, so
// JPEG compresses it about as much as a real photo (a few MB at quality 90).
import { REST } from 'discord.js';
import sharp from 'sharp';
import { imageTokens } from '../src/chat/vision.js';
import { downloadAttachment } from '../src/discord/attachments/download.js';
import { prepareImage } from '../src/discord/attachments/prepare.js';
import { FakeDiscord } from '../test/support/fake-discord/server.js';

export interface AttachmentFigures {
  originalBytes: number;
  preparedBytes: number;
  preparedSize: string;
  base64Before: number;
  base64After: number;
  lowCopyBytes: number;
  referenceBytes: number;
  tokens: Record<string, { before: number; after: number }>;
  downloadMs: number[];
  prepareMs: number[];
}

async function photo(width = 4000, height = 3000): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3);
  let seed = 12345;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      const noise = (seed >> 16) % 48;
      const i = (y * width + x) * 3;
      raw[i] = Math.min(255, (x * 200) / width + noise);
      raw[i + 1] = Math.min(255, (y * 200) / height + noise);
      raw[i + 2] = Math.min(255, 90 + ((x + y) % 256) / 4 + noise);
    }
  }
  return sharp(raw, { raw: { width, height, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
}

export async function attachmentFigures(samples = 10): Promise<AttachmentFigures> {
  const original = await photo();
  const discord = await new FakeDiscord().start();
  try {
    const rest = new REST({ api: discord.apiUrl, retries: 0 }).setToken(discord.token);
    const message = discord.sendDm(discord.user('bench'), 'what is in this photo?', { files: [{ name: 'photo.jpg', content: original, contentType: 'image/jpeg' }] });
    const source = { channelId: message.channel_id, messageId: message.id, attachmentId: message.attachments[0]!.id, url: message.attachments[0]!.url };
    const options = { origins: [new URL(discord.apiUrl).origin], maxBytes: 20 * 1024 * 1024, timeoutMs: 30_000 };
    const downloadMs: number[] = [];
    const prepareMs: number[] = [];
    let prepared: Awaited<ReturnType<typeof prepareImage>> = 'unsupported';
    for (let i = 0; i < samples; i++) {
      const started = performance.now();
      const { bytes } = await downloadAttachment(rest, source, options);
      const downloaded = performance.now();
      prepared = await prepareImage(bytes, 'high');
      downloadMs.push(downloaded - started);
      prepareMs.push(performance.now() - downloaded);
    }
    if (typeof prepared === 'string') throw new Error(`the photo was not prepared: ${prepared}`);
    const low = await prepareImage(original, 'low');
    if (typeof low === 'string') throw new Error(`no low-detail copy: ${low}`);
    const reference = { name: 'photo.jpg', width: prepared.width, height: prepared.height, detail: 'high', source };
    const tokens = Object.fromEntries(
      ['gpt-4o', 'gpt-4.1-mini', 'gpt-5-mini', 'o4-mini', 'gpt-4o-mini'].map((model) => [
        model,
        { before: imageTokens(model, { width: 4000, height: 3000, detail: 'high' }), after: imageTokens(model, { width: prepared.width, height: prepared.height, detail: 'high' }) },
      ]),
    );
    return {
      originalBytes: original.length,
      preparedBytes: prepared.bytes,
      preparedSize: `${prepared.width}×${prepared.height}`,
      base64Before: Math.ceil(original.length / 3) * 4,
      base64After: prepared.data.length,
      lowCopyBytes: low.data.length,
      referenceBytes: Buffer.byteLength(JSON.stringify(reference)),
      tokens,
      downloadMs,
      prepareMs,
    };
  } finally {
    await discord.stop();
  }
}
