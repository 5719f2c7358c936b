// How a conversation remembers the images people sent.
//
// The session in Redis never holds an image: a turn keeps a reference to it (the Discord message and
// attachment, ~200 bytes) and the size it was sent at, and the image is fetched again (and prepared
// the same way, so the request is byte-identical) when a later request includes that turn. When the
// context must be trimmed, images older than IMAGE_MEMORY_TURNS turns become short placeholders
// ("[image: cat.png]"), all at once, before any older image or turn goes (context.ts); never between
// trims, so between them every request starts with the same bytes and the provider's prompt cache
// applies. (A downscaled copy kept in the session instead would cost
// ~30–60 kB of Redis per image, rewritten with the session on every message.)
import type { Turn, TurnImage } from './types.js';

export function placeholder(image: Pick<TurnImage, 'name'>): string {
  return `[image: ${image.name}]`;
}

/** The turn with these of its images (all by default) replaced by placeholders in its text. */
export function withPlaceholders(turn: Turn, gone: readonly TurnImage[] = turn.images ?? []): Turn {
  if (!gone.length) return turn;
  const kept = (turn.images ?? []).filter((image) => !gone.includes(image));
  const content = [turn.content, gone.map(placeholder).join(' ')].filter(Boolean).join('\n');
  return { role: turn.role, content, ...(kept.length ? { images: kept } : {}) };
}

/**
 * Images older than `memoryTurns` user turns (the newest turn being the current message) become
 * placeholders; with `keep: false` every image does (a model that takes no images).
 */
export function ageImages(turns: readonly Turn[], memoryTurns: number, { keep = true }: { keep?: boolean } = {}): Turn[] {
  let newer = 0;
  const aged: Turn[] = [];
  for (let i = turns.length - 1; i >= 0; i--) {
    const turn = turns[i]!;
    aged.unshift(turn.images?.length && (!keep || newer > memoryTurns) ? withPlaceholders(turn) : turn);
    if (turn.role === 'user') newer++;
  }
  return aged;
}

/** The turn's images looked at in less detail (85 tokens each for gpt-4o), for a message that does not fit otherwise. */
export function inLowDetail(turn: Turn): Turn {
  if (!turn.images?.length) return turn;
  return { role: turn.role, content: turn.content, images: turn.images.map((image) => ({ ...image, detail: 'low' as const })) };
}

/**
 * Fills in each image's data for a request, fetching those that have none; an image that can no
 * longer be fetched (the message was deleted) becomes a placeholder.
 */
export async function showImages(turns: readonly Turn[], load: (image: TurnImage) => Promise<string | null>): Promise<Turn[]> {
  return Promise.all(
    turns.map(async (turn) => {
      if (!turn.images?.length) return turn;
      const loaded = await Promise.all(turn.images.map(async (image) => (image.data ? image : { ...image, data: (await load(image).catch(() => null)) ?? undefined })));
      const gone = loaded.filter((image) => !image.data);
      return withPlaceholders({ ...turn, images: loaded }, gone);
    }),
  );
}

/** The turns as the session keeps them: images by reference only. */
export function forSession(turns: readonly Turn[]): Turn[] {
  return turns.map((turn) => (turn.images?.length ? { ...turn, images: turn.images.map(({ data: _data, ...image }) => image) } : turn));
}
