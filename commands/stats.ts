// /stats, for the bot's operators (OWNER_IDS): people, exchanges and tokens by model, today and over
// the last 30 days. Anyone else gets a polite refusal; the command is listed for everyone because
// Discord cannot hide a command from some people in DMs.
import { MessageFlags, SlashCommandBuilder } from 'discord.js';
import { repliesFor } from '../src/discord/replies.js';
import { define } from './contexts.js';
import type { Command } from './types.js';

export default {
  data: define(new SlashCommandBuilder().setName('stats'), 'stats'),
  async execute(interaction, { usage, settings }) {
    const r = repliesFor(interaction.locale);
    if (!settings.ownerIds.includes(interaction.user.id)) {
      await interaction.reply({ content: r.stats.refused, flags: MessageFlags.Ephemeral });
      return;
    }
    await interaction.deferReply({ flags: MessageFlags.Ephemeral });
    const { today, last30Days } = await usage.stats();
    await interaction.editReply({ content: [r.stats.section(r.stats.today, today), r.stats.section(r.stats.last30Days, last30Days)].join('\n\n') });
  },
} satisfies Command;
