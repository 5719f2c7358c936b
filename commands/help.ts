// /help: what the bot remembers, for how long, and the commands.
import { MessageFlags, SlashCommandBuilder } from 'discord.js';
import { repliesFor } from '../src/discord/replies.js';
import { define } from './contexts.js';
import type { Command } from './types.js';

export default {
  data: define(new SlashCommandBuilder().setName('help'), 'help'),
  async execute(interaction, { settings, personSettings, logger }) {
    const r = repliesFor(interaction.locale);
    const controls = { retentionDays: settings.retentionDays, owner: settings.ownerIds.includes(interaction.user.id) };
    // The model that answers this person: their /model choice while the operator still allows it.
    const picked = await personSettings.modelOf(interaction.user.id).catch((error: unknown) => {
      logger.warn({ err: error }, 'person settings unavailable; /help shows the default model');
      return null;
    });
    const model = picked && settings.models.includes(picked) ? picked : settings.model;
    await interaction.reply({ content: r.help(Math.round(settings.sessionTtlSeconds / 60), model, controls), flags: MessageFlags.Ephemeral });
  },
} satisfies Command;
