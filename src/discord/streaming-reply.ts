// Shows an answer while the model writes it. The first words go out at once (a new message); after
// that each message is edited at a steady pace — Discord allows about one edit per second per
// message — and when the text outgrows 2000 characters the rest continues in a new message, split
// exactly as `splitForDiscord` splits a finished answer. `finish` makes the messages match the
// final text exactly, including a message found already posted (by a replica that died mid-answer).
import { splitForDiscord } from './split.js';

export interface PostedMessage {
  /** What the message shows, if it may differ from what was posted (a message found by its nonce). */
  readonly content?: string;
  edit(content: string): Promise<unknown>;
}

export type Poster = (content: string) => Promise<PostedMessage>;

export class StreamingReply {
  private text = '';
  private readonly posted: { message: PostedMessage; shown: string; editedAt: number }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private failed: unknown = null;
  private flushQueued = false;

  constructor(
    private readonly post: Poster,
    private readonly editIntervalMs = 1000,
  ) {}

  /**
   * Whether any text was handed over to be shown (its first post may still be on its way: `finish`
   * then edits that post rather than posting the part again).
   */
  get started(): boolean {
    return this.text.length > 0 || this.posted.length > 0;
  }

  push(delta: string): void {
    this.text += delta;
    if (this.timer || this.flushQueued) return; // the coming flush will show this text too
    if (this.posted.length === 0) {
      this.enqueue(false); // the first words go out at once
      return;
    }
    const last = Math.max(...this.posted.map((p) => p.editedAt));
    const wait = Math.max(0, last + this.editIntervalMs - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.enqueue(false);
    }, wait);
  }

  /** Makes the shown messages equal `finalText` (split for Discord) and waits until they are. */
  async finish(finalText: string): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.text = finalText;
    this.enqueue(true);
    await this.chain;
    if (this.failed) throw this.failed;
  }

  private enqueue(final: boolean): void {
    this.flushQueued = true;
    this.chain = this.chain
      .then(() => {
        this.flushQueued = false;
        return this.flush(final);
      })
      .catch((error: unknown) => {
        this.failed ??= error;
      });
  }

  private async flush(final: boolean): Promise<void> {
    const text = final ? this.text : this.text.trimEnd();
    if (!text.trim()) return;
    const chunks = splitForDiscord(text);
    for (const [i, chunk] of chunks.entries()) {
      let existing = this.posted[i];
      if (!existing) {
        const message = await this.post(chunk);
        existing = { message, shown: message.content ?? chunk, editedAt: Date.now() };
        this.posted.push(existing);
      }
      if (existing.shown !== chunk && (final || Date.now() - existing.editedAt >= this.editIntervalMs)) {
        existing.shown = chunk;
        existing.editedAt = Date.now();
        await existing.message.edit(chunk);
      }
    }
    // Text moved on while we were sending: go again at the steady pace.
    if (!final && this.text.trimEnd() !== text && !this.timer) this.push('');
  }
}
