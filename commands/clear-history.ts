// /clear-history: asks first (a button), then deletes every stored exchange of the caller and their
// live session, so nothing of the conversation remains.
import { ActionRowBuilder, ButtonBuilder, ButtonStyle, MessageFlags, SlashCommandBuilder } from 'discord.js';
import { repliesFor } from '../src/discord/replies.js';
import { define } from './contexts.js';
import { type Command, customId, parseCustomId } from './types.js';

const NAME = 'clear-history';

export default {
  data: define(new SlashCommandBuilder().setName(NAME), 'clearHistory'),
  async execute(interaction, { history }) {
    const r = repliesFor(interaction.locale);
    await interaction.deferReply({ flags: MessageFlags.Ephemeral });
    const count = await history.count(interaction.user.id);
    if (count === 0) {
      await interaction.editReply({ content: r.clear.nothing });
      return;
    }
    const row = new ActionRowBuilder<ButtonBuilder>().addComponents(
      new ButtonBuilder().setCustomId(customId(NAME, 'confirm', interaction.user.id)).setLabel(r.clear.confirmButton).setStyle(ButtonStyle.Danger),
      new ButtonBuilder().setCustomId(customId(NAME, 'cancel', interaction.user.id)).setLabel(r.clear.cancelButton).setStyle(ButtonStyle.Secondary),
    );
    await interaction.editReply({ content: r.clear.confirm(count), components: [row] });
  },
  async handleButton(interaction, { history, sessions }) {
    const r = repliesFor(interaction.locale);
    const { action } = parseCustomId(interaction.customId);
    if (action !== 'confirm') {
      await interaction.update({ content: r.clear.cancelled, components: [] });
      return;
    }
    await interaction.deferUpdate();
    const deleted = await history.clear(interaction.user.id);
    await sessions.reset(interaction.user.id);
    await interaction.editReply({ content: r.clear.done(deleted), components: [] });
  },
} satisfies Command;
