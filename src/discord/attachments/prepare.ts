// Turns downloaded attachment bytes into what the model is given.
//   - Images (PNG, JPEG, WebP, still GIF, recognised by their bytes) are turned upright by their
//     EXIF orientation, shrunk to the size the model looks at — for `detail: high`, within
//     2048×2048 and then a short side of at most 768 px (OpenAI does the same on arrival, so nothing
//     the model would see is lost); for `low`, within 512×512 — re-encoded (which also drops their
//     metadata, GPS position included) and sent as a data: URL. A 4000×3000 photo of several MB goes
//     as 1024×768 JPEG of ~100 kB. Animated GIFs are refused: OpenAI takes only still images.
//   - Text files (.txt, .md, source code, .csv, .json, any text/*) are read as UTF-8 up to
//     MAX_FILE_CHARS, and put in the turn between markers naming the file.
// sharp (libvips) does the image work: prebuilt for Linux, macOS and Windows, it decodes and
// resizes a 12-megapixel JPEG in tens of milliseconds with little memory (it shrinks while it
// decodes), where pure-JS decoders take seconds and hold the whole bitmap.
import sharp, { type Metadata } from 'sharp';
import { highDetailSize, type ImageDetail } from '../../chat/vision.js';
import type { AttachmentRef } from '../../chat/types.js';
import { sniffImage, sniffText } from './sniff.js';

// A decompression bomb (a tiny file that decodes to a huge bitmap) is refused before decoding. JPEG
// and WebP shrink while they decode (a 48-megapixel photo costs little); PNG and GIF decode whole, so
// they are held to fewer pixels (16 MP of RGBA is 64 MB), and only two images are prepared at once.
const MAX_INPUT_PIXELS = 64_000_000;
const MAX_WHOLE_DECODE_PIXELS = 16_000_000;
const AT_ONCE = 2;
sharp.concurrency(1); // libvips threads per image: images are prepared side by side instead
let preparing = 0;
const waiting: (() => void)[] = [];

async function oneOfFew<T>(work: () => Promise<T>): Promise<T> {
  if (preparing >= AT_ONCE) await new Promise<void>((resolve) => waiting.push(resolve));
  preparing += 1;
  try {
    return await work();
  } finally {
    preparing -= 1;
    waiting.shift()?.();
  }
}

export type AttachmentKind = 'image' | 'text' | 'other';

const IMAGE_EXTENSIONS = new Set(['png', 'jpg', 'jpeg', 'jfif', 'webp', 'gif']);
const IMAGE_TYPES = new Set(['image/png', 'image/jpeg', 'image/webp', 'image/gif']);
// Text people send: prose, data and the source code of the common languages.
const TEXT_EXTENSIONS = new Set(
  ('txt text md markdown rst adoc org log csv tsv json jsonl ndjson yaml yml toml ini cfg conf properties xml html htm css scss less svg ' +
    'js mjs cjs jsx ts tsx mts cts vue svelte py pyi rb go rs java kt kts scala groovy gradle c h cc cpp cxx hpp hh cs fs vb swift m mm ' +
    'php pl pm lua r jl dart ex exs erl hrl clj hs ml sql sh bash zsh fish ps1 bat cmd dockerfile makefile cmake tf hcl proto graphql gql tex diff patch')
    .split(' '),
);
const TEXT_TYPES = /^(text\/|application\/(json|xml|javascript|x-sh|x-python|x-yaml|yaml|toml|sql|x-httpd-php|ld\+json))/;

function extensionOf(filename: string): string {
  const name = filename.toLowerCase();
  const dot = name.lastIndexOf('.');
  return dot < 0 ? name : name.slice(dot + 1);
}

/** What an attachment claims to be, to decide whether to fetch it; the bytes decide in the end. */
export function kindOf(ref: Pick<AttachmentRef, 'filename' | 'contentType'>): AttachmentKind {
  const extension = extensionOf(ref.filename);
  const type = ref.contentType?.split(';')[0]?.trim().toLowerCase() ?? '';
  if (IMAGE_EXTENSIONS.has(extension) || IMAGE_TYPES.has(type)) return 'image';
  if (TEXT_EXTENSIONS.has(extension) || TEXT_TYPES.test(type)) return 'text';
  return 'other';
}

export interface PreparedImage {
  /** data:image/…;base64,… */
  data: string;
  width: number;
  height: number;
  /** Bytes of the encoded image (before base64). */
  bytes: number;
}

/** The size an image is sent at for a detail level. */
export function targetSize(width: number, height: number, detail: ImageDetail): { width: number; height: number } {
  if (detail === 'high') return highDetailSize(width, height);
  const scale = Math.min(1, 512 / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/** The image as the model is given it, or why not. */
export async function prepareImage(input: Buffer, detail: ImageDetail): Promise<PreparedImage | 'animated' | 'unsupported'> {
  return oneOfFew(() => prepare(input, detail));
}

async function prepare(input: Buffer, detail: ImageDetail): Promise<PreparedImage | 'animated' | 'unsupported'> {
  const format = sniffImage(input);
  if (!format) return 'unsupported';
  let meta: Metadata;
  try {
    meta = await sharp(input, { animated: true, limitInputPixels: MAX_INPUT_PIXELS }).metadata();
  } catch {
    return 'unsupported'; // corrupt, or too many pixels
  }
  if ((meta.pages ?? 1) > 1) return 'animated';
  const upright = meta.autoOrient ?? { width: meta.width, height: meta.height };
  if (!upright.width || !upright.height) return 'unsupported';
  if ((format === 'png' || format === 'gif') && upright.width * upright.height > MAX_WHOLE_DECODE_PIXELS) return 'unsupported';
  const size = targetSize(upright.width, upright.height, detail);
  const image = sharp(input, { limitInputPixels: MAX_INPUT_PIXELS }).autoOrient().resize(size.width, size.height, { fit: 'fill' });
  // Photos stay JPEG (or WebP); PNG keeps screenshots' text sharp; a still GIF becomes PNG.
  const [encoded, mime] =
    format === 'jpeg'
      ? [image.jpeg({ quality: 85 }), 'image/jpeg']
      : format === 'webp'
        ? [image.webp({ quality: 85 }), 'image/webp']
        : [image.png(), 'image/png'];
  try {
    const { data, info } = await encoded.toBuffer({ resolveWithObject: true });
    return { data: `data:${mime};base64,${data.toString('base64')}`, width: info.width, height: info.height, bytes: data.length };
  } catch {
    return 'unsupported';
  }
}

/** A text file's contents, at most `maxChars` characters (cut between code points), or null if it is not text. */
export function prepareText(input: Buffer, maxChars: number, { partial = false }: { partial?: boolean } = {}): { text: string; cut: boolean } | null {
  const text = sniffText(input, { partial });
  if (text === null) return null;
  const points = [...text];
  if (points.length <= maxChars) return { text, cut: partial };
  return { text: points.slice(0, maxChars).join(''), cut: true };
}

/** The text file as it goes into the turn: between markers that name it. */
export function fileBlock(name: string, text: string, cut: boolean): string {
  // Neither the name nor the contents can close the block early and speak outside the file: the
  // name loses brackets and line breaks, and an end marker inside the contents gets a word joiner.
  const safeName = name.replace(/[[\]\r\n]/g, '_');
  const body = text.replaceAll('[end of file', '[end of\u2060 file');
  return `[file: ${safeName}]\n${body}${body.endsWith('\n') ? '' : '\n'}[end of file: ${safeName}${cut ? ', cut' : ''}]`;
}
