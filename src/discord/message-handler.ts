// Turns a Discord message into a call to the conversation core and the result into replies.
// DMs always; in servers (GUILD_MODE=mention) only messages that mention the bot: the answer goes
// into a thread the bot opens on that message, or into the bot's own thread when asked there.
// The person's session and history are the same wherever they talk to the bot.
// One log line per handled message: user id, duration, outcome (never the text unless allowed).
import type { Message, SendableChannels } from 'discord.js';
import type { Logger } from 'pino';
import type { ConversationService } from '../chat/conversation.js';
import { ChatFailure } from '../chat/errors.js';
import type { Guards } from '../chat/guards.js';
import { type Replies, repliesFor } from './replies.js';
import { splitForDiscord } from './split.js';
import { StreamingReply } from './streaming-reply.js';

export interface MessageHandlerOptions {
  maxInputChars: number;
  logMessageContent: boolean;
  /** Show the answer while it is written (edits at `streamEditIntervalMs`), or only when complete. */
  streamReplies: boolean;
  streamEditIntervalMs: number;
  /** Answer in servers when mentioned ('mention'), or only in DMs ('off'). */
  guildMode: 'off' | 'mention';
}

// Discord shows "typing…" for about 10 seconds per call. It is only sent when the model has not
// started answering within TYPING_DELAY_MS: a fast answer needs no indicator, and every REST call
// counts against the bot's global 50 requests per second.
// Under load the typing indicator is skipped altogether: answers get the request budget.
const TYPING_REFRESH_MS = 8000;
const TYPING_DELAY_MS = 250;
const TYPING_MAX_ACTIVE_USERS = 20;

type Validation = { ok: true; text: string } | { ok: false; outcome: 'empty' | 'too_long_input' };

export function validateInput(content: string, maxInputChars: number): Validation {
  const text = content.trim();
  if (!text) return { ok: false, outcome: 'empty' };
  if (text.length > maxInputChars) return { ok: false, outcome: 'too_long_input' };
  return { ok: true, text };
}

export interface MessageHandlerDeps {
  conversation: ConversationService;
  logger: Logger;
  /** The language last seen from this person (DMs carry none). */
  localeOf?: (userId: string) => Promise<string | null>;
  guards?: Pick<Guards, 'admit'>;
  /** Told the outcome of every message (for metrics). */
  onHandled?: (outcome: string) => void;
}

const THREAD_NAME_CHARS = 80;

/** Whether the bot should answer this message at all. */
function isForMe(message: Message, guildMode: MessageHandlerOptions['guildMode']): boolean {
  if (message.author.bot || message.system) return false;
  // Group DMs cannot include bots; only one-to-one DMs are DM-based here.
  if (message.channel.isDMBased()) return message.channel.isSendable();
  const me = message.client.user.id;
  if (guildMode !== 'mention' || !message.mentions.users.has(me)) return false;
  return !message.channel.isThread() || message.channel.ownerId === me;
}

/** Where the answer goes: the DM, the bot's own thread, or a new thread on a server message. */
async function replyChannel(message: Message): Promise<SendableChannels> {
  if (message.channel.isDMBased() || message.channel.isThread()) return message.channel as SendableChannels;
  const name = stripMention(message.content, message.client.user.id).slice(0, THREAD_NAME_CHARS) || message.author.username;
  return message.startThread({ name });
}

function stripMention(content: string, botId: string): string {
  return content.replaceAll(`<@${botId}>`, '').replaceAll(`<@!${botId}>`, '').trim();
}

export function createMessageHandler(deps: MessageHandlerDeps, options: MessageHandlerOptions) {
  const { conversation, logger, guards } = deps;

  return async function onMessage(message: Message): Promise<void> {
    if (!isForMe(message, options.guildMode)) return;
    const started = performance.now();
    const log = logger.child({ userId: message.author.id, messageId: message.id, ...(message.guildId ? { guildId: message.guildId } : {}) });
    let channel: SendableChannels;
    try {
      channel = await replyChannel(message);
    } catch (error) {
      // No permission to open threads here: answer in the channel rather than not at all.
      log.warn({ err: error }, 'could not open a reply thread; answering in the channel');
      channel = message.channel as SendableChannels;
    }
    const content = message.inGuild() ? stripMention(message.content, message.client.user.id) : message.content;
    let outcome = 'answered';
    let typing: NodeJS.Timeout | undefined;
    const stopTyping = () => clearTimeout(typing); // clears the delay and the refresh interval alike
    // The person's language is only needed for notices, so it is looked up only then.
    const replies = async (): Promise<Replies> => repliesFor(await deps.localeOf?.(message.author.id).catch(() => null));
    const send = (content: string) => channel.send({ content, allowedMentions: { parse: [] } });
    const stream = options.streamReplies ? new StreamingReply(send, options.streamEditIntervalMs) : null;

    try {
      const input = validateInput(content, options.maxInputChars);
      if (!input.ok) {
        outcome = input.outcome;
        const r = await replies();
        await send(input.outcome === 'empty' ? r.emptyMessage : r.inputTooLong(options.maxInputChars));
        return;
      }
      const admitted = guards ? await guards.admit(message.author.id) : { ok: true as const };
      if (!admitted.ok) {
        outcome = admitted.reason;
        const r = await replies();
        await send(
          admitted.reason === 'not_allowed'
            ? r.notAllowed
            : admitted.reason === 'rate_limited'
              ? r.rateLimited(admitted.retryAt)
              : r.tokenCap(admitted.retryAt),
        );
        return;
      }
      const showTyping = () => void channel.sendTyping().catch((error: unknown) => log.debug({ err: error }, 'typing failed'));
      typing = setTimeout(() => {
        if (conversation.activeUsers > TYPING_MAX_ACTIVE_USERS) return;
        showTyping();
        typing = setInterval(showTyping, TYPING_REFRESH_MS);
      }, TYPING_DELAY_MS);

      const onDelta = stream
        ? (delta: string) => {
            stopTyping(); // the text itself now shows that the bot is answering
            stream.push(delta);
          }
        : undefined;
      const result = await conversation.handle(
        { userId: message.author.id, username: message.author.username, messageId: message.id, text: input.text, receivedAt: message.createdAt },
        onDelta,
      );
      stopTyping();
      if (result.kind === 'duplicate') {
        outcome = 'duplicate';
        return;
      }
      if (stream) await stream.finish(result.text);
      else for (const chunk of splitForDiscord(result.text)) await send(chunk);
      if (result.droppedTurns > 0) log.debug({ droppedTurns: result.droppedTurns }, 'context trimmed');
    } catch (error) {
      stopTyping();
      outcome = error instanceof ChatFailure ? error.kind : 'error';
      const r = await replies();
      const reply = error instanceof ChatFailure ? r.failure[error.kind] : r.unexpected;
      log.error({ err: error }, 'message failed');
      // Whatever was already shown of an interrupted answer stays as it was streamed.
      await send(reply).catch((sendError: unknown) => log.error({ err: sendError }, 'could not tell the user about the failure'));
    } finally {
      stopTyping();
      deps.onHandled?.(outcome);
      log.info(
        {
          event: 'message',
          outcome,
          durationMs: Math.round(performance.now() - started),
          ...(options.logMessageContent ? { content } : { chars: content.length }),
        },
        'message handled',
      );
    }
  };
}
