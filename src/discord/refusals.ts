// What Discord's refusals of a reply mean for the message being answered. Some concern this message
// for good (the person blocked the bot, the channel is gone, the bot may not write there): asking
// again cannot help, and every refused request counts toward Discord's invalid-request limit
// (10,000 in 10 minutes bans the bot's IP), so the message is finished after one. A 401 is not about
// the message at all: the bot's token was reset, and no request will work until the operator sets
// the new one.
// https://discord.com/developers/docs/topics/opcodes-and-status-codes#json-json-error-codes
// https://discord.com/developers/docs/topics/rate-limits#invalid-request-limit-aka-cloudflare-bans
import { DiscordAPIError, RESTJSONErrorCodes } from 'discord.js';

const FOR_GOOD: Record<number, readonly number[]> = {
  400: [RESTJSONErrorCodes.InvalidFormBodyOrContentType], // 50035: this content will never be accepted
  // 50007 (blocked, or DMs closed), 50278 (no server shared any more), 50013
  403: [RESTJSONErrorCodes.CannotSendMessagesToThisUser, RESTJSONErrorCodes.CannotSendMessagesToThisUserDueToHavingNoMutualGuilds, RESTJSONErrorCodes.MissingPermissions],
  404: [RESTJSONErrorCodes.UnknownChannel, RESTJSONErrorCodes.UnknownMessage], // 10003, 10008
};

/** Discord refused to show this message's reply, for good. */
export class Undeliverable extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
  ) {
    super(`Discord refused the reply for good (${status}, code ${code})`);
    this.name = 'Undeliverable';
  }
}

/** Discord no longer accepts the bot's token (it was reset or revoked). */
export class TokenRejected extends Error {
  constructor() {
    super('Discord rejected the bot token');
    this.name = 'TokenRejected';
  }
}

/** The refusal an error stands for, or null for a failure that may pass (5xx, timeouts, 429s). */
export function refusalOf(error: unknown): Undeliverable | TokenRejected | null {
  if (error instanceof Undeliverable || error instanceof TokenRejected) return error;
  if (error instanceof DiscordAPIError) {
    if (error.status === 401) return new TokenRejected();
    if (typeof error.code === 'number' && FOR_GOOD[error.status]?.includes(error.code)) return new Undeliverable(error.status, error.code);
    return null;
  }
  // After a 401, discord.js drops the token and refuses every later request itself.
  if (error instanceof Error && /Expected token to be set/.test(error.message)) return new TokenRejected();
  return null;
}
