// Turns a Discord DM into a call to the conversation core and the result into DM replies.
// One log line per handled message: user id, duration, outcome (never the text unless allowed).
import type { Message } from 'discord.js';
import type { Logger } from 'pino';
import type { ConversationService } from '../chat/conversation.js';
import { ChatFailure } from '../chat/errors.js';
import type { Guards } from '../chat/guards.js';
import { type Replies, repliesFor } from './replies.js';
import { splitForDiscord } from './split.js';
import { StreamingReply } from './streaming-reply.js';

export interface DmHandlerOptions {
  maxInputChars: number;
  logMessageContent: boolean;
  /** Show the answer while it is written (edits at `streamEditIntervalMs`), or only when complete. */
  streamReplies: boolean;
  streamEditIntervalMs: number;
}

// Discord shows "typing…" for about 10 seconds per call.
const TYPING_REFRESH_MS = 8000;

type Validation = { ok: true; text: string } | { ok: false; reply: string; outcome: string };

export function validateInput(content: string, maxInputChars: number, r: Replies): Validation {
  const text = content.trim();
  if (!text) return { ok: false, reply: r.emptyMessage, outcome: 'empty' };
  if (text.length > maxInputChars) return { ok: false, reply: r.inputTooLong(maxInputChars), outcome: 'too_long_input' };
  return { ok: true, text };
}

export interface DmHandlerDeps {
  conversation: ConversationService;
  logger: Logger;
  /** The language last seen from this person (DMs carry none). */
  localeOf?: (userId: string) => Promise<string | null>;
  guards?: Pick<Guards, 'admit'>;
  /** Told the outcome of every message (for metrics). */
  onHandled?: (outcome: string) => void;
}

export function createDmHandler(deps: DmHandlerDeps, options: DmHandlerOptions) {
  const { conversation, logger, guards } = deps;

  return async function onMessage(message: Message): Promise<void> {
    // Group DMs cannot include bots; only one-to-one DMs reach here.
    if (message.author.bot || message.system || !message.channel.isDMBased() || !message.channel.isSendable()) return;
    const started = performance.now();
    const log = logger.child({ userId: message.author.id, messageId: message.id });
    const channel = message.channel;
    let outcome = 'answered';
    let typing: NodeJS.Timeout | undefined;
    const r = repliesFor(await deps.localeOf?.(message.author.id).catch(() => null));
    const send = (content: string) => channel.send({ content, allowedMentions: { parse: [] } });
    const stream = options.streamReplies ? new StreamingReply(send, options.streamEditIntervalMs) : null;

    try {
      const input = validateInput(message.content, options.maxInputChars, r);
      if (!input.ok) {
        outcome = input.outcome;
        await send(input.reply);
        return;
      }
      const admitted = guards ? await guards.admit(message.author.id) : { ok: true as const };
      if (!admitted.ok) {
        outcome = admitted.reason;
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
      showTyping();
      typing = setInterval(showTyping, TYPING_REFRESH_MS);

      const onDelta = stream
        ? (delta: string) => {
            clearInterval(typing); // the text itself now shows that the bot is answering
            stream.push(delta);
          }
        : undefined;
      const result = await conversation.handle(
        { userId: message.author.id, username: message.author.username, messageId: message.id, text: input.text, receivedAt: message.createdAt },
        onDelta,
      );
      clearInterval(typing);
      if (result.kind === 'duplicate') {
        outcome = 'duplicate';
        return;
      }
      if (stream) await stream.finish(result.text);
      else for (const chunk of splitForDiscord(result.text)) await send(chunk);
      if (result.droppedTurns > 0) log.debug({ droppedTurns: result.droppedTurns }, 'context trimmed');
    } catch (error) {
      clearInterval(typing);
      outcome = error instanceof ChatFailure ? error.kind : 'error';
      const reply = error instanceof ChatFailure ? r.failure[error.kind] : r.unexpected;
      log.error({ err: error }, 'message failed');
      // Whatever was already shown of an interrupted answer stays as it was streamed.
      await send(reply).catch((sendError: unknown) => log.error({ err: sendError }, 'could not tell the user about the failure'));
    } finally {
      clearInterval(typing);
      deps.onHandled?.(outcome);
      log.info(
        {
          event: 'message',
          outcome,
          durationMs: Math.round(performance.now() - started),
          ...(options.logMessageContent ? { content: message.content } : { chars: message.content.length }),
        },
        'message handled',
      );
    }
  };
}
