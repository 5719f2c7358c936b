// Discord's global request limit (50 per second unless Discord raised it) is per bot, not per
// process, so the replicas split it: each announces itself in Redis every few seconds and sets
// discord.js's limit to its share (discord.js reads the limit anew every second). A replica not
// heard from for 10 s (killed) no longer counts; one that stops retires at once. While a replica
// joins, the shares add up to a little more for up to one period; discord.js then honours
// Discord's 429 retry-after.
import type { REST } from 'discord.js';
import type { Logger } from 'pino';
import type { DmStream } from '../queue/dm-stream.js';

const ANNOUNCE_EVERY_MS = 3000;
const ALIVE_FOR_MS = 10_000;

export async function shareRequestBudget(deps: { rest: REST; stream: Pick<DmStream, 'announce' | 'retire'>; logger: Logger }, options: { consumer: string; total: number }) {
  let share = 0;
  const update = async () => {
    const known = share ? Math.round(options.total / share) : 1; // if Redis does not answer, keep the last count
    const replicas = Math.max(1, await deps.stream.announce(options.consumer, ALIVE_FOR_MS).catch(() => known));
    const perReplica = Math.max(1, Math.floor(options.total / replicas));
    if (perReplica === share) return;
    share = perReplica;
    deps.rest.options.globalRequestsPerSecond = perReplica;
    deps.logger.info({ replicas, perReplica, total: options.total }, 'sharing the Discord request budget');
  };
  await update();
  const timer = setInterval(() => void update(), ANNOUNCE_EVERY_MS);
  timer.unref();
  return {
    /** Stops counting this replica (call once it no longer sends anything). */
    async retire(): Promise<void> {
      clearInterval(timer);
      await deps.stream.retire(options.consumer).catch(() => undefined);
    },
  };
}
