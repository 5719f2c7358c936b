// `/attach PATH` in the sandbox: a local file goes with the next message (or alone, with `/send`),
// as a file attached in Discord would: the fake Discord serves it at a signed CDN link and the bot
// downloads it from there. The echo model says how many images it was shown.
import { readFile, stat } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import type { FakeFile } from '../../test/support/fake-discord/cdn.js';
import { imagesIn, type ChatRequest } from '../../test/support/fake-openai.js';

// What a Discord client would claim for a few common kinds (the bot trusts the bytes, not this).
const TYPES: Record<string, string> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.json': 'application/json',
  '.pdf': 'application/pdf',
  '.zip': 'application/zip',
  '.mp3': 'audio/mpeg',
  '.ogg': 'audio/ogg',
  '.mp4': 'video/mp4',
};

// Discord's largest upload (with Nitro); the bot's own limits apply after that.
const MAX_UPLOAD_BYTES = 500 * 1024 * 1024;

export class PendingFiles {
  private files: FakeFile[] = [];

  /** Reads the file; returns what to tell the person. */
  async add(path: string): Promise<string> {
    if (!path) return 'Usage: /attach PATH (the file goes with your next message; /send sends it alone).\n';
    try {
      const info = await stat(path);
      if (!info.isFile()) return `${path} is not a file.\n`;
      if (info.size > MAX_UPLOAD_BYTES) return `${path} is larger than Discord lets anyone upload.\n`;
      const contentType = TYPES[extname(path).toLowerCase()];
      this.files.push({ name: basename(path), content: await readFile(path), ...(contentType ? { contentType } : {}) });
      return `Attached ${basename(path)} (${info.size} bytes): it goes with your next message (or /send it alone).\n`;
    } catch (error) {
      return `Could not read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}\n`;
    }
  }

  get count(): number {
    return this.files.length;
  }

  /** The files for the message being sent now (and none for the next one). */
  take(): FakeFile[] {
    const files = this.files;
    this.files = [];
    return files;
  }
}

/** The echo model's answer: what was written, and how many images came with it. */
export function echoReply(request: ChatRequest): string {
  const last = request.messages.at(-1);
  const images = last?.images?.length ?? 0;
  const earlier = imagesIn(request).length - images;
  const seen = [images ? `${images} image${images === 1 ? '' : 's'} with this message` : '', earlier ? `${earlier} from earlier` : ''].filter(Boolean).join(', ');
  return `You said: ${last?.content ?? ''}${seen ? ` (and I was shown ${seen})` : ''}`;
}
