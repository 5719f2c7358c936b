// /history: the caller's own exchanges, newest first, five per page, only visible to them.
// Paging is keyset-based (the button carries the id at the page edge), so deep pages stay fast.
import {
  ActionRowBuilder,
  ButtonBuilder,
  ButtonStyle,
  MessageFlags,
  SlashCommandBuilder,
  type InteractionEditReplyOptions,
} from 'discord.js';
import { HISTORY_PAGE_SIZE, formatHistoryEmbed, pageCount } from '../src/discord/history-format.js';
import { replies } from '../src/discord/replies.js';
import type { PageCursor } from '../src/history/repository.js';
import { commandContexts } from './contexts.js';
import { type Command, type CommandContext, customId, parseCustomId } from './types.js';

const NAME = 'history';

async function render(userId: string, cursor: PageCursor, pageNo: number, { history }: CommandContext): Promise<InteractionEditReplyOptions> {
  const [page, total] = await Promise.all([history.page(userId, cursor, HISTORY_PAGE_SIZE), history.count(userId)]);
  if (page.items.length === 0) {
    return { content: cursor.kind === 'first' ? replies.history.empty : replies.history.expired, embeds: [], components: [] };
  }
  const pages = pageCount(total);
  const current = Math.min(Math.max(pageNo, 1), pages);
  const first = page.items[0]!;
  const last = page.items.at(-1)!;
  const row = new ActionRowBuilder<ButtonBuilder>().addComponents(
    new ButtonBuilder()
      .setCustomId(customId(NAME, 'newer', userId, first.id, String(current - 1)))
      .setLabel(replies.history.newer)
      .setStyle(ButtonStyle.Secondary)
      .setDisabled(!page.hasNewer),
    new ButtonBuilder()
      .setCustomId(customId(NAME, 'older', userId, last.id, String(current + 1)))
      .setLabel(replies.history.older)
      .setStyle(ButtonStyle.Secondary)
      .setDisabled(!page.hasOlder),
  );
  return {
    content: '',
    embeds: [formatHistoryEmbed(page.items, current, pages, total)],
    components: page.hasNewer || page.hasOlder ? [row] : [],
  };
}

export default {
  data: commandContexts(new SlashCommandBuilder().setName(NAME).setDescription(replies.commandDescriptions.history)),
  async execute(interaction, context) {
    await interaction.deferReply({ flags: MessageFlags.Ephemeral });
    await interaction.editReply(await render(interaction.user.id, { kind: 'first' }, 1, context));
  },
  async handleButton(interaction, context) {
    const { action, rest } = parseCustomId(interaction.customId);
    const [edgeId = '', pageNo = '1'] = rest;
    await interaction.deferUpdate();
    const cursor: PageCursor = action === 'newer' ? { kind: 'after', id: edgeId } : { kind: 'before', id: edgeId };
    await interaction.editReply(await render(interaction.user.id, cursor, Number(pageNo) || 1, context));
  },
} satisfies Command;
