// The model's answer, shown as it is written: a StreamingReply posts and edits within Discord's
// request budget (or, with no room, the model is asked for the whole answer at once), the typing
// indicator runs until the first words, and the Stop button is offered once the model writes.
// Discord refusing the first words for good, or the person pressing Stop, cuts the model off too.
import type { Logger } from 'pino';
import type { IncomingMessage, Reply } from '../../chat/conversation.js';
import { LeaseLost } from '../../chat/session-store.js';
import type { Lease } from '../../chat/user-lock.js';
import type { Replies } from '../replies.js';
import type { ReplyTarget } from '../reply-target.js';
import { StreamingReply } from '../streaming-reply.js';
import { startTyping } from '../typing.js';
import type { AnswererDeps, AnswererOptions } from './types.js';

export type ComposedReply = Reply & { streamed?: StreamingReply };

export async function composeAnswer(
  message: IncomingMessage,
  lease: Lease,
  target: ReplyTarget,
  { preface, replies, log }: { preface: string; replies: () => Promise<Replies>; log: Logger },
  deps: AnswererDeps,
  options: AnswererOptions,
): Promise<ComposedReply> {
  let slot = 0;
  const cut = new AbortController();
  const stop = deps.stops?.begin(message, cut, replies);
  // A note shown before the model's first words has nothing to stop.
  let modelWrites = false;
  const room = () => deps.streamBudget?.hasRoom() ?? true;
  // With no request budget to show words as they come (many answers in progress), the whole answer
  // is asked for at once: streamed words could not be shown anyway, and parsing them costs CPU.
  const streaming =
    options.streamReplies && room()
      ? new StreamingReply(async (content, button) => target.post(content, slot++, button && stop ? [await stop.row()] : undefined), {
          editIntervalMs: options.streamEditIntervalMs,
          mayStream: room,
          stopButton: () => Boolean(stop) && modelWrites && room(),
        })
      : null;
  const typing = startTyping(target, () => deps.busy(), log);
  if (preface) streaming?.push(preface);
  const onDelta = streaming
    ? (delta: string) => {
        typing.stop(); // the text itself now shows that the bot is answering
        if (target.refusal) return cut.abort();
        modelWrites = true;
        streaming.push(delta);
      }
    : undefined;
  try {
    const reply = await deps.conversation.answer(message, lease, onDelta, cut.signal);
    return streaming?.started ? { ...reply, streamed: streaming } : reply;
  } catch (error) {
    // Failed after its first words: they stay, the button goes, and no pending edit follows the
    // notice. (Taken over by another replica: that one shows the answer.)
    if (!(error instanceof LeaseLost)) await streaming?.settle();
    throw error;
  } finally {
    typing.stop();
    stop?.end();
  }
}
