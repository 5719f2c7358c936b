// /usage: the caller's tokens today and this month (UTC), from the ledger of counts, and the daily
// token cap's current window as the rate guard applies it, when there is a cap. Only they see it.
import { MessageFlags, SlashCommandBuilder } from 'discord.js';
import { repliesFor } from '../src/discord/replies.js';
import { define } from './contexts.js';
import type { Command } from './types.js';

export default {
  data: define(new SlashCommandBuilder().setName('usage'), 'usage'),
  async execute(interaction, { usage, tokenWindow, logger }) {
    const r = repliesFor(interaction.locale);
    await interaction.deferReply({ flags: MessageFlags.Ephemeral });
    // Redis away: the counts from PostgreSQL are still worth showing, without the cap's window.
    const window = tokenWindow(interaction.user.id).catch((error: unknown) => {
      logger.warn({ err: error }, 'token cap window unavailable');
      return null;
    });
    const [mine, cap] = await Promise.all([usage.person(interaction.user.id), window]);
    const lines = [r.usage.title, r.usage.today(mine.today), r.usage.month(mine.month)];
    if (cap) lines.push(r.usage.window(cap.used, cap.cap, cap.freesAt));
    lines.push(r.usage.note);
    await interaction.editReply({ content: lines.join('\n') });
  },
} satisfies Command;
