// Discord allows a bot about 50 requests a second in all (this replica's share: see
// request-budget.ts), so streamed words are a luxury: every answer needs one request for its final
// text anyway, and under load the streamed edits of some answers would delay the final texts of
// others. Streaming spends requests only while both hold:
//   - the steady demand fits: the answers this replica is writing, each edited once per interval,
//     need at most half of its share per second;
//   - discord.js's global bucket for the current second (`globalRemaining`, reset every second) still
//     has more than a fifth of the share left, kept for first posts and final texts.
// Beyond that, an answer is posted whole when it is done: one request, and never later than it would
// be behind everyone else's edits.
import type { REST } from 'discord.js';

const DEMAND_SHARE = 0.5;
const RESERVE_SHARE = 0.2;

export class StreamBudget {
  private writing = 0;

  constructor(
    private readonly rest: Pick<REST, 'options' | 'globalRemaining' | 'globalReset'>,
    private readonly editIntervalMs: number,
  ) {}

  /** An answer is being written; call the returned function when its final text is shown. */
  begin(): () => void {
    this.writing += 1;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.writing -= 1;
    };
  }

  /** Whether an optional request (streamed words) may be made now. */
  hasRoom(): boolean {
    const perSecond = this.rest.options.globalRequestsPerSecond;
    const editsPerSecond = this.writing * (1000 / this.editIntervalMs);
    if (editsPerSecond > perSecond * DEMAND_SHARE) return false;
    const remaining = this.rest.globalReset < Date.now() ? perSecond : this.rest.globalRemaining;
    return remaining > perSecond * RESERVE_SHARE;
  }
}
