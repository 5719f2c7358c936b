// Shows an answer while the model writes it, spending Discord requests only where they buy something:
//   - the first words wait a moment (FIRST_POST_HOLD_MS): an answer that is complete by then is
//     posted once, whole, in one request;
//   - after that each message is edited at a steady pace — Discord allows about one edit per second
//     per message — and when the text outgrows 2000 characters the rest continues in a new message,
//     split exactly as `splitForDiscord` splits a finished answer;
//   - every request before the final text is optional: it is made only while `mayStream()` says the
//     bot's request budget has room (under load, first posts and final texts of every answer go
//     first, and an answer is simply posted whole when it is done).
// `finish` makes the messages match the final text exactly, including a message found already posted
// (by a replica that died mid-answer), and edits a first post still on its way rather than posting
// the part again.
// The Stop button (stop-button.ts) rides on the newest part while the answer is written, and only
// when `stopButton()` says there is request budget to spare: an edit that completes an earlier part
// takes it off that part, and the final text takes it off the last one in the edit it needs anyway.
import { splitForDiscord } from './split.js';

export interface PostedMessage {
  /** What the message shows, if it may differ from what was posted (a message found by its nonce). */
  readonly content?: string;
  /** Whether it carries a Stop button (a message found by its nonce may, from an earlier replica). */
  readonly button?: boolean;
  /** Shows `content`; with `removeButton`, takes the Stop button off in the same request. */
  edit(content: string, removeButton?: boolean): Promise<unknown>;
}

/** Posts a part; with `button`, carrying the Stop button. */
export type Poster = (content: string, button: boolean) => Promise<PostedMessage>;

export interface StreamingOptions {
  editIntervalMs?: number;
  /** Whether an optional request (streamed words) may be made now. */
  mayStream?: () => boolean;
  /** How long the first words wait for the rest of a short answer. */
  firstPostHoldMs?: number;
  /** Whether a part posted now may carry the Stop button (none when absent). */
  stopButton?: () => boolean;
}

const FIRST_POST_HOLD_MS = 10;

export class StreamingReply {
  private text = '';
  private readonly posted: { message: PostedMessage; shown: string; editedAt: number; button: boolean }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private failed: unknown = null;
  private flushQueued = false;
  private readonly editIntervalMs: number;
  private readonly mayStream: () => boolean;
  private readonly holdMs: number;
  private readonly stopButton: () => boolean;

  constructor(
    private readonly post: Poster,
    options: StreamingOptions = {},
  ) {
    this.editIntervalMs = options.editIntervalMs ?? 1000;
    this.mayStream = options.mayStream ?? (() => true);
    this.holdMs = options.firstPostHoldMs ?? FIRST_POST_HOLD_MS;
    this.stopButton = options.stopButton ?? (() => false);
  }

  /** Whether text was handed over (then `finish` must be called: it shows the rest, or all of it). */
  get started(): boolean {
    return this.text.length > 0 || this.posted.length > 0;
  }

  push(delta: string): void {
    this.text += delta;
    if (this.timer || this.flushQueued) return; // the coming flush will show this text too
    const last = this.posted.length ? Math.max(...this.posted.map((p) => p.editedAt)) : Date.now() - this.editIntervalMs + this.holdMs;
    this.schedule(Math.max(0, last + this.editIntervalMs - Date.now()));
  }

  private schedule(wait: number): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      // No room in the request budget: look again a little later; the final text goes out whatever happens.
      if (!this.mayStream()) return this.schedule(this.editIntervalMs / 4);
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
    if (this.failed) throw this.failed instanceof Error ? this.failed : new Error('showing the answer failed', { cause: this.failed });
  }

  /**
   * The model failed midway: what was shown stays as it is, without the Stop button, and nothing is
   * edited after this (a notice follows). Never throws: the failure itself is what matters.
   */
  async settle(): Promise<void> {
    if (this.started) await this.finish(this.text).catch(() => undefined);
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
    if (this.failed) return; // Discord refused: nothing more is asked of it
    const text = final ? this.text : this.text.trimEnd();
    if (!text.trim()) return;
    const chunks = splitForDiscord(text);
    for (const [i, chunk] of chunks.entries()) {
      // While the answer is written, the Stop button belongs on the newest part only.
      const buttonHere = !final && i === chunks.length - 1;
      let existing = this.posted[i];
      if (!existing) {
        const button = buttonHere && this.stopButton();
        const message = await this.post(chunk, button);
        existing = { message, shown: message.content ?? chunk, editedAt: Date.now(), button: button || message.button === true };
        this.posted.push(existing);
      }
      const removeButton = existing.button && !buttonHere;
      // A part still carrying the button is edited once more at the end even if its text is complete
      // (it was not edited when the next part began: rare, since that edit usually completes its text).
      if ((existing.shown !== chunk || (final && removeButton)) && (final || Date.now() - existing.editedAt >= this.editIntervalMs)) {
        existing.shown = chunk;
        existing.editedAt = Date.now();
        await existing.message.edit(chunk, removeButton);
        if (removeButton) existing.button = false;
      }
    }
    // Text moved on while we were sending: go again at the steady pace.
    if (!final && this.text.trimEnd() !== text && !this.timer) this.push('');
  }
}
