// The conversation's vocabulary, shared by the session store, the context fitter and the model client.

export type Role = 'system' | 'user' | 'assistant';

export interface Turn {
  role: Role;
  content: string;
  /** Its token count, kept with the turn in the session so a turn is tokenized only once. */
  tokens?: number;
  /** Images shown with a user turn (vision models only); see image-memory.ts for how long. */
  images?: TurnImage[];
}

/**
 * An attachment of an incoming message as the stream carries it: Discord's metadata, never its bytes
 * (the replica answering downloads them). `url` is a signed CDN link that expires.
 */
export interface AttachmentRef {
  id: string;
  url: string;
  filename: string;
  size: number;
  contentType?: string;
  width?: number;
  height?: number;
  /** The attachment's own flags (Discord's attachment object). */
  flags?: number;
}

/** What history keeps of an attachment: its name, type and size, never its content. */
export interface AttachmentMeta {
  name: string;
  type: string;
  size: number;
}

/**
 * An image of a user turn. The session keeps only where to fetch it again (the Discord message and
 * attachment) and the size it was sent at; `data` (a data: URL) is filled in for a request and
 * never stored.
 */
export interface TurnImage {
  name: string;
  width: number;
  height: number;
  detail: 'low' | 'high';
  source: { channelId: string; messageId: string; attachmentId: string; url: string };
  data?: string;
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
  /** The person pressed Stop: the answer holds only what was written until then. */
  stopped?: boolean;
  /** The message's attachments (name, type, size; never their content). */
  attachments?: AttachmentMeta[];
}

/**
 * What the bot replies to one incoming message, decided once and recorded with the session update,
 * so that a replica taking over a half-finished message delivers the same reply instead of a new one.
 */
export type RecordedReply =
  | { kind: 'answer'; text: string; model: string; usage: TokenUsage; droppedTurns: number; firstMessage: boolean; stopped?: boolean }
  | { kind: 'notice'; text: string; outcome: string };
