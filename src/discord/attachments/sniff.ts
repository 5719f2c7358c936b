// What a file is, judged by its first bytes (its "magic number") rather than by its name or the
// content type the sender's client claimed: a zip renamed cat.png is not an image, and only what is
// read here decides what reaches the model. Images are the four formats OpenAI accepts (PNG, JPEG,
// WebP, GIF: https://platform.openai.com/docs/guides/images-vision#image-input-requirements); text is
// UTF-8 without NUL bytes.

export type ImageFormat = 'png' | 'jpeg' | 'webp' | 'gif';

const startsWith = (bytes: Uint8Array, signature: readonly number[], at = 0) => signature.every((byte, i) => bytes[at + i] === byte);
const ascii = (text: string) => [...text].map((c) => c.charCodeAt(0));

/** The image format of these bytes, or null if they are none of the four. */
export function sniffImage(bytes: Uint8Array): ImageFormat | null {
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(bytes, ascii('RIFF')) && startsWith(bytes, ascii('WEBP'), 8)) return 'webp';
  if (startsWith(bytes, ascii('GIF87a')) || startsWith(bytes, ascii('GIF89a'))) return 'gif';
  return null;
}

/**
 * The bytes as text, if they are text: valid UTF-8 (a multi-byte character cut at the end, as a
 * partial download leaves it, is dropped) with no NUL byte, which no text file holds. A byte order
 * mark is dropped.
 */
export function sniffText(bytes: Uint8Array, { partial = false }: { partial?: boolean } = {}): string | null {
  if (bytes.includes(0)) return null;
  let end = bytes.length;
  if (partial) {
    // Back up over an incomplete UTF-8 sequence at the cut (at most 3 continuation bytes).
    let back = 0;
    while (back < 3 && end - back - 1 >= 0 && (bytes[end - back - 1]! & 0xc0) === 0x80) back++;
    const lead = bytes[end - back - 1];
    if (lead !== undefined && lead >= 0xc0) {
      const needed = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
      if (back + 1 < needed) end -= back + 1;
    }
  }
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes.subarray(0, end));
  } catch {
    return null;
  }
}
