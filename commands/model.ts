// /model: the model that answers the caller, chosen among those the operator allows (OPENAI_MODELS).
// Without an option it shows the current one and the list. The choice is theirs alone (PostgreSQL,
// user_settings) and applies from their next message.
import { MessageFlags, SlashCommandBuilder } from 'discord.js';
import { repliesFor } from '../src/discord/replies.js';
import { define, localized } from './contexts.js';
import type { Command } from './types.js';

const NAME = 'model';

/**
 * The definition with the allowed models as the option's choices. Those come from the settings, so
 * they are filled in when commands are registered (`commandDefinitions(settings)`), not at import
 * time; Discord allows at most 25 choices, which the config already enforces. Discord: "choices:
 * Choices for STRING, INTEGER, and NUMBER types for the user to pick from, max 25"
 * (https://discord.com/developers/docs/interactions/application-commands#application-command-object-application-command-option-structure).
 */
export function modelDefinition(models: readonly string[]): SlashCommandBuilder {
  const option = localized('modelOption');
  return define(new SlashCommandBuilder().setName(NAME), 'model').addStringOption((o) =>
    o
      .setName('model')
      .setDescription(option.description)
      .setDescriptionLocalizations(option.localizations)
      .setRequired(false)
      .addChoices(...models.slice(0, 25).map((m) => ({ name: m, value: m }))),
  ) as SlashCommandBuilder;
}

export default {
  // Without choices: only its name is read from here (routing); registration uses modelDefinition.
  data: define(new SlashCommandBuilder().setName(NAME), 'model'),
  async execute(interaction, { personSettings, settings }) {
    const r = repliesFor(interaction.locale);
    const wanted = interaction.options.getString('model');
    await interaction.deferReply({ flags: MessageFlags.Ephemeral });
    if (wanted === null) {
      const picked = await personSettings.modelOf(interaction.user.id);
      const current = picked && settings.models.includes(picked) ? picked : settings.model;
      await interaction.editReply({ content: r.model.current(current, settings.models) });
      return;
    }
    // The registered choices may be older than the operator's list (not re-registered yet).
    if (!settings.models.includes(wanted)) {
      await interaction.editReply({ content: r.model.notAllowed(wanted) });
      return;
    }
    await personSettings.setModel(interaction.user.id, wanted);
    await interaction.editReply({ content: r.model.chosen(wanted) });
  },
} satisfies Command;
