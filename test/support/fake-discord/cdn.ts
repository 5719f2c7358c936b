// The fake Discord's attachment CDN: the files people attach to their DMs, served at CDN-style links
// on the fake's own host, signed and expiring as Discord's are.
// Discord: an attachment object carries `url` and `proxy_url`
// (https://discord.com/developers/docs/resources/message#attachment-object); attachment links are
// signed, "ex" being the expiry and "is" the issue time as hexadecimal Unix timestamps and "hm" the
// signature, and a link that expired must be refreshed (fetching the message again gives fresh ones)
// (https://discord.com/developers/docs/reference#signed-attachment-cdn-urls). An expired or altered
// link is answered 404 ("This content is no longer available.").
import { createHmac } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { snowflake } from './payloads.js';

export interface FakeFile {
  name: string;
  content: Buffer;
  contentType?: string;
  /** Discord gives an image's size; the fake passes on what the test says. */
  width?: number;
  height?: number;
}

interface Stored extends FakeFile {
  id: string;
  channelId: string;
  /** Links issued before this moment (ms) are refused: the test expired them. */
  revokedBefore: number;
}

/** Discord's signed links last about a day. */
const LINK_TTL_MS = 24 * 3600_000;
const SECRET = 'fake-cdn-signing-key';

export class FakeCdn {
  readonly files = new Map<string, Stored>();
  /** Every request the CDN answered: path (no query) and status. */
  readonly requests: { path: string; status: number; at: number }[] = [];

  constructor(private readonly origin: () => string) {}

  /** Stores a file attached to a message in `channelId` and returns its attachment object, with a signed link. */
  attach(channelId: string, file: FakeFile, { expired = false }: { expired?: boolean } = {}) {
    const stored: Stored = { ...file, id: snowflake(), channelId, revokedBefore: 0 };
    this.files.set(stored.id, stored);
    return this.attachmentObject(stored, expired ? Date.now() - 2 * LINK_TTL_MS : Date.now());
  }

  /** The attachment object as Discord sends it, with links issued at `issuedAt`. */
  attachmentObject(stored: Stored, issuedAt = Date.now()) {
    const url = this.sign(stored, issuedAt);
    return {
      id: stored.id,
      filename: stored.name,
      size: stored.content.length,
      url,
      proxy_url: url,
      ...(stored.contentType ? { content_type: stored.contentType } : {}),
      ...(stored.width ? { width: stored.width, height: stored.height } : {}),
    };
  }

  /** Fresh attachment objects for a message read again (GET /channels/{id}/messages/{id}). */
  refreshed(attachments: { id: string }[]) {
    return attachments.map((a) => {
      const stored = this.files.get(a.id);
      return stored ? this.attachmentObject(stored) : a;
    });
  }

  /** Every link issued so far for these attachments stops working (as if they expired early). */
  expire(attachmentIds: string[]): void {
    const now = Date.now() + 1;
    for (const id of attachmentIds) {
      const stored = this.files.get(id);
      if (stored) stored.revokedBefore = now;
    }
  }

  private path(stored: Stored): string {
    return `/attachments/${stored.channelId}/${stored.id}/${encodeURIComponent(stored.name)}`;
  }

  private signature(path: string, ex: string, is: string): string {
    return createHmac('sha256', SECRET).update(`${path}?${ex}&${is}`).digest('hex').slice(0, 64);
  }

  private sign(stored: Stored, issuedAt: number): string {
    const path = this.path(stored);
    // Milliseconds kept in "is" (still hex) so that a link issued after an expiry is told apart.
    const is = Math.floor(issuedAt).toString(16);
    const ex = Math.floor((issuedAt + LINK_TTL_MS) / 1000).toString(16);
    return `${this.origin()}${path}?ex=${ex}&is=${is}&hm=${this.signature(path, ex, is)}`;
  }

  /** Answers GET /attachments/…: the bytes for a valid link, 404 otherwise. */
  serve(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const [, , , id] = url.pathname.split('/');
    const stored = id ? this.files.get(id) : undefined;
    const ex = url.searchParams.get('ex') ?? '';
    const is = url.searchParams.get('is') ?? '';
    const valid =
      stored &&
      req.method === 'GET' &&
      url.pathname === this.path(stored) &&
      url.searchParams.get('hm') === this.signature(url.pathname, ex, is) &&
      Number.parseInt(ex, 16) * 1000 > Date.now() &&
      Number.parseInt(is, 16) >= stored.revokedBefore;
    this.requests.push({ path: url.pathname, status: valid ? 200 : 404, at: Date.now() });
    if (!valid) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('This content is no longer available.');
      return;
    }
    res.writeHead(200, { 'content-type': stored.contentType ?? 'application/octet-stream', 'content-length': String(stored.content.length) }).end(stored.content);
  }
}
