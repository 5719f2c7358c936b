// Downloads an attachment's bytes, safely: only from Discord's attachment hosts (or the configured
// DISCORD_API_URL's, for a proxy or a local fake), never following a redirect anywhere else, within a
// byte cap and a timeout. The bytes never leave this replica: the stream carries only the link.
//
// Discord's attachment links are signed and expire: "ex" is the expiry as a hexadecimal Unix
// timestamp, "is" when it was issued, "hm" the signature; an expired link answers 404. A fresh link
// comes with the message, fetched again by id (GET /channels/{channel.id}/messages/{message.id}):
// https://discord.com/developers/docs/reference#signed-attachment-cdn-urls
import { DiscordAPIError, RESTJSONErrorCodes, Routes, type APIMessage, type REST } from 'discord.js';

/** Discord's hosts for attachment bytes (attachment `url` and `proxy_url`). */
export const DISCORD_CDN_ORIGINS = ['https://cdn.discordapp.com', 'https://media.discordapp.net'];

const MAX_REDIRECTS = 3;

export type Unavailable = 'expired' | 'gone' | 'refused' | 'too_large' | 'failed';

/** The attachment could not be had; `reason` says why (the person is told in one line). */
export class AttachmentUnavailable extends Error {
  constructor(
    readonly reason: Unavailable,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AttachmentUnavailable';
  }
}

export interface DownloadOptions {
  /** Origins (scheme, host, port) bytes may come from. */
  origins: readonly string[];
  maxBytes: number;
  timeoutMs: number;
  /** Stop at `maxBytes` and return what was read (a text file read in part), instead of refusing. */
  truncate?: boolean;
}

/** Where an attachment lives: its message (to fetch a fresh link) and its current link. */
export interface AttachmentSource {
  channelId: string;
  messageId: string;
  attachmentId: string;
  url: string;
}

/** Whether a signed link has expired by its own `ex` parameter (hex Unix seconds); a link without one is tried. */
export function linkExpired(url: string, now = Date.now()): boolean {
  const ex = safeUrl(url)?.searchParams.get('ex');
  if (!ex || !/^[0-9a-f]+$/i.test(ex)) return false;
  return Number.parseInt(ex, 16) * 1000 <= now;
}

/**
 * The attachment's bytes, through a fresh link if the one given has expired (by `ex`, or by the CDN's
 * 403/404). Throws `AttachmentUnavailable`.
 */
export async function downloadAttachment(rest: REST, source: AttachmentSource, options: DownloadOptions): Promise<{ bytes: Buffer; truncated: boolean }> {
  let url = source.url;
  let refreshed = false;
  if (linkExpired(url)) {
    url = await freshUrl(rest, source);
    refreshed = true;
  }
  try {
    return await fetchBytes(url, options);
  } catch (error) {
    if (refreshed || !(error instanceof AttachmentUnavailable) || error.reason !== 'expired') throw error;
    return fetchBytes(await freshUrl(rest, source), options);
  }
}

/** The attachment's current link, from its message fetched again by id. */
export async function freshUrl(rest: REST, source: Omit<AttachmentSource, 'url'>): Promise<string> {
  let message: APIMessage;
  try {
    message = (await rest.get(Routes.channelMessage(source.channelId, source.messageId))) as APIMessage;
  } catch (error) {
    const gone = error instanceof DiscordAPIError && (error.code === RESTJSONErrorCodes.UnknownMessage || error.code === RESTJSONErrorCodes.UnknownChannel);
    throw new AttachmentUnavailable(gone ? 'gone' : 'failed', 'could not fetch the message again for a fresh attachment link', { cause: error });
  }
  const attachment = message.attachments.find((a) => a.id === source.attachmentId);
  if (!attachment) throw new AttachmentUnavailable('gone', 'the attachment is no longer on its message');
  return attachment.url;
}

/** GETs `url` from an allowed origin, following redirects only within the allowed origins. */
export async function fetchBytes(url: string, { origins, maxBytes, timeoutMs, truncate = false }: DownloadOptions): Promise<{ bytes: Buffer; truncated: boolean }> {
  const signal = AbortSignal.timeout(timeoutMs);
  let target = url;
  for (let hop = 0; ; hop++) {
    const parsed = safeUrl(target);
    if (!parsed || !origins.includes(parsed.origin)) throw new AttachmentUnavailable('refused', 'not one of Discord\'s attachment hosts');
    let response: Response;
    try {
      response = await fetch(parsed, { redirect: 'manual', signal });
    } catch (error) {
      throw new AttachmentUnavailable('failed', 'the download failed or timed out', { cause: error });
    }
    if (response.status >= 300 && response.status < 400) {
      await response.body?.cancel();
      const location = response.headers.get('location');
      if (!location || hop >= MAX_REDIRECTS) throw new AttachmentUnavailable('failed', 'too many redirects');
      target = new URL(location, parsed).toString();
      continue;
    }
    if (response.status === 403 || response.status === 404) {
      await response.body?.cancel();
      throw new AttachmentUnavailable('expired', `the CDN answered ${response.status}`);
    }
    if (!response.ok || !response.body) {
      await response.body?.cancel();
      throw new AttachmentUnavailable('failed', `the CDN answered ${response.status}`);
    }
    const declared = Number(response.headers.get('content-length') ?? NaN);
    if (!truncate && declared > maxBytes) {
      await response.body.cancel();
      throw new AttachmentUnavailable('too_large', `${declared} bytes, over ${maxBytes}`);
    }
    return readCapped(response.body, maxBytes, truncate);
  }
}

async function readCapped(body: ReadableStream<Uint8Array>, maxBytes: number, truncate: boolean): Promise<{ bytes: Buffer; truncated: boolean }> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { bytes: Buffer.concat(chunks, size), truncated: false };
      if (size + value.length > maxBytes) {
        await reader.cancel();
        if (!truncate) throw new AttachmentUnavailable('too_large', `over ${maxBytes} bytes`);
        chunks.push(value.subarray(0, maxBytes - size));
        return { bytes: Buffer.concat(chunks, maxBytes), truncated: true };
      }
      chunks.push(value);
      size += value.length;
    }
  } catch (error) {
    if (error instanceof AttachmentUnavailable) throw error;
    throw new AttachmentUnavailable('failed', 'the download was cut or timed out', { cause: error });
  }
}

function safeUrl(url: string): URL | null {
  try {
    return new URL(url);
  } catch {
    return null;
  }
}
