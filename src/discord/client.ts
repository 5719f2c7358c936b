// The discord.js client, for REST and for the structures interactions are answered through. It never
// logs in: the gateway runs on @discordjs/ws (see gateway/connection.ts), and raw interactions are
// handed to it to become discord.js interactions.
// Only non-privileged intents are asked for: Discord delivers the content of DMs (and of messages
// that mention the bot) without the Message Content intent, so an operator does not have to enable
// a privileged intent and the login cannot fail on it.
import { type APIInteraction, Client, GatewayIntentBits, Options, Partials } from 'discord.js';

export interface DiscordClientOptions {
  token: string;
  apiUrl?: string | undefined;
  /** Discord's global limit for the bot's REST requests (50/s unless Discord raised it for this bot). */
  globalRequestsPerSecond?: number;
  /** How long one REST request may take; discord.js tries each request up to 4 times. */
  requestTimeoutMs?: number;
}

export function createDiscordClient({ token, apiUrl, globalRequestsPerSecond = 50, requestTimeoutMs }: DiscordClientOptions): Client {
  const client = new Client({
    intents: [],
    // A DM channel is never cached; interactions in DMs still need one to be built.
    partials: [Partials.Channel],
    rest: { ...(apiUrl ? { api: apiUrl } : {}), ...(requestTimeoutMs ? { timeout: requestTimeoutMs } : {}), globalRequestsPerSecond },
    // Nothing is read back from the cache, so messages are not kept in it.
    makeCache: Options.cacheWithLimits({ ...Options.DefaultMakeCacheSettings, MessageManager: 0, ReactionManager: 0, ReactionUserManager: 0 }),
    // Model output must never ping anyone, whatever it contains.
    allowedMentions: { parse: [], repliedUser: false },
  });
  client.token = token;
  client.rest.setToken(token);
  return client;
}

/** The gateway intents: DMs always, server messages in GUILD_MODE=mention (their text only when they mention the bot). */
export function gatewayIntents(guildMessages: boolean): number {
  return GatewayIntentBits.Guilds | GatewayIntentBits.DirectMessages | (guildMessages ? GatewayIntentBits.GuildMessages : 0);
}

/**
 * Turns a raw interaction into the discord.js interaction it stands for, emitted as the client's
 * `interactionCreate`: the same path discord.js takes for its own gateway (its InteractionCreate
 * action, which is internal: the e2e tests exercise every command through it).
 */
export function deliverInteraction(client: Client, interaction: APIInteraction): void {
  (client as unknown as { actions: { InteractionCreate: { handle(data: APIInteraction): void } } }).actions.InteractionCreate.handle(interaction);
}
