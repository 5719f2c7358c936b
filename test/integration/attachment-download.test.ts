// Downloading an attachment safely, against the fake Discord's CDN (signed, expiring links) and a
// hostile server: only Discord's hosts, no redirect elsewhere, a byte cap, a timeout, and an expired
// link refreshed by fetching the message again. The cache of prepared pictures, kept per person.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { REST } from 'discord.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import sharp from 'sharp';
import { AttachmentUnavailable, downloadAttachment, fetchBytes, linkExpired } from '../../src/discord/attachments/download.js';
import { AttachmentReader } from '../../src/discord/attachments/reader.js';
import { attachmentsOf } from '../../src/discord/attachments/refs.js';
import { FakeDiscord } from '../support/fake-discord/server.js';

let discord: FakeDiscord;
let rest: REST;
let hostile: Server;
let hostileOrigin: string;
const bytes = Buffer.from('the bytes of a picture');

beforeAll(async () => {
  discord = await new FakeDiscord().start();
  rest = new REST({ api: discord.apiUrl, retries: 0 }).setToken(discord.token);
  // A server that redirects to another host, streams without end, or never answers.
  hostile = createServer((req, res) => {
    if (req.url === '/slow') return; // never answered
    if (req.url === '/huge') {
      res.writeHead(200); // no content-length: the cap must hold while reading
      const chunk = Buffer.alloc(64 * 1024);
      const timer = setInterval(() => res.write(chunk), 1);
      res.on('close', () => clearInterval(timer));
      return;
    }
    res.writeHead(302, { location: 'https://example.com/elsewhere.png' }).end();
  }).listen(0, '127.0.0.1');
  await once(hostile, 'listening');
  hostileOrigin = `http://127.0.0.1:${(hostile.address() as AddressInfo).port}`;
});
afterAll(async () => {
  hostile?.closeAllConnections();
  hostile?.close();
  await discord?.stop();
});

const origins = () => [new URL(discord.apiUrl).origin];
const options = () => ({ origins: origins(), maxBytes: 1024, timeoutMs: 2000 });
const sourceOf = (message: { id: string; channel_id: string; attachments: { id: string; url: string }[] }) => ({
  channelId: message.channel_id,
  messageId: message.id,
  attachmentId: message.attachments[0]!.id,
  url: message.attachments[0]!.url,
});
const reason = (promise: Promise<unknown>) => promise.then(() => 'downloaded', (error: unknown) => (error instanceof AttachmentUnavailable ? error.reason : String(error)));

