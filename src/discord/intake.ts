// The gateway side of every replica: a message meant for the bot becomes a job on the shared stream.
// Every replica sees every DM; the stream keeps one copy, and whichever replica reads it answers.
// DMs always; in servers (GUILD_MODE=mention) only messages that mention the bot: the answer goes
// into a thread opened on that message, or into the bot's own thread when asked there.
// What can be refused from the message alone (not allowed, empty, too long) is decided here, and the
// per-minute limit is counted as the message is queued, by the replica whose offer of it won.
// It takes Discord's raw message objects (the gateway's MESSAGE_CREATE, or a message read back over
// REST when catching up after an outage), so nothing depends on what a client happened to cache.
import { MessageType, Routes, type APIMessage, type REST } from 'discord.js';
import type { Logger } from 'pino';
import type { DmJob, DmStream, Refusal } from '../queue/dm-stream.js';
import { cleanText } from '../chat/clean-text.js';
import { attachmentsOf, isVoiceMessage } from './attachments/refs.js';
import { repliesFor } from './replies.js';

export interface IntakeOptions {
  /** Answer in servers when mentioned ('mention'), or only in DMs ('off'). */
  guildMode: 'off' | 'mention';
  logMessageContent: boolean;
  /** The longest message accepted. */
  maxInputChars: number;
  /** Messages one person may send per minute (0 = no limit); notices count too. */
  ratePerMinute: number;
  /** How many of one person's messages may wait to be answered (0 = no limit). */
  maxWaiting: number;
}

/**
 * What can be decided from the message alone, before it is queued: such a message gets a notice
 * without waiting for the person's earlier messages, and holds none of them up.
 */
function refusalOf(job: DmJob, options: IntakeOptions, allowed: (userId: string) => boolean): Refusal['reason'] | undefined {
  if (!allowed(job.userId)) return 'not_allowed';
  const text = job.text.trim();
  if (isVoiceMessage(job)) return 'voice_message';
  if (!text && !job.attachments?.length) return 'empty';
  if (text.length > options.maxInputChars) return 'too_long_input';
  return undefined;
}

/** A message as Discord sends it: over the gateway it carries the server's id (REST leaves it out). */
export type RawMessage = APIMessage & { guild_id?: string };

/** What the intake needs to know of a server channel: whether it is a thread, and who started it. */
export type ChannelLookup = (channelId: string) => Promise<{ thread: boolean; ownerId?: string | null } | null>;

/**
 * Whether the bot should answer this message at all, and where: null if not; otherwise whether the
 * answer opens a thread (a mention in a server channel rather than in one of the bot's threads).
 */
async function placeFor(message: RawMessage, botId: string, guildMode: IntakeOptions['guildMode'], channelOf: ChannelLookup): Promise<{ openThread: boolean } | null> {
  if (message.author.bot || message.author.id === botId) return null;
  // What people write (and their replies); joins, pins, calls and the like are the system's.
  if (message.type !== MessageType.Default && message.type !== MessageType.Reply) return null;
  // No server: a DM (group DMs cannot include bots).
  if (!message.guild_id) return { openThread: false };
  if (guildMode !== 'mention' || !message.mentions.some((user) => user.id === botId)) return null;
  const channel = await channelOf(message.channel_id);
  // Unknown (Discord did not say): not answered, rather than answered in someone else's thread.
  if (!channel) return null;
  if (!channel.thread) return { openThread: true };
  return channel.ownerId === botId ? { openThread: false } : null;
}

function stripMention(content: string, botId: string): string {
  return content.replaceAll(`<@${botId}>`, '').replaceAll(`<@!${botId}>`, '').trim();
}

function toJob(message: RawMessage, botId: string, { openThread }: { openThread: boolean }): DmJob {
  const guildId = message.guild_id;
  return {
    messageId: message.id,
    userId: message.author.id,
    username: message.author.username,
    channelId: message.channel_id,
    ...(guildId ? { guildId } : {}),
    ...(openThread ? { openThread: true } : {}),
    text: cleanText(guildId ? stripMention(message.content, botId) : message.content),
    createdAt: Date.parse(message.timestamp),
    queuedAt: Date.now(),
    ...attachmentsOf(message),
  };
}

export function createIntake(
  deps: {
    stream: DmStream;
    rest: REST;
    logger: Logger;
    /** The bot's own user id (its messages and mentions). */
    botId: string;
    channelOf: ChannelLookup;
    allowed?: (userId: string) => boolean;
    onHandled?: (outcome: string) => void;
  },
  options: IntakeOptions,
) {
  const allowed = deps.allowed ?? (() => true);
  const { stream, logger, botId, channelOf } = deps;

  /** Returns whether this call put the message on the stream. */
  return async function onMessage(message: RawMessage): Promise<boolean> {
    const place = await placeFor(message, botId, options.guildMode, channelOf);
    if (!place) return false;
    const job = toJob(message, botId, place);
    try {
      const refusal = refusalOf(job, options, allowed);
      const queued = await stream.enqueue(job, { refusal, ratePerMinute: options.ratePerMinute, maxWaiting: options.maxWaiting });
      if (!queued) logger.trace({ messageId: job.messageId }, 'already queued by another replica');
      return queued;
    } catch (error) {
      // Redis is unreachable, so no replica can take the message: say so now. Every replica that saw
      // it sends the same notice with the same nonce, and Discord keeps one.
      const log = logger.child({ userId: job.userId, messageId: job.messageId });
      log.error({ err: error }, 'could not queue the message');
      const notice = repliesFor(null).failure.memory_unavailable;
      await deps.rest
        .post(Routes.channelMessages(job.channelId), { body: { content: notice, nonce: `${job.messageId}:n`, enforce_nonce: true, allowed_mentions: { parse: [] } } })
        .catch((sendError: unknown) => log.error({ err: sendError }, 'could not tell the user about the failure'));
      deps.onHandled?.('memory_unavailable');
      log.info(
        {
          event: 'message',
          outcome: 'memory_unavailable',
          durationMs: Date.now() - job.createdAt,
          ...(options.logMessageContent ? { content: job.text } : { chars: job.text.length }),
        },
        'message handled',
      );
      return false;
    }
  };
}
