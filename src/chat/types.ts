// The conversation's vocabulary, shared by the session store, the context fitter and the model client.

export type Role = 'system' | 'user' | 'assistant';

export interface Turn {
  role: Role;
  content: string;
  /** Its token count, kept with the turn in the session so a turn is tokenized only once. */
  tokens?: number;
}

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  /** Prompt tokens the provider served from its prompt cache (billed at a fraction). */
  cachedTokens?: number;
}

/** One answered message: what the person said and what the model replied. */
export interface Exchange {
  discordUserId: string;
  discordMessageId: string;
  userText: string;
  gptResponse: string;
  model: string;
  usage: TokenUsage;
  /** When the person sent the message. */
  createdAt: Date;
  /** Where, for a mention in a server: the server and the thread the answer went to. */
  guildId?: string;
  channelId?: string;
}

/**
 * What the bot replies to one incoming message, decided once and recorded with the session update,
 * so that a replica taking over a half-finished message delivers the same reply instead of a new one.
 */
export type RecordedReply =
  | { kind: 'answer'; text: string; model: string; usage: TokenUsage; droppedTurns: number; firstMessage: boolean }
  | { kind: 'notice'; text: string; outcome: string };