describe('downloading an attachment', () => {
  it('reads a link from the fake CDN, signed as Discord signs them', async () => {
    const user = discord.user('ann');
    const message = discord.sendDm(user, '', { files: [{ name: 'cat.png', content: bytes }] });
    expect(message.attachments[0]!.url).toMatch(/\/attachments\/\d+\/\d+\/cat\.png\?ex=[0-9a-f]+&is=[0-9a-f]+&hm=[0-9a-f]+$/);
    expect(linkExpired(message.attachments[0]!.url)).toBe(false);
    expect((await downloadAttachment(rest, sourceOf(message), options())).bytes).toEqual(bytes);
  });

  it('refreshes a link the CDN refuses (404) by fetching the message again', async () => {
    const user = discord.user('ben');
    const message = discord.sendDm(user, '', { files: [{ name: 'cat.png', content: bytes }] });
    discord.expireLinks(message);
    const before = discord.cdn.requests.length;
    expect((await downloadAttachment(rest, sourceOf(message), options())).bytes).toEqual(bytes);
    expect(discord.cdn.requests.slice(before).map((r) => r.status)).toEqual([404, 200]);
    expect(discord.requests.at(-1)).toMatchObject({ method: 'GET', path: `/channels/${user.dmChannelId}/messages/${message.id}` });
  });

  it('refreshes a link whose `ex` has passed without trying it', async () => {
    const user = discord.user('cat');
    const message = discord.sendDm(user, '', { files: [{ name: 'cat.png', content: bytes }], expiredLinks: true });
    expect(linkExpired(message.attachments[0]!.url)).toBe(true);
    const before = discord.cdn.requests.length;
    expect((await downloadAttachment(rest, sourceOf(message), options())).bytes).toEqual(bytes);
    expect(discord.cdn.requests.slice(before).map((r) => r.status)).toEqual([200]);
  });

  it('says the attachment is gone when its message was deleted', async () => {
    const user = discord.user('dan');
    const message = discord.sendDm(user, '', { files: [{ name: 'cat.png', content: bytes }], expiredLinks: true });
    discord.userMessages.delete(message.id);
    expect(await reason(downloadAttachment(rest, sourceOf(message), options()))).toBe('gone');
  });

  it('refuses a file over the cap, and one that turns out larger than it said while reading', async () => {
    const user = discord.user('eve');
    const message = discord.sendDm(user, '', { files: [{ name: 'big.png', content: Buffer.alloc(4096) }] });
    expect(await reason(downloadAttachment(rest, sourceOf(message), options()))).toBe('too_large');
    expect(await reason(fetchBytes(`${hostileOrigin}/huge`, { ...options(), origins: [hostileOrigin] }))).toBe('too_large');
  });

  it('reads the start of a text file, when asked to stop at the cap', async () => {
    const user = discord.user('fay');
    const message = discord.sendDm(user, '', { files: [{ name: 'long.txt', content: Buffer.from('x'.repeat(5000)) }] });
    const { bytes: read, truncated } = await downloadAttachment(rest, sourceOf(message), { ...options(), truncate: true });
    expect([read.length, truncated]).toEqual([1024, true]);
  });

  it('never fetches from another host, nor follows a redirect to one', async () => {
    expect(await reason(fetchBytes('https://example.com/cat.png', options()))).toBe('refused');
    expect(await reason(fetchBytes(`${hostileOrigin}/cat.png`, options()))).toBe('refused');
    // Allowed itself, the hostile server redirects elsewhere: refused before any request there.
    expect(await reason(fetchBytes(`${hostileOrigin}/cat.png`, { ...options(), origins: [hostileOrigin] }))).toBe('refused');
  });

  it('gives up after the timeout', async () => {
    const started = Date.now();
    expect(await reason(fetchBytes(`${hostileOrigin}/slow`, { ...options(), origins: [hostileOrigin], timeoutMs: 300 }))).toBe('failed');
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

describe('the prepared-picture cache', () => {
  it('keeps each person’s pictures for their next message, and forgets only the erased person’s', async () => {
    const picture = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#3366aa' } }).png().toBuffer();
    const reader = new AttachmentReader(
      { rest, logger: pino({ level: 'silent' }) },
      { vision: 'on', detail: 'high', maxAttachments: 4, maxAttachmentBytes: 1 << 20, maxImageBytes: 1 << 20, maxFileChars: 1000, timeoutMs: 2000, origins: origins() },
    );
    const [ann, bob] = [discord.user('ann-cache'), discord.user('bob-cache')];
    const read = async (user: typeof ann) => {
      const message = discord.sendDm(user, '', { files: [{ name: 'p.png', content: picture }] });
      const job = { messageId: message.id, userId: user.id, username: user.username, channelId: message.channel_id, text: '', createdAt: Date.now(), queuedAt: Date.now(), ...attachmentsOf(message) };
      const [image] = (await reader.read(job, 'gpt-4o')).images;
      return image!;
    };
    const [annImage, bobImage] = [await read(ann), await read(bob)];
    const downloads = () => discord.cdn.requests.length;
    const before = downloads();
    expect(await reader.load(annImage, ann.id)).toBe(annImage.data);
    expect(await reader.load(bobImage, bob.id)).toBe(bobImage.data);
    expect(downloads()).toBe(before); // both from the cache
    reader.forget(ann.id);
    expect(await reader.load(bobImage, bob.id)).toBe(bobImage.data);
    expect(downloads()).toBe(before); // bob's is still there
    expect(await reader.load(annImage, ann.id)).toBe(annImage.data);
    expect(downloads()).toBe(before + 1); // ann's was gone: fetched again
  });
});
