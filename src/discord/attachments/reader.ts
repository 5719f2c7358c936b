// The answer path's attachment step: a queued message's attachments (metadata only) become what the
// model is given — images for a model that sees them, the text of text files — and notes for the
// person about whatever was left out. Nothing here throws: a file that cannot be had is a note, and
// the words are answered anyway.
//   - at most MAX_ATTACHMENTS per message, MAX_ATTACHMENT_BYTES together, MAX_IMAGE_BYTES per image;
//   - an image for a model that takes none is not even downloaded (one note says so);
//   - anything neither image nor text (audio, video, archives, binaries) is named, never fetched.
// It also fetches the image of an earlier turn again (`load`), for the conversation core, which keeps
// images in the session by reference only (src/chat/image-memory.ts). Prepared images are kept for
// a while in a small in-process cache, so the next message of the person usually costs no download.
import type { REST } from 'discord.js';
import type { Logger } from 'pino';
import type { AttachmentMeta, AttachmentRef, TurnImage } from '../../chat/types.js';
import { acceptsImages, type ImageDetail, type VisionMode } from '../../chat/vision.js';
import type { DmJob } from '../../queue/dm-stream.js';
import { AttachmentUnavailable, downloadAttachment, type AttachmentSource, type DownloadOptions } from './download.js';
import type { AttachmentNote } from './notes.js';
import { fileBlock, kindOf, prepareImage, prepareText } from './prepare.js';

export interface AttachmentSettings {
  vision: VisionMode;
  detail: ImageDetail;
  maxAttachments: number;
  /** All attachments of one message together, as Discord reports their sizes. */
  maxAttachmentBytes: number;
  maxImageBytes: number;
  maxFileChars: number;
  timeoutMs: number;
  /** Origins attachment bytes may come from (Discord's CDN, and DISCORD_API_URL's). */
  origins: readonly string[];
}

export interface ReadAttachments {
  images: TurnImage[];
  /** The text files, each between markers naming it, joined. */
  files: string;
  notes: AttachmentNote[];
}

// Prepared images kept in memory (data: URLs), so a person's next message reuses them: for a few
// minutes only (what a person sent is not kept longer than their conversation needs it), and emptied
// on an erasure (src/privacy/erasure.ts).
const CACHE_BYTES = 32 * 1024 * 1024;
const CACHE_MS = 10 * 60_000;

/** What history keeps of an attachment. */
export function metaOf(ref: AttachmentRef): AttachmentMeta {
  return { name: ref.filename, type: ref.contentType ?? 'application/octet-stream', size: ref.size };
}

export class AttachmentReader {
  /** Prepared pictures by attachment and detail, each with the person who sent it (an erasure drops theirs). */
  private readonly cache = new Map<string, { data: string; until: number; owner: string }>();
  private cached = 0;

  constructor(
    private readonly deps: { rest: REST; logger: Logger },
    readonly settings: AttachmentSettings,
  ) {}

  /** The message's attachments as the model takes them (`model`: the one answering), and notes on the rest. */
  async read(job: DmJob, model: string, log: Logger = this.deps.logger): Promise<ReadAttachments> {
    const { settings } = this;
    const sees = acceptsImages(model, settings.vision);
    const refs = job.attachments ?? [];
    let declared = 0;
    const outcomes = await Promise.all(
      refs.map(async (ref, index): Promise<{ image?: TurnImage; file?: string; note?: AttachmentNote }> => {
        const name = ref.filename;
        if (index >= settings.maxAttachments) return { note: { kind: 'too_many', name, max: settings.maxAttachments } };
        declared += ref.size;
        if (declared > settings.maxAttachmentBytes) return { note: { kind: 'too_large', name, maxBytes: settings.maxAttachmentBytes } };
        const kind = kindOf(ref);
        if (kind === 'other') return { note: { kind: 'unsupported', name } };
        if (kind === 'image' && !sees) return { note: { kind: 'no_vision', name, model } };
        if (kind === 'image' && ref.size > settings.maxImageBytes) return { note: { kind: 'too_large', name, maxBytes: settings.maxImageBytes } };
        const source = { channelId: job.channelId, messageId: job.messageId, attachmentId: ref.id, url: ref.url };
        try {
          return kind === 'image' ? await this.readImage(source, name, job.userId) : await this.readText(source, name);
        } catch (error) {
          const reason = error instanceof AttachmentUnavailable ? error.reason : 'failed';
          log.warn({ err: error, attachmentId: ref.id, reason }, 'attachment not read');
          return { note: reason === 'too_large' ? { kind: 'too_large', name, maxBytes: settings.maxImageBytes } : { kind: 'failed', name } };
        }
      }),
    );
    const result: ReadAttachments = { images: [], files: '', notes: [] };
    for (const outcome of outcomes) {
      if (outcome.image) result.images.push(outcome.image);
      if (outcome.file) result.files = result.files ? `${result.files}\n\n${outcome.file}` : outcome.file;
      if (outcome.note) result.notes.push(outcome.note);
    }
    log.debug({ attachments: refs.length, images: result.images.length, files: outcomes.filter((o) => o.file).length, notes: result.notes.map((n) => n.kind) }, 'attachments read');
    return result;
  }

