// Routes slash commands and button clicks to their command module, checks that a button is pressed
// by the person it was shown to, and turns any failure into a short ephemeral apology.
import { type ButtonInteraction, DiscordAPIError, MessageFlags, RESTJSONErrorCodes, type Interaction, type RepliableInteraction } from 'discord.js';
import type { Logger } from 'pino';
import type { Command, CommandContext } from './command.js';
import { parseCustomId } from './command.js';
import { type Replies, repliesFor } from './replies.js';

/** A button that belongs to no command (the Stop button on an answer: stop-button.ts). */
export interface ButtonHandler {
  press(interaction: ButtonInteraction, log: Logger): Promise<void>;
  /** What someone other than the person it was shown to is told. */
  notYours(r: Replies): string;
}

async function tell(interaction: RepliableInteraction, content: string): Promise<void> {
  if (interaction.deferred || interaction.replied) {
    await interaction.followUp({ content, flags: MessageFlags.Ephemeral });
  } else {
    await interaction.reply({ content, flags: MessageFlags.Ephemeral });
  }
}

/** Another process (or a gateway replay) acknowledged this interaction first: nothing to do. */
function alreadyAcknowledged(error: unknown): boolean {
  return error instanceof DiscordAPIError && error.code === RESTJSONErrorCodes.InteractionHasAlreadyBeenAcknowledged;
}

/**
 * This replica answered too late. Discord: "you must send an initial response within 3 seconds of
 * receiving the event. If the 3 second deadline is exceeded, the token will be invalidated"
 * (https://discord.com/developers/docs/interactions/receiving-and-responding#interaction-callback), and
 * the callback then fails with JSON error code 10062 "Unknown interaction"
 * (https://discord.com/developers/docs/topics/opcodes-and-status-codes#json-json-error-codes). The
 * claim kept the other replicas away, so the person saw "The application did not respond".
 */
function expired(error: unknown): boolean {
  return error instanceof DiscordAPIError && error.code === RESTJSONErrorCodes.UnknownInteraction;
}

export function createInteractionRouter(
  commands: ReadonlyMap<string, Command>,
  context: CommandContext,
  onHandled?: (command: string, outcome: string) => void,
  /**
   * Takes the interaction for this replica; false when another replica took it (every replica's
   * gateway session receives it). Discord accepts one response anyway; this spares the others the work.
   */
  claim: (interactionId: string) => Promise<boolean> = () => Promise.resolve(true),
  /** Buttons by the first field of their custom id. */
  buttons: ReadonlyMap<string, ButtonHandler> = new Map(),
) {
  const { logger } = context;

  return async function onInteraction(interaction: Interaction): Promise<void> {
    if (!interaction.isChatInputCommand() && !interaction.isButton()) return;
    if (!(await claim(interaction.id).catch(() => true))) return;
    const started = performance.now();
    const name = interaction.isChatInputCommand() ? interaction.commandName : parseCustomId(interaction.customId).command;
    const log: Logger = logger.child({ userId: interaction.user.id, interactionId: interaction.id, command: name });
    let outcome = 'ok';
    const r = repliesFor(interaction.locale);
    void context.sessions.rememberLocale(interaction.user.id, interaction.locale).catch(() => undefined);
    try {
      const command = commands.get(name);
      const button = interaction.isButton() ? buttons.get(name) : undefined;
      if (button && interaction.isButton()) {
        const mine = parseCustomId(interaction.customId).ownerId === interaction.user.id;
        if (!mine) outcome = 'not_owner';
        await (mine ? button.press(interaction, log) : tell(interaction, button.notYours(r)));
      } else if (!command) {
        outcome = 'unknown_command';
        await tell(interaction, r.commandFailed);
      } else if (interaction.isChatInputCommand()) {
        await command.execute(interaction, { ...context, logger: log });
      } else if (parseCustomId(interaction.customId).ownerId !== interaction.user.id) {
        outcome = 'not_owner';
        await tell(interaction, r.notYourButton);
      } else if (command.handleButton) {
        await command.handleButton(interaction, { ...context, logger: log });
      }
    } catch (error) {
      if (alreadyAcknowledged(error)) {
        outcome = 'already_acknowledged';
      } else if (expired(error)) {
        // Nothing can be sent any more: the token is gone.
        outcome = 'expired';
        log.warn({ err: error, ageMs: Date.now() - interaction.createdTimestamp }, 'interaction expired before this replica answered');
      } else {
        outcome = 'error';
        log.error({ err: error }, 'interaction failed');
        await tell(interaction, r.commandFailed).catch((e: unknown) => log.warn({ err: e }, 'could not report the failure'));
      }
    } finally {
      onHandled?.(name, outcome);
      log.info(
        { event: interaction.isButton() ? 'button' : 'command', outcome, durationMs: Math.round(performance.now() - started) },
        'interaction handled',
      );
    }
  };
}
