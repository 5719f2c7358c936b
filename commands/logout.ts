import { MessageFlags, SlashCommandBuilder } from 'discord.js';
import { commandContexts } from './contexts.js';
import { replies } from '../src/discord/replies.js';
import type { Command } from './types.js';

export default {
  data: commandContexts(new SlashCommandBuilder().setName('logout').setDescription(replies.commandDescriptions.logout)),
  async execute(interaction, { sessions }) {
    const hadSession = await sessions.reset(interaction.user.id);
    await interaction.reply({ content: hadSession ? replies.loggedOut : replies.noSessionToReset, flags: MessageFlags.Ephemeral });
  },
} satisfies Command;
