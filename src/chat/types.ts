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
}

/** One answered message: what the person said and what the model replied. */
export interface Exchange {
  discordUserId: string;
  discordMessageId: string;
  userText: string;
  gptResponse: string;
  model: string;
  usage: TokenUsage;
  createdAt: Date;
}
