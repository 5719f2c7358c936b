// Which models are shown images, and what an image costs them in tokens.
//
// OPENAI_VISION=auto (the default) shows images to an explicit list of OpenAI model names known to
// accept image input, and to no other: a name not on the list (gpt-3.5-turbo, o1-mini, o3-mini, a
// local model) gets a note instead, since an image part sent to a text-only model fails the whole
// request. `on` shows images to every model (an OpenAI-compatible server with a vision model), `off`
// to none.
//
// Image tokens follow OpenAI's vision guide, "Calculating costs"
// (https://platform.openai.com/docs/guides/images-vision?api-mode=chat#calculating-costs):
//   - tiles (gpt-4o, gpt-4.1, gpt-4.5, gpt-5, o1, o3 …): `detail: low` costs the base tokens; `high`
//     scales the image to fit 2048×2048, then its short side to 768 px (never up), and adds the tile
//     tokens for each 512 px tile. gpt-4o/4.1/4.5: 85 + 170 per tile; gpt-4o-mini: 2833 + 5667 (the
//     guide's figures, billed at its lower price); o1/o3: 75 + 150. gpt-5 is counted as gpt-4o: the
//     figures found for it (70 + 140) are lower, so this never undercounts.
//   - patches (gpt-5-mini, gpt-5-nano, gpt-4.1-mini, gpt-4.1-nano, o4-mini): the 32 px patches
//     covering the image, scaled down to at most 1536, times the model's multiplier (1.62, 2.46, 1.62,
//     2.46, 1.72); `detail` does not change them. (People measuring the API report lower bills for
//     gpt-5-mini/nano, ×1.2 and ×1.5: the guide's figures count more, which keeps the budget safe.)
// A model the guide gives no figures for is counted with gpt-4o's.

export type VisionMode = 'auto' | 'on' | 'off';
export type ImageDetail = 'low' | 'high';

/** Model names (with their dated snapshots, e.g. gpt-4o-2024-08-06) that accept images, in auto mode. */
const VISION_MODELS = /^(gpt-4o|chatgpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|o1(-\d{4}-\d\d-\d\d)?$|o1-pro|o3(-\d{4}-\d\d-\d\d)?$|o3-pro|o4-mini)/;
/** Variants of those families that take no image input. */
const TEXT_ONLY = /(audio|realtime|search|transcribe|tts)/;

export function acceptsImages(model: string, mode: VisionMode): boolean {
  if (mode !== 'auto') return mode === 'on';
  return VISION_MODELS.test(model) && !TEXT_ONLY.test(model);
}

type Rule = { kind: 'tiles'; base: number; tile: number } | { kind: 'patches'; multiplier: number };

// First match wins: the mini and nano models before their families.
const RULES: [RegExp, Rule][] = [
  [/^gpt-5-mini/, { kind: 'patches', multiplier: 1.62 }],
  [/^gpt-5-nano/, { kind: 'patches', multiplier: 2.46 }],
  [/^gpt-4\.1-mini/, { kind: 'patches', multiplier: 1.62 }],
  [/^gpt-4\.1-nano/, { kind: 'patches', multiplier: 2.46 }],
  [/^o4-mini/, { kind: 'patches', multiplier: 1.72 }],
  [/^gpt-4o-mini/, { kind: 'tiles', base: 2833, tile: 5667 }],
  [/^o[13]/, { kind: 'tiles', base: 75, tile: 150 }],
];
const DEFAULT_RULE: Rule = { kind: 'tiles', base: 85, tile: 170 };

const PATCH = 32;
const MAX_PATCHES = 1536;

/** The size a `detail: high` image is looked at: within 2048×2048, then the short side at most 768 px. */
export function highDetailSize(width: number, height: number): { width: number; height: number } {
  const fit = Math.min(1, 2048 / Math.max(width, height));
  const scale = fit * Math.min(1, 768 / (Math.min(width, height) * fit));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/** 32 px patches covering the image, scaled down (aspect kept) to fit the cap, as the guide computes them. */
function patches(width: number, height: number): number {
  const whole = Math.ceil(width / PATCH) * Math.ceil(height / PATCH);
  if (whole <= MAX_PATCHES) return whole;
  const shrink = Math.sqrt((MAX_PATCHES * PATCH * PATCH) / (width * height));
  const [w, h] = [width * shrink, height * shrink];
  // Then a whole number of patches along the side that needs the larger cut.
  const fit = Math.min(Math.floor(w / PATCH) / (w / PATCH), Math.floor(h / PATCH) / (h / PATCH));
  const count = Math.ceil(Math.floor(w * fit) / PATCH) * Math.ceil(Math.floor(h * fit) / PATCH);
  return Math.min(count, MAX_PATCHES);
}

/** Tokens one image costs `model` at the given size (as sent) and detail. */
export function imageTokens(model: string, image: { width: number; height: number; detail: ImageDetail }): number {
  const rule = RULES.find(([pattern]) => pattern.test(model))?.[1] ?? DEFAULT_RULE;
  if (rule.kind === 'patches') return Math.round(patches(image.width, image.height) * rule.multiplier);
  if (image.detail === 'low') return rule.base;
  const size = highDetailSize(image.width, image.height);
  return rule.base + rule.tile * Math.ceil(size.width / 512) * Math.ceil(size.height / 512);
}
