// Builds the discord.js client. Only non-privileged intents are asked for: Discord delivers the
// content of DMs (and of messages that mention the bot) without the Message Content intent, so an
// operator does not have to enable a privileged intent and the login cannot fail on it.
import { Client, GatewayIntentBits, Options, Partials } from 'discord.js';
import type { redisIdentifyThrottler } from './identify-throttle.js';

export interface DiscordClientOptions {
  /** Paces gateway session starts across replicas (@discordjs/ws's `buildIdentifyThrottler`). */
  buildIdentifyThrottler?: ReturnType<typeof redisIdentifyThrottler>;
  apiUrl?: string | undefined;
  /** Also receive server messages (for GUILD_MODE=mention). Their text arrives only when they mention the bot. */
  guildMessages?: boolean;
  /** Discord's global limit for the bot's REST requests (50/s unless Discord raised it for this bot). */
  globalRequestsPerSecond?: number;
  /** How long one REST request may take; discord.js tries each request up to 4 times. */
  requestTimeoutMs?: number;
}

export function createDiscordClient({ apiUrl, guildMessages = false, globalRequestsPerSecond = 50, requestTimeoutMs, buildIdentifyThrottler }: DiscordClientOptions): Client {
  return new Client({
    intents: [GatewayIntentBits.Guilds, GatewayIntentBits.DirectMessages, ...(guildMessages ? [GatewayIntentBits.GuildMessages] : [])],
    // DM channels are not cached at start-up; without Partials.Channel discord.js drops DM events.
    partials: [Partials.Channel],
    rest: { ...(apiUrl ? { api: apiUrl } : {}), ...(requestTimeoutMs ? { timeout: requestTimeoutMs } : {}), globalRequestsPerSecond },
    // The bot never reads old messages back, so caching them (200 per DM by default) only costs
    // memory that grows with every person who writes.
    makeCache: Options.cacheWithLimits({ ...Options.DefaultMakeCacheSettings, MessageManager: 0, ReactionManager: 0, ReactionUserManager: 0 }),
    // Model output must never ping anyone, whatever it contains.
    allowedMentions: { parse: [], repliedUser: false },
    // Replicas take turns to start gateway sessions (see identify-throttle.ts).
    ...(buildIdentifyThrottler ? { ws: { buildIdentifyThrottler } } : {}),
  });
}
