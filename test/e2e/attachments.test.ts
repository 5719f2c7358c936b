// Pictures and files sent to the real bot process, against the fake Discord (whose CDN serves the
// attached files at signed, expiring links) and the fake OpenAI (which records image parts). The
// default model here sees images (gpt-4o); gpt-3.5-turbo, chosen with /model, does not.
import sharp from 'sharp';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { en } from '../../src/discord/locales/en.js';
import { startWorld, type World } from '../support/e2e.js';
import type { FakeUser } from '../support/fake-discord/server.js';
import { imagesIn, type ChatRequest } from '../support/fake-openai.js';

const STRING = 3;
let w: World;
let photo: Buffer; // a 4000×3000 JPEG, as a phone takes them
let png: Buffer; // an 800×600 PNG

beforeAll(async () => {
  const [width, height] = [4000, 3000];
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      [raw[i], raw[i + 1], raw[i + 2]] = [(x * 255) / width, (y * 255) / height, 128];
    }
  }
  photo = await sharp(raw, { raw: { width, height, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
  png = await sharp({ create: { width: 800, height: 600, channels: 3, background: { r: 200, g: 30, b: 30 } } }).png().toBuffer();
  w = await startWorld({
    env: {
      OPENAI_MODELS: 'gpt-4o,gpt-3.5-turbo',
      CONTEXT_TOKEN_BUDGET: '1500',
      IMAGE_MEMORY_TURNS: '1',
      MAX_IMAGE_BYTES: String(3 * 1024 * 1024),
      MAX_FILE_CHARS: '300',
      MAX_ATTACHMENTS: '3',
      MAX_ATTACHMENT_BYTES: String(5 * 1024 * 1024),
    },
  });
}, 60_000);
afterAll(() => w?.close());
beforeEach(() => w.openai.reset());

const lastRequest = (): ChatRequest => w.openai.requests.at(-1)!;
const sizeOf = async (dataUrl: string) => {
  const { width, height, format } = await sharp(Buffer.from(dataUrl.slice(dataUrl.indexOf(',') + 1), 'base64')).metadata();
  return { width, height, format };
};
const cdnFetchesOf = (message: { attachments: { id: string }[] }) => w.discord.cdn.requests.filter((r) => message.attachments.some((a) => r.path.includes(`/${a.id}/`)));

describe('pictures, with a model that sees them', () => {
  it('sends an image with words as an image part of the user turn, downscaled to what the model looks at', async () => {
    const amy = w.discord.user('amy');
    const { replies } = await w.ask(amy, 'What colours are in this photo?', { files: [{ name: 'photo.jpg', content: photo, contentType: 'image/jpeg', width: 4000, height: 3000 }] });
    expect(replies.map((r) => r.content)).toEqual(['You said: What colours are in this photo?']);
    const request = lastRequest();
    expect(request.model).toBe('gpt-4o');
    const user = request.messages.at(-1)!;
    expect(user.parts?.[0]).toEqual({ type: 'text', text: 'What colours are in this photo?' });
    const [image] = imagesIn(request);
    expect(image).toMatchObject({ role: 'user', detail: 'high' });
    expect(image!.url).toMatch(/^data:image\/jpeg;base64,/);
    // 4000×3000 fits 2048×2048 as 2048×1536, then its short side goes to 768.
    expect(await sizeOf(image!.url)).toEqual({ width: 1024, height: 768, format: 'jpeg' });
    expect(Buffer.from(image!.url.split(',')[1]!, 'base64').length).toBeLessThan(photo.length / 5);
  });

  it('answers a picture sent without words', async () => {
    const ben = w.discord.user('ben');
    const { replies } = await w.ask(ben, '', { files: [{ name: 'red.png', content: png, contentType: 'image/png' }] });
    expect(replies).toHaveLength(1);
    const user = lastRequest().messages.at(-1)!;
    expect(user.parts).toEqual([{ type: 'image_url', image_url: { url: expect.stringMatching(/^data:image\/png;base64,/), detail: 'high' } }]);
    expect(await sizeOf(user.images![0]!.url)).toEqual({ width: 800, height: 600, format: 'png' });
  });

  it('keeps a picture by reference while the conversation fits, the prompt unchanged; at the next trim, older than IMAGE_MEMORY_TURNS, it becomes a placeholder', async () => {
    const cy = w.discord.user('cy');
    await w.ask(cy, 'Remember this one', { files: [{ name: 'red.png', content: png, contentType: 'image/png' }] });
    await w.ask(cy, 'What was in it?');
    await w.ask(cy, 'And now?');
    // Within the budget: still there, and the request starts exactly as the one before did.
    const [before, after] = w.openai.requests.slice(-2);
    expect(imagesIn(after!)).toHaveLength(1);
    expect(after!.messages.slice(0, before!.messages.length)).toEqual(before!.messages);
    const session = (await w.redis.redis.get(`${w.redis.prefix}session:{${cy.id}}`))!;
    expect(session).not.toContain('base64');
    expect(session.length).toBeLessThan(2000);
    // A long message makes the context trim: the picture goes first (its words stay), no turn is dropped.
    await w.ask(cy, `Long one: ${'word '.repeat(700)}`);
    expect(imagesIn(lastRequest())).toEqual([]);
    expect(lastRequest().messages.map((m) => m.content)).toContain('Remember this one\n[image: red.png]');
    expect(lastRequest().messages.map((m) => m.content)).toContain('What was in it?');
  });

  it('swaps older pictures for placeholders first when the token budget is reached, keeping the words', async () => {
    const dee = w.discord.user('dee');
    await w.ask(dee, 'first picture', { files: [{ name: 'one.jpg', content: photo, contentType: 'image/jpeg' }] });
    await w.ask(dee, 'second picture', { files: [{ name: 'two.jpg', content: photo, contentType: 'image/jpeg' }] });
    // Two high-detail photos (765 tokens each) do not fit the budget of 1500: the older one goes, its turn stays.
    const request = lastRequest();
    expect(imagesIn(request)).toHaveLength(1);
    expect(request.messages.at(-1)!.images).toHaveLength(1);
    expect(request.messages.map((m) => m.content)).toEqual([expect.any(String), 'first picture\n[image: one.jpg]', 'You said: first picture', 'second picture']);
  });

  it('refreshes an expired link by fetching the message again', async () => {
    const eve = w.discord.user('eve');
    const { message } = await w.ask(eve, 'old link', { files: [{ name: 'red.png', content: png, contentType: 'image/png' }], expiredLinks: true });
    expect(imagesIn(lastRequest())).toHaveLength(1);
    expect(w.discord.requests.some((r) => r.method === 'GET' && r.path === `/channels/${eve.dmChannelId}/messages/${message.id}`)).toBe(true);
    // The expired link itself was never tried: its `ex` said so.
    expect(cdnFetchesOf(message).map((r) => r.status)).toEqual([200]);
  });

  it('refuses an image over MAX_IMAGE_BYTES with a note, without downloading it, and answers the words', async () => {
    const fay = w.discord.user('fay');
    const huge = Buffer.concat([png, Buffer.alloc(4 * 1024 * 1024)]);
    const { message, replies } = await w.ask(fay, 'Look at this huge one', { files: [{ name: 'huge.png', content: huge, contentType: 'image/png' }] });
    expect(replies[0]!.content).toBe(`${en.attachments.tooLarge('`huge.png`', 3)}\n\nYou said: Look at this huge one`);
    expect(imagesIn(lastRequest())).toEqual([]);
    expect(cdnFetchesOf(message)).toEqual([]);
  });

  it('tells a download that failed, and still answers the words', async () => {
    const gil = w.discord.user('gil');
    const elsewhere = { id: '1', filename: 'cat.png', size: 1000, content_type: 'image/png', url: 'https://example.com/cat.png', proxy_url: 'https://example.com/cat.png' };
    const { replies } = await w.ask(gil, 'Here is my cat', { attachments: [elsewhere] });
    expect(replies[0]!.content).toBe(`${en.attachments.failed('`cat.png`')}\n\nYou said: Here is my cat`);
    expect(imagesIn(lastRequest())).toEqual([]);
  });
});

describe('files', () => {
  it('puts a text file’s content into the turn, with its name', async () => {
    const hal = w.discord.user('hal');
    const csv = 'name,age\nMinsu,30\nJane,41\n';
    await w.ask(hal, 'Who is older?', { files: [{ name: 'people.csv', content: Buffer.from(csv), contentType: 'text/csv; charset=utf-8' }] });
    expect(lastRequest().messages.at(-1)!.content).toBe(`Who is older?\n\n[file: people.csv]\n${csv}[end of file: people.csv]`);
  });

  it('cuts a text file longer than MAX_FILE_CHARS, and says so', async () => {
    const ida = w.discord.user('ida');
    const long = 'word '.repeat(200);
    const { replies } = await w.ask(ida, 'Summarise', { files: [{ name: 'notes.md', content: Buffer.from(long) }] });
    expect(replies[0]!.content.split('\n')[0]).toBe(en.attachments.cut('`notes.md`', 300));
    expect(lastRequest().messages.at(-1)!.content).toBe(`Summarise\n\n[file: notes.md]\n${long.slice(0, 300)}\n[end of file: notes.md, cut]`);
  });

  it('names an archive in a note, answers the words, and never fetches or sends its bytes', async () => {
    const jo = w.discord.user('jo');
    const zip = Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.from('secret-archive-bytes')]);
    const { message, replies } = await w.ask(jo, 'What is in here?', { files: [{ name: 'backup.zip', content: zip, contentType: 'application/zip' }] });
    expect(replies[0]!.content).toBe(`${en.attachments.unsupported('`backup.zip`')}\n\nYou said: What is in here?`);
    expect(cdnFetchesOf(message)).toEqual([]);
    expect(JSON.stringify(lastRequest())).not.toContain('secret-archive-bytes');
  });

  it('answers a message of files it cannot read with the notes alone, and no model call', async () => {
    const kit = w.discord.user('kit');
    const { replies } = await w.ask(kit, '', { files: [{ name: 'song.mp3', content: Buffer.from('ID3audio'), contentType: 'audio/mpeg' }] });
    expect(replies.map((r) => r.content)).toEqual([en.attachments.unsupported('`song.mp3`')]);
    expect(w.openai.requests).toEqual([]);
  });

  it('reads at most MAX_ATTACHMENTS files and names the rest', async () => {
    const lou = w.discord.user('lou');
    const files = ['a', 'b', 'c', 'd'].map((n) => ({ name: `${n}.txt`, content: Buffer.from(`file ${n}`) }));
    const { replies } = await w.ask(lou, 'Four files', { files });
    expect(replies[0]!.content.split('\n')[0]).toBe(en.attachments.tooMany('`d.txt`', 3));
    expect(lastRequest().messages.at(-1)!.content).toContain('[file: c.txt]');
    expect(lastRequest().messages.at(-1)!.content).not.toContain('file d');
  });

  it('reads files only up to MAX_ATTACHMENT_BYTES per message, and names the rest', async () => {
    const mia = w.discord.user('mia');
    const log = (n: number) => ({ name: `day${n}.log`, content: Buffer.from(`line ${n}\n`.repeat(400_000)), contentType: 'text/plain' });
    const { message, replies } = await w.ask(mia, 'Two big logs', { files: [log(1), log(2)] });
    expect(replies[0]!.content.split('\n').slice(0, 2)).toEqual([en.attachments.cut('`day1.log`', 300), en.attachments.tooLarge('`day2.log`', 5)]);
    expect(lastRequest().messages.at(-1)!.content).toContain('[file: day1.log]');
    expect(cdnFetchesOf(message)).toHaveLength(1);
  });
});

