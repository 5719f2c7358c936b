// What every step of the answer path shares: the settings and services (AnswererDeps/Options), and
// one message's handling (MessageHandling: its job, log, the person's language, and the one log line
// that says how it ended).
import type { REST } from 'discord.js';
import type { Logger } from 'pino';
import type { ConversationService } from '../../chat/conversation.js';
import type { Guards } from '../../chat/guards.js';
import type { Lease } from '../../chat/user-lock.js';
import type { Delivery, DmJob, DmStream } from '../../queue/dm-stream.js';
import type { AttachmentReader } from '../attachments/reader.js';
import type { Replies } from '../replies.js';
import type { StopButtons } from '../stop-button.js';
import type { StreamBudget } from '../stream-budget.js';

export interface AnswererOptions {
  logMessageContent: boolean;
  /** The longest message accepted (named in the notice refusing a longer one). */
  maxInputChars: number;
  /** Show the answer while it is written (edits at `streamEditIntervalMs`), or only when complete. */
  streamReplies: boolean;
  streamEditIntervalMs: number;
  /** After this many deliveries a message is given up (with an apology): it may be what kills replicas. */
  maxDeliveries: number;
  /** This replica's name in the stream's consumer group: a message another one claimed is theirs to answer. */
  consumer: string;
}

export interface AnswererDeps {
  conversation: ConversationService;
  stream: Pick<DmStream, 'finish' | 'holderOf'>;
  lock: { acquire(userId: string): Promise<Lease> };
  rest: REST;
  logger: Logger;
  /** The language last seen from this person (DMs carry none). */
  localeOf?: (userId: string) => Promise<string | null>;
  guards?: Pick<Guards, 'tokenCapReached'>;
  /** How many messages this replica has in hand (typing is skipped under load). */
  busy: () => number;
  /** Told the outcome of every finished message, and how long it took from being queued (for metrics). */
  onHandled?: (outcome: string, seconds?: number) => void;
  /** Whether streamed words may spend Discord requests now (see stream-budget.ts). */
  streamBudget?: Pick<StreamBudget, 'begin' | 'hasRoom'>;
  /** Discord rejected the bot's token: this replica must stop taking work. */
  onTokenRejected?: () => void;
  /** The Stop button on answers being written, and its presses from any replica (stop-button.ts). */
  stops?: Pick<StopButtons, 'begin'>;
  /** Reads pictures and files sent with a message (attachments/reader.ts). */
  attachments?: AttachmentReader;
}

/** One message being answered. */
export interface MessageHandling {
  delivery: Delivery;
  job: DmJob;
  log: Logger;
  /** The person's replies, in their language (looked up only when a notice needs it). */
  replies: () => Promise<Replies>;
  /** The one log line (and metric) saying how the message ended. */
  handled: (outcome: string, extra?: Record<string, unknown>) => void;
}
