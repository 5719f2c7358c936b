// Which models are shown images, and what an image costs in the context budget, checked against the
// worked examples of OpenAI's vision guide ("Calculating costs",
// https://platform.openai.com/docs/guides/images-vision?api-mode=chat#calculating-costs).
// Covered: the 512 px tile rule (gpt-4o, gpt-4.1, gpt-4o-mini's multiplied figures, o1/o3's) and the
// 32 px patch rule (gpt-4.1-mini, gpt-4.1-nano, o4-mini; gpt-5-mini and gpt-5-nano, the guide's
// multipliers 1.62 and 2.46, not gpt-5's tiles).
import { describe, expect, it } from 'vitest';
import { acceptsImages, highDetailSize, imageTokens } from '../../src/chat/vision.js';

describe('which models see images (OPENAI_VISION=auto)', () => {
  it('names the vision models explicitly and leaves the others text-only', () => {
    for (const model of ['gpt-4o', 'gpt-4o-mini', 'gpt-4o-2024-08-06', 'chatgpt-4o-latest', 'gpt-4.1', 'gpt-4.1-mini', 'gpt-4.1-nano', 'gpt-5', 'gpt-5-mini', 'o1', 'o1-2024-12-17', 'o3', 'o3-2025-04-16', 'o4-mini']) {
      expect(acceptsImages(model, 'auto'), model).toBe(true);
    }
    for (const model of ['gpt-3.5-turbo', 'gpt-4', 'o1-mini', 'o3-mini', 'o1-preview', 'llama3', 'sandbox-echo', 'gpt-4o-audio-preview']) {
      expect(acceptsImages(model, 'auto'), model).toBe(false);
    }
  });

  it('follows the operator when forced on or off', () => {
    expect(acceptsImages('llava', 'on')).toBe(true);
    expect(acceptsImages('gpt-4o', 'off')).toBe(false);
  });
});

describe('image tokens, tiles of 512 px (gpt-4o, gpt-4.1)', () => {
  it('costs 85 tokens at low detail, whatever the size', () => {
    expect(imageTokens('gpt-4o', { width: 4096, height: 8192, detail: 'low' })).toBe(85);
  });

  it('matches the guide: 1024×1024 high is 765 tokens, 2048×4096 high is 1105', () => {
    expect(imageTokens('gpt-4o', { width: 1024, height: 1024, detail: 'high' })).toBe(765);
    expect(imageTokens('gpt-4o', { width: 2048, height: 4096, detail: 'high' })).toBe(1105);
    expect(imageTokens('gpt-4.1', { width: 2048, height: 4096, detail: 'high' })).toBe(1105);
  });

  it('scales down to 2048, then to a short side of 768, never up', () => {
    expect(highDetailSize(2048, 4096)).toEqual({ width: 768, height: 1536 });
    expect(highDetailSize(4000, 3000)).toEqual({ width: 1024, height: 768 });
    expect(highDetailSize(300, 200)).toEqual({ width: 300, height: 200 });
    expect(imageTokens('gpt-4o', { width: 300, height: 200, detail: 'high' })).toBe(85 + 170);
  });

  it('uses the guide’s own figures for gpt-4o-mini and the o-series', () => {
    expect(imageTokens('gpt-4o-mini', { width: 1024, height: 1024, detail: 'high' })).toBe(2833 + 4 * 5667);
    expect(imageTokens('gpt-4o-mini', { width: 1024, height: 1024, detail: 'low' })).toBe(2833);
    expect(imageTokens('o3', { width: 1024, height: 1024, detail: 'high' })).toBe(75 + 4 * 150);
  });
});

describe('image tokens, patches of 32 px (gpt-4.1-mini, gpt-4.1-nano, o4-mini, gpt-5-mini, gpt-5-nano)', () => {
  it('matches the guide: 1024×1024 is 1024 patches, 1800×2400 is 1452 after scaling under the cap of 1536', () => {
    expect(imageTokens('gpt-4.1-mini', { width: 1024, height: 1024, detail: 'high' })).toBe(Math.round(1024 * 1.62));
    expect(imageTokens('gpt-4.1-mini', { width: 1800, height: 2400, detail: 'high' })).toBe(Math.round(1452 * 1.62));
    expect(imageTokens('gpt-4.1-nano', { width: 1024, height: 1024, detail: 'high' })).toBe(Math.round(1024 * 2.46));
    expect(imageTokens('o4-mini', { width: 1800, height: 2400, detail: 'high' })).toBe(Math.round(1452 * 1.72));
  });

  it('counts gpt-5-mini and gpt-5-nano by patches (the guide lists them with the mini models), gpt-5 by tiles', () => {
    expect(imageTokens('gpt-5-mini', { width: 1024, height: 768, detail: 'high' })).toBe(Math.round(768 * 1.62));
    expect(imageTokens('gpt-5-nano-2025-08-07', { width: 1800, height: 2400, detail: 'low' })).toBe(Math.round(1452 * 2.46));
    expect(imageTokens('gpt-5', { width: 1024, height: 768, detail: 'high' })).toBe(765);
  });

  it('never counts more than 1536 patches, and detail does not change them', () => {
    expect(imageTokens('gpt-4.1-mini', { width: 8000, height: 8000, detail: 'high' })).toBeLessThanOrEqual(Math.round(1536 * 1.62));
    expect(imageTokens('gpt-4.1-mini', { width: 64, height: 64, detail: 'low' })).toBe(Math.round(4 * 1.62));
  });
});
