// The gateway side of every replica: a message meant for the bot becomes a job on the shared stream.
// Every replica sees every DM; the stream keeps one copy, and whichever replica reads it answers.
// DMs always; in servers (GUILD_MODE=mention) only messages that mention the bot: the answer goes
// into a thread opened on that message, or into the bot's own thread when asked there.
// What can be refused from the message alone (not allowed, empty, too long) is decided here, and the
// per-minute limit is counted as the message is queued, by the replica whose offer of it won.
import type { Message, SendableChannels } from 'discord.js';
import type { Logger } from 'pino';
import type { DmJob, DmStream, Refusal } from '../queue/dm-stream.js';
import { cleanText } from '../chat/clean-text.js';
import { repliesFor } from './replies.js';

export interface IntakeOptions {
  /** Answer in servers when mentioned ('mention'), or only in DMs ('off'). */
  guildMode: 'off' | 'mention';
  logMessageContent: boolean;
  /** The longest message accepted. */
  maxInputChars: number;
  /** Messages one person may send per minute (0 = no limit); notices count too. */
  ratePerMinute: number;
}

/**
 * What can be decided from the message alone, before it is queued: such a message gets a notice
 * without waiting for the person's earlier messages, and holds none of them up.
 */
function refusalOf(job: DmJob, options: IntakeOptions, allowed: (userId: string) => boolean): Refusal['reason'] | undefined {
  if (!allowed(job.userId)) return 'not_allowed';
  const text = job.text.trim();
  if (!text) return 'empty';
  if (text.length > options.maxInputChars) return 'too_long_input';
  return undefined;
}

/** Whether the bot should answer this message at all. */
function isForMe(message: Message, guildMode: IntakeOptions['guildMode']): boolean {
  if (message.author.bot || message.system) return false;
  // Group DMs cannot include bots; only one-to-one DMs are DM-based here.
  if (message.channel.isDMBased()) return message.channel.isSendable();
  const me = message.client.user.id;
  if (guildMode !== 'mention' || !message.mentions.users.has(me)) return false;
  return !message.channel.isThread() || message.channel.ownerId === me;
}

function stripMention(content: string, botId: string): string {
  return content.replaceAll(`<@${botId}>`, '').replaceAll(`<@!${botId}>`, '').trim();
}

function toJob(message: Message): DmJob {
  const inGuild = message.inGuild();
  return {
    messageId: message.id,
    userId: message.author.id,
    username: message.author.username,
    channelId: message.channelId,
    ...(inGuild ? { guildId: message.guildId } : {}),
    ...(inGuild && !message.channel.isThread() ? { openThread: true } : {}),
    text: cleanText(inGuild ? stripMention(message.content, message.client.user.id) : message.content),
    createdAt: message.createdTimestamp,
    queuedAt: Date.now(),
  };
}

export function createIntake(
  deps: { stream: DmStream; logger: Logger; allowed?: (userId: string) => boolean; onHandled?: (outcome: string) => void },
  options: IntakeOptions,
) {
  const allowed = deps.allowed ?? (() => true);
  const { stream, logger } = deps;

  return async function onMessage(message: Message): Promise<void> {
    if (!isForMe(message, options.guildMode)) return;
    const job = toJob(message);
    try {
      const refusal = refusalOf(job, options, allowed);
      if (!(await stream.enqueue(job, { refusal, ratePerMinute: options.ratePerMinute }))) logger.trace({ messageId: job.messageId }, 'already queued by another replica');
    } catch (error) {
      // Redis is unreachable, so no replica can take the message: say so now. Every replica that saw
      // it sends the same notice with the same nonce, and Discord keeps one.
      const log = logger.child({ userId: job.userId, messageId: job.messageId });
      log.error({ err: error }, 'could not queue the message');
      const notice = repliesFor(null).failure.memory_unavailable;
      await (message.channel as SendableChannels)
        .send({ content: notice, nonce: `${job.messageId}:n`, enforceNonce: true, allowedMentions: { parse: [] } })
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
    }
  };
}
