// The shape every slash command has: its definition, its handler, and (optionally) the handler for
// the buttons it shows. Dependencies arrive as an argument, never as imported singletons.
import type { ButtonInteraction, ChatInputCommandInteraction, RESTPostAPIChatInputApplicationCommandsJSONBody } from 'discord.js';
import type { Logger } from 'pino';
import type { SessionStore } from '../chat/session-store.js';
import type { ExportLimiter } from '../history/export-limiter.js';
import type { PersonSettingsStore } from '../history/person-settings.js';
import type { HistoryRepository } from '../history/repository.js';
import type { UsageLedger } from '../history/usage-ledger.js';
import type { Erasure } from '../privacy/erasure.js';

export interface CommandContext {
  sessions: Pick<SessionStore, 'reset' | 'rememberLocale'>;
  history: Pick<HistoryRepository, 'page' | 'count' | 'summary' | 'batches'>;
  /** Erases everything held about what a person wrote (/clear-history). */
  erasure: Pick<Erasure, 'erase'>;
  /** One history export per person at a time, across replicas. */
  exports: Pick<ExportLimiter, 'begin'>;
  logger: Logger;
  /** What /help tells people; `model` is the default, `models` every one a person may choose. */
  settings: { sessionTtlSeconds: number; model: string; models: readonly string[] } & ControlSettings;
  /** Each person's own choices (/model, /instructions). */
  personSettings: Pick<PersonSettingsStore, 'modelOf' | 'setModel' | 'instructionsOf' | 'setInstructions' | 'clearInstructions'>;
  /** Tokens per person, day and model, counts only (/usage, /stats). */
  usage: Pick<UsageLedger, 'person' | 'stats'>;
  /** The daily token cap's current window for a person; null when there is no cap. */
  tokenWindow: (userId: string) => Promise<{ used: number; cap: number; freesAt: Date | null } | null>;
}

/** What /privacy, /help and /stats need to know of the operator's settings. */
export interface ControlSettings {
  /** Days stored exchanges are kept (0 = for ever). */
  retentionDays: number;
  /** Who may run /stats. */
  ownerIds: readonly string[];
  /** Whether logs hold what people write (LOG_MESSAGE_CONTENT), as /privacy tells them. */
  logsMessageContent: boolean;
  /** Whether what people write is checked by OpenAI's moderation endpoint (MODERATION), as /privacy tells them. */
  moderation?: boolean;
}

export interface Command {
  data: { name: string; toJSON(): RESTPostAPIChatInputApplicationCommandsJSONBody };
  execute(interaction: ChatInputCommandInteraction, context: CommandContext): Promise<void>;
  /** Handles clicks on buttons whose custom id starts with `<command name>:`. */
  handleButton?(interaction: ButtonInteraction, context: CommandContext): Promise<void>;
}

/** Button custom ids carry the id of the person they were shown to, as their last-but-n field. */
export function customId(command: string, action: string, ownerId: string, ...rest: string[]): string {
  return [command, action, ownerId, ...rest].join(':');
}

export function parseCustomId(id: string): { command: string; action: string; ownerId: string; rest: string[] } {
  const [command = '', action = '', ownerId = '', ...rest] = id.split(':');
  return { command, action, ownerId, rest };
}
