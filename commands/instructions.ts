// /instructions set|show|clear: the caller's standing instructions, added to their conversations
// after the operator's prompt (never replacing it). Kept in PostgreSQL (user_settings), shown only to
// them, erased by /clear-history with the rest of their words.
import { MessageFlags, SlashCommandBuilder } from 'discord.js';
import { MAX_INSTRUCTIONS_CHARS } from '../src/history/person-settings.js';
import { repliesFor } from '../src/discord/replies.js';
import { define, localized } from './contexts.js';
import type { Command } from './types.js';

export default {
  data: define(new SlashCommandBuilder().setName('instructions'), 'instructions')
    .addSubcommand((sub) => {
      const text = localized('instructionsText');
      return sub
        .setName('set')
        .setDescription(localized('instructionsSet').description)
        .setDescriptionLocalizations(localized('instructionsSet').localizations)
        .addStringOption((o) => o.setName('text').setDescription(text.description).setDescriptionLocalizations(text.localizations).setRequired(true));
    })
    .addSubcommand((sub) => sub.setName('show').setDescription(localized('instructionsShow').description).setDescriptionLocalizations(localized('instructionsShow').localizations))
    .addSubcommand((sub) =>
      sub.setName('clear').setDescription(localized('instructionsClear').description).setDescriptionLocalizations(localized('instructionsClear').localizations),
    ) as SlashCommandBuilder,
  async execute(interaction, { personSettings }) {
    const r = repliesFor(interaction.locale);
    const userId = interaction.user.id;
    const action = interaction.options.getSubcommand();
    await interaction.deferReply({ flags: MessageFlags.Ephemeral });
    if (action === 'set') {
      const text = interaction.options.getString('text', true).trim();
      // Refused here rather than by Discord's max_length, so the person is told why, in their language.
      if (text.length > MAX_INSTRUCTIONS_CHARS) {
        await interaction.editReply({ content: r.instructions.tooLong(text.length, MAX_INSTRUCTIONS_CHARS) });
        return;
      }
      if (!text) {
        await interaction.editReply({ content: r.instructions.empty });
        return;
      }
      await personSettings.setInstructions(userId, text);
      await interaction.editReply({ content: r.instructions.saved });
    } else if (action === 'clear') {
      const had = await personSettings.clearInstructions(userId);
      await interaction.editReply({ content: had ? r.instructions.cleared : r.instructions.none });
    } else {
      const text = await personSettings.instructionsOf(userId);
      await interaction.editReply({ content: text ? r.instructions.shown(text) : r.instructions.none, allowedMentions: { parse: [] } });
    }
  },
} satisfies Command;
