// /help: what the bot remembers, for how long, and the commands.
import { MessageFlags, SlashCommandBuilder } from 'discord.js';
import { repliesFor } from '../src/discord/replies.js';
import { define } from './contexts.js';
import type { Command } from './types.js';

export default {
  data: define(new SlashCommandBuilder().setName('help'), 'help'),
  async execute(interaction, { settings }) {
    const r = repliesFor(interaction.locale);
    const controls = { retentionDays: settings.retentionDays, owner: settings.ownerIds.includes(interaction.user.id) };
    await interaction.reply({ content: r.help(Math.round(settings.sessionTtlSeconds / 60), settings.model, controls), flags: MessageFlags.Ephemeral });
  },
} satisfies Command;
