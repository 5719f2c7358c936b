// Files are judged by their bytes, never by their names: only a real image is shown to the model, and
// only real text is read into the conversation.
import { describe, expect, it } from 'vitest';
import { sniffImage, sniffText } from '../../src/discord/attachments/sniff.js';

const bytes = (...parts: (number[] | string)[]) => new Uint8Array(parts.flatMap((p) => (typeof p === 'string' ? [...Buffer.from(p, 'latin1')] : p)));

describe('sniffing images', () => {
  it('recognises PNG, JPEG, WebP and GIF by their first bytes', () => {
    expect(sniffImage(bytes([0x89], 'PNG', [0x0d, 0x0a, 0x1a, 0x0a, 0, 0]))).toBe('png');
    expect(sniffImage(bytes([0xff, 0xd8, 0xff, 0xe0]))).toBe('jpeg');
    expect(sniffImage(bytes('RIFF', [1, 2, 3, 4], 'WEBPVP8 '))).toBe('webp');
    expect(sniffImage(bytes('GIF89a', [1, 0]))).toBe('gif');
    expect(sniffImage(bytes('GIF87a'))).toBe('gif');
  });

  it('refuses anything else, whatever it is called: a zip, a PDF, an SVG, a RIFF that is audio', () => {
    expect(sniffImage(bytes('PK', [3, 4, 20, 0]))).toBeNull();
    expect(sniffImage(bytes('%PDF-1.7'))).toBeNull();
    expect(sniffImage(bytes('<svg xmlns="http://www.w3.org/2000/svg">'))).toBeNull();
    expect(sniffImage(bytes('RIFF', [1, 2, 3, 4], 'WAVEfmt '))).toBeNull();
    expect(sniffImage(bytes())).toBeNull();
  });
});

describe('sniffing text', () => {
  it('reads UTF-8, Korean and emoji included, without a byte order mark', () => {
    expect(sniffText(Buffer.from('\ufeffname,age\n민수,30 🐱\n'))).toBe('name,age\n민수,30 🐱\n');
  });

  it('refuses binary content: a NUL byte or invalid UTF-8', () => {
    expect(sniffText(bytes('PK', [3, 4, 0, 0]))).toBeNull();
    expect(sniffText(bytes([0xc3, 0x28]))).toBeNull();
  });

  it('drops a character cut in half at the end of a partial download', () => {
    const whole = Buffer.from('ab한');
    expect(sniffText(whole.subarray(0, whole.length - 1), { partial: true })).toBe('ab');
    expect(sniffText(whole, { partial: true })).toBe('ab한');
  });
});
