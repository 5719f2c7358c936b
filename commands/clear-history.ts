// /clear-history: asks first (a button that works for a few minutes), then erases everything the bot
// holds about what the caller wrote: their stored exchanges up to the newest one the question
// counted (later ones stay, as it says), their name, their conversations, and whatever of theirs is
// still on its way (see src/privacy/erasure.ts).
import { ActionRowBuilder, ButtonBuilder, ButtonStyle, MessageFlags, SlashCommandBuilder } from 'discord.js';
import { repliesFor } from '../src/discord/replies.js';
import { define } from './contexts.js';
import { type Command, customId, parseCustomId } from './types.js';

const NAME = 'clear-history';
// How long the confirm button works: long enough to read the question, short enough that a forgotten
// one cannot delete later exchanges by surprise.
const CONFIRM_FOR_MS = 5 * 60_000;

export default {
  data: define(new SlashCommandBuilder().setName(NAME), 'clearHistory'),
  async execute(interaction, { history, erasure }) {
    const r = repliesFor(interaction.locale);
    await interaction.deferReply({ flags: MessageFlags.Ephemeral });
    const { count, newestId } = await history.summary(interaction.user.id);
    if (count === 0 || newestId === null) {
      // No saved exchange to confirm over, but words may still be held elsewhere (a conversation,
      // standing instructions, an exchange on its way to PostgreSQL): they go at once.
      await erasure.erase(interaction.user.id, null);
      await interaction.editReply({ content: r.clear.nothing });
      return;
    }
    const expiresAt = Date.now() + CONFIRM_FOR_MS;
    // The button carries what it promises: rows up to the newest counted, until when it works.
    const promise = [newestId, expiresAt.toString(36)];
    const row = new ActionRowBuilder<ButtonBuilder>().addComponents(
      new ButtonBuilder().setCustomId(customId(NAME, 'confirm', interaction.user.id, ...promise)).setLabel(r.clear.confirmButton).setStyle(ButtonStyle.Danger),
      new ButtonBuilder().setCustomId(customId(NAME, 'cancel', interaction.user.id)).setLabel(r.clear.cancelButton).setStyle(ButtonStyle.Secondary),
    );
    await interaction.editReply({ content: r.clear.confirm(count, new Date(expiresAt)), components: [row] });
  },
  async handleButton(interaction, { erasure }) {
    const r = repliesFor(interaction.locale);
    const { action, rest } = parseCustomId(interaction.customId);
    if (action !== 'confirm') {
      await interaction.update({ content: r.clear.cancelled, components: [] });
      return;
    }
    const [upToId = '', expires = '0'] = rest;
    if (!/^\d+$/.test(upToId) || Date.now() > parseInt(expires, 36)) {
      await interaction.update({ content: r.clear.expired, components: [] });
      return;
    }
    await interaction.deferUpdate();
    const { exchanges } = await erasure.erase(interaction.user.id, upToId);
    await interaction.editReply({ content: r.clear.done(exchanges), components: [] });
  },
} satisfies Command;