describe('a voice message', () => {
  it('gets its own note instead of "send me some words", and no model call', async () => {
    const max = w.discord.user('max');
    const { replies } = await w.ask(max, '', { files: [{ name: 'voice-message.ogg', content: Buffer.from('OggS voice'), contentType: 'audio/ogg' }], flags: 1 << 13 });
    expect(replies.map((r) => r.content)).toEqual([en.voiceMessage]);
    expect(w.openai.requests).toEqual([]);
  });
});

describe('a model that takes no images', () => {
  const choose = (user: FakeUser) => w.discord.commandReply(user, 'model', [{ name: 'model', type: STRING, value: 'gpt-3.5-turbo' }]);

  it('gets no image part: the words are answered after a note', async () => {
    const ned = w.discord.user('ned');
    await choose(ned);
    const { message, replies } = await w.ask(ned, 'Can you see this?', { files: [{ name: 'red.png', content: png, contentType: 'image/png' }] });
    expect(replies[0]!.content).toBe(`${en.attachments.noVision('`red.png`', 'gpt-3.5-turbo')}\n\nYou said: Can you see this?`);
    expect(lastRequest().model).toBe('gpt-3.5-turbo');
    expect(lastRequest().messages.every((m) => m.parts === undefined)).toBe(true);
    expect(cdnFetchesOf(message)).toEqual([]); // not even downloaded
  });

  it('answers a picture alone with the note, and no model call', async () => {
    const ola = w.discord.user('ola');
    await choose(ola);
    const { replies } = await w.ask(ola, '', { files: [{ name: 'red.png', content: png, contentType: 'image/png' }] });
    expect(replies.map((r) => r.content)).toEqual([en.attachments.noVision('`red.png`', 'gpt-3.5-turbo')]);
    expect(w.openai.requests).toEqual([]);
  });
});

describe('history', () => {
  it('records each exchange’s attachments (name, type, size; never the bytes) and /history names them', async () => {
    const pia = w.discord.user('pia');
    await w.ask(pia, 'Two files for the record', {
      files: [
        { name: 'red.png', content: png, contentType: 'image/png' },
        { name: 'people.csv', content: Buffer.from('a,b\n1,2\n'), contentType: 'text/csv' },
      ],
    });
    const db = await w.storedRows(pia.id);
    expect(db).toHaveLength(1);
    const page = await w.discord.commandReply(pia, 'history');
    const shown = page.embeds.map((e: any) => e.description).join('\n');
    expect(shown).toContain('red.png');
    expect(shown).toContain('people.csv');
  });
});
