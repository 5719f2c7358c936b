// /privacy: in plain words, what the bot keeps about the caller, where, for how long, and how to erase it.
import { MessageFlags, SlashCommandBuilder } from 'discord.js';
import { repliesFor } from '../src/discord/replies.js';
import { define } from './contexts.js';
import type { Command } from './types.js';

export default {
  data: define(new SlashCommandBuilder().setName('privacy'), 'privacy'),
  async execute(interaction, { settings }) {
    const r = repliesFor(interaction.locale);
    const content = r.privacy({
      sessionTtlMinutes: Math.round(settings.sessionTtlSeconds / 60),
      retentionDays: settings.retentionDays,
      logsMessageContent: settings.logsMessageContent,
      moderation: settings.moderation ?? false,
    });
    await interaction.reply({ content, flags: MessageFlags.Ephemeral });
  },
} satisfies Command;
