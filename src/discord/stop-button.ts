// The Stop button on an answer being written (streaming-reply.ts decides where it shows). Only the
// person answered may press it. The press may reach any replica (every gateway session receives the
// interaction; one claims it), while the answer is written by the replica that took the message, so
// the cancel goes through Redis:
//   - the pressing replica acknowledges at once (DEFERRED_UPDATE_MESSAGE: the button goes with the
//     final text, in the edit that is made anyway), sets `{stop}:<message id>` for a few minutes and
//     PUBLISHes the message id;
//   - the writing replica hears it on the subscriber connection it already holds for finished turns
//     (one more channel, no more connections) and aborts the model request with `StopRequested`: the
//     stream closes at once, and what was written is kept, marked stopped (src/chat/stop.ts).
// Publications are lost while a subscriber reconnects, so every replica also looks the keys of the
// answers it is writing up once a second (one MGET, whatever their number: the `{stop}` hash tag
// keeps them in one cluster slot). Polling alone would cost a second of tokens on every Stop.
import { ButtonStyle, ComponentType, type APIActionRowComponent, type APIButtonComponentWithCustomId, type ButtonInteraction } from 'discord.js';
import type { Logger } from 'pino';
import { customId, parseCustomId } from './command.js';
import { StopRequested } from '../chat/stop.js';
import type { RedisClient } from '../redis.js';
import type { Replies } from './replies.js';

/** The first field of the button's custom id: the interaction router sends presses here. */
export const STOP_BUTTON = 'stop';
const PRESSED_TTL_SECONDS = 300;
const SWEEP_MS = 1000;

export interface AnswerStop {
  /** The Stop button for this answer, labelled in the person's language. */
  row(): Promise<APIActionRowComponent<APIButtonComponentWithCustomId>>;
  /** The answer is written: a press from now on changes nothing. */
  end(): void;
}

export class StopButtons {
  /** Answers this replica is writing: message id → what stops it. */
  private readonly writing = new Map<string, () => void>();
  private sweep: NodeJS.Timeout | undefined;

  constructor(
    private readonly deps: { redis: RedisClient; subscriber: RedisClient; logger: Logger },
    private readonly options: { prefix: string; /** How often the keys are looked up (tests lengthen it). */ sweepMs?: number },
  ) {}

  private get channel(): string {
    return `${this.options.prefix}{stop}:pressed`;
  }

  private key(messageId: string): string {
    return `${this.options.prefix}{stop}:${messageId}`;
  }

  /** Listens for presses on any replica (on the connection that hears finished turns). */
  async start(): Promise<void> {
    const { subscriber, logger } = this.deps;
    subscriber.on('message', (channel: string, messageId: string) => {
      if (channel === this.channel) this.writing.get(messageId)?.();
    });
    await subscriber.subscribe(this.channel).catch((error: unknown) => logger.warn({ err: error }, 'could not subscribe to Stop presses; relying on the sweep'));
    this.sweep = setInterval(() => void this.lookUp(), this.options.sweepMs ?? SWEEP_MS);
    this.sweep.unref();
  }

  stop(): void {
    clearInterval(this.sweep);
  }

  /** The writing replica's side, for one answer: a press aborts `cut` with `StopRequested`. */
  begin(answer: { userId: string; messageId: string }, cut: AbortController, replies: () => Promise<Replies>): AnswerStop {
    const stop = () => {
      if (!cut.signal.aborted) cut.abort(new StopRequested());
    };
    this.writing.set(answer.messageId, stop);
    let row: Promise<APIActionRowComponent<APIButtonComponentWithCustomId>> | undefined;
    return {
      row: () => (row ??= replies().then((r) => stopRow(answer.userId, answer.messageId, r.stop.button))),
      end: () => {
        if (this.writing.get(answer.messageId) === stop) this.writing.delete(answer.messageId);
      },
    };
  }

  /** The pressing replica's side: acknowledged at once, the cancel carried over Redis. */
  async press(interaction: ButtonInteraction, log: Logger): Promise<void> {
    const [messageId = ''] = parseCustomId(interaction.customId).rest;
    await Promise.all([
      interaction.deferUpdate(),
      this.deps.redis.set(this.key(messageId), '1', 'EX', PRESSED_TTL_SECONDS).then(() => this.deps.redis.publish(this.channel, messageId)),
    ]);
    log.info({ event: 'stop', answerTo: messageId }, 'Stop pressed');
  }

  /** What someone else pressing it is told. */
  notYours(r: Replies): string {
    return r.stop.notYours;
  }

  /** The backstop for a lost publication: one MGET over the answers being written here. */
  private async lookUp(): Promise<void> {
    const ids = [...this.writing.keys()];
    if (!ids.length) return;
    const pressed = await this.deps.redis.mget(ids.map((id) => this.key(id))).catch(() => []);
    pressed.forEach((value, i) => value && this.writing.get(ids[i]!)?.());
  }
}

/** A red Stop button whose custom id names the person answered and their message. */
export function stopRow(userId: string, messageId: string, label: string): APIActionRowComponent<APIButtonComponentWithCustomId> {
  return {
    type: ComponentType.ActionRow,
    components: [{ type: ComponentType.Button, style: ButtonStyle.Danger, label, emoji: { name: '⏹️' }, custom_id: customId(STOP_BUTTON, 'answer', userId, messageId) }],
  };
}
