// /logout: forgets the running conversation; stored history stays.
import { MessageFlags, SlashCommandBuilder } from 'discord.js';
import { repliesFor } from '../src/discord/replies.js';
import { define } from './contexts.js';
import type { Command } from './types.js';

export default {
  data: define(new SlashCommandBuilder().setName('logout'), 'logout'),
  async execute(interaction, { sessions }) {
    const r = repliesFor(interaction.locale);
    const hadSession = await sessions.reset(interaction.user.id);
    await interaction.reply({ content: hadSession ? r.loggedOut : r.noSessionToReset, flags: MessageFlags.Ephemeral });
  },
} satisfies Command;
