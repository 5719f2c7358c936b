// Where a reply goes, reached through Discord's REST API alone (any replica can answer a message whose
// gateway event it never saw). Every message the bot posts for an incoming message carries a nonce
// made from that message's id and the part's slot, with `enforce_nonce`: Discord then returns the
// message already posted with that nonce instead of posting it again. A replica that takes over a
// half-answered message therefore edits the parts already shown rather than doubling them.
// A refusal for good (see refusals.ts) is remembered: every later request for this message fails at
// once without reaching Discord, so a blocked person costs one refused request per message.
import {
  DiscordAPIError,
  RESTJSONErrorCodes,
  Routes,
  type APIAllowedMentions,
  type APIMessage,
  type APIMessageTopLevelComponent,
  type REST,
  type RESTPostAPIChannelMessageJSONBody,
} from 'discord.js';
import type { Logger } from 'pino';
import type { DmJob } from '../queue/dm-stream.js';
import { cleanText } from '../chat/clean-text.js';
import { refusalOf, type TokenRejected, type Undeliverable } from './refusals.js';
import type { PostedMessage } from './streaming-reply.js';
import { truncate } from './text-cut.js';

const THREAD_NAME_CHARS = 80;
const NO_MENTIONS: APIAllowedMentions = { parse: [] };

export interface ShownMessage extends PostedMessage {
  /** What the message shows now (an earlier replica may have left other text in it). */
  readonly content: string;
}

export class ReplyTarget {
  /** Discord's refusal for good of a request for this message, once there was one. */
  refusal: Undeliverable | TokenRejected | null = null;

  private constructor(
    private readonly rest: REST,
    readonly channelId: string,
    private readonly messageId: string,
  ) {}

  /** The DM, the thread the message was written in, or a thread on the message (opened once). */
  static async open(rest: REST, job: DmJob, log: Logger, { openThread = job.openThread } = {}): Promise<ReplyTarget> {
    if (!openThread) return new ReplyTarget(rest, job.channelId, job.messageId);
    try {
      const thread = (await rest.post(Routes.threads(job.channelId, job.messageId), {
        body: { name: truncate(job.text, THREAD_NAME_CHARS) || job.username },
      })) as { id: string };
      return new ReplyTarget(rest, thread.id, job.messageId);
    } catch (error) {
      // Opened by an earlier attempt: a thread started on a message has that message's id.
      if (error instanceof DiscordAPIError && error.code === RESTJSONErrorCodes.ThreadAlreadyCreatedForMessage) {
        return new ReplyTarget(rest, job.messageId, job.messageId);
      }
      // No permission to open threads here: answer in the channel rather than not at all.
      log.warn({ err: error }, 'could not open a reply thread; answering in the channel');
      return new ReplyTarget(rest, job.channelId, job.messageId);
    }
  }

  /** Posts part `slot` of the reply (with `components`, e.g. the Stop button), or finds it if it was posted before (same nonce). */
  async post(content: string, slot: number | 'notice', components?: APIMessageTopLevelComponent[]): Promise<ShownMessage> {
    const body: RESTPostAPIChannelMessageJSONBody = {
      content: cleanText(content),
      nonce: `${this.messageId}:${slot === 'notice' ? 'n' : slot}`, // ≤ 25 characters: a snowflake is ≤ 20 digits
      enforce_nonce: true,
      allowed_mentions: NO_MENTIONS,
      ...(components ? { components } : {}),
    };
    const posted = (await this.send(() => this.rest.post(Routes.channelMessages(this.channelId), { body }))) as APIMessage;
    return this.shown(posted);
  }

  /** Posts a whole reply, split in parts, making each part show exactly its text. */
  async show(parts: readonly string[]): Promise<void> {
    for (const [slot, part] of parts.entries()) {
      const message = await this.post(part, slot);
      // A Stop button left by a replica that died mid-answer goes with the text.
      if (message.content !== part || message.button) await message.edit(part, message.button);
    }
  }

  typing(): Promise<unknown> {
    return this.send(() => this.rest.post(Routes.channelTyping(this.channelId)));
  }

  /** Makes one request unless Discord already refused this message for good; remembers such a refusal. */
  private async send<T>(request: () => Promise<T>): Promise<T> {
    if (this.refusal) throw this.refusal;
    try {
      return await request();
    } catch (error) {
      this.refusal = refusalOf(error);
      throw this.refusal ?? error;
    }
  }

  private shown(message: APIMessage): ShownMessage {
    return {
      content: message.content,
      button: (message.components?.length ?? 0) > 0,
      // Discord's Edit Message leaves out what the body leaves out, so the Stop button stays through
      // streamed edits; `components: []` takes it off (https://discord.com/developers/docs/resources/message#edit-message).
      edit: (content: string, removeButton?: boolean) =>
        this.send(() =>
          this.rest.patch(Routes.channelMessage(this.channelId, message.id), {
            body: { content: cleanText(content), allowed_mentions: NO_MENTIONS, ...(removeButton ? { components: [] } : {}) },
          }),
        ),
    };
  }
}
