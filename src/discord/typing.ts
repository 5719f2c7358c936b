// Discord shows "typing…" for about 10 seconds per call. It is only sent when the model has not
// started answering within TYPING_DELAY_MS: a fast answer needs no indicator, and every REST call
// counts against the bot's global 50 requests per second. Under load the indicator is skipped
// altogether: answers get the request budget.
import type { Logger } from 'pino';
import type { ReplyTarget } from './reply-target.js';

const TYPING_REFRESH_MS = 8000;
const TYPING_DELAY_MS = 250;
const TYPING_MAX_BUSY = 20;

export function startTyping(target: Pick<ReplyTarget, 'typing'>, busy: () => number, log: Logger): { stop(): void } {
  const show = () => void target.typing().catch((error: unknown) => log.debug({ err: error }, 'typing failed'));
  let timer: NodeJS.Timeout | undefined = setTimeout(() => {
    if (busy() > TYPING_MAX_BUSY) return;
    show();
    timer = setInterval(show, TYPING_REFRESH_MS);
  }, TYPING_DELAY_MS);
  return {
    stop() {
      clearTimeout(timer); // clears the delay and the refresh interval alike
      timer = undefined;
    },
  };
}