  /** An image of an earlier turn of `owner`'s, fetched again (its link refreshed if it expired); null if it is gone. */
  async load(image: TurnImage, owner: string): Promise<string | null> {
    const key = `${image.source.attachmentId}:${image.detail}`;
    const hit = this.cache.get(key);
    if (hit && hit.until > Date.now()) return hit.data;
    try {
      const { bytes } = await downloadAttachment(this.deps.rest, image.source, this.download(this.settings.maxImageBytes));
      const prepared = await prepareImage(bytes, image.detail);
      if (typeof prepared === 'string') return null;
      this.remember(key, prepared.data, owner);
      return prepared.data;
    } catch (error) {
      this.deps.logger.debug({ err: error, attachmentId: image.source.attachmentId }, 'earlier image not fetched again');
      return null;
    }
  }

  private async readImage(source: AttachmentSource, name: string, owner: string): Promise<{ image?: TurnImage; note?: AttachmentNote }> {
    const { bytes } = await downloadAttachment(this.deps.rest, source, this.download(this.settings.maxImageBytes));
    const prepared = await prepareImage(bytes, this.settings.detail);
    if (prepared === 'animated' || prepared === 'unsupported') return { note: { kind: prepared, name } };
    this.remember(`${source.attachmentId}:${this.settings.detail}`, prepared.data, owner);
    return { image: { name, width: prepared.width, height: prepared.height, detail: this.settings.detail, source, data: prepared.data } };
  }

  private async readText(source: AttachmentSource, name: string): Promise<{ file?: string; note?: AttachmentNote }> {
    const { maxFileChars } = this.settings;
    // A character is at most 4 bytes of UTF-8: this many bytes hold the first MAX_FILE_CHARS characters.
    const { bytes, truncated } = await downloadAttachment(this.deps.rest, source, { ...this.download(maxFileChars * 4), truncate: true });
    const read = prepareText(bytes, maxFileChars, { partial: truncated });
    if (!read) return { note: { kind: 'unsupported', name } };
    return { file: fileBlock(name, read.text, read.cut), ...(read.cut ? { note: { kind: 'cut', name, maxChars: maxFileChars } } : {}) };
  }

  private download(maxBytes: number): DownloadOptions {
    return { origins: this.settings.origins, maxBytes, timeoutMs: this.settings.timeoutMs };
  }

  private remember(key: string, data: string, owner: string): void {
    if (data.length > CACHE_BYTES / 4) return;
    this.drop(key);
    this.cache.set(key, { data, until: Date.now() + CACHE_MS, owner });
    this.cached += data.length;
    // Oldest first out (a Map iterates in insertion order; a hit is not moved: simple, and enough here).
    for (const [old, entry] of this.cache) {
      if (this.cached <= CACHE_BYTES && entry.until > Date.now()) break;
      this.drop(old);
    }
  }

  private drop(key: string): void {
    const entry = this.cache.get(key);
    if (!entry) return;
    this.cache.delete(key);
    this.cached -= entry.data.length;
  }

  /** Forgets the pictures this person sent (an erasure: what a person sent is not kept anywhere after it). */
  forget(userId: string): void {
    for (const [key, entry] of this.cache) if (entry.owner === userId) this.drop(key);
  }
}
