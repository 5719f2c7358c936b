// /history: the caller's own exchanges, newest first, five per page, only visible to them; or, with
// `format: file`/`json`, the whole history as a downloadable file. Paging is keyset-based (the
// button carries the id at the page edge), so deep pages stay fast.
import { ActionRowBuilder, AttachmentBuilder, ButtonBuilder, ButtonStyle, MessageFlags, SlashCommandBuilder, type InteractionEditReplyOptions } from 'discord.js';
import { HISTORY_PAGE_SIZE, formatHistoryEmbeds, historyAsJson, historyAsMarkdown, pageCount } from '../src/discord/history-format.js';
import { en } from '../src/discord/locales/en.js';
import { type Replies, repliesFor } from '../src/discord/replies.js';
import type { PageCursor } from '../src/history/repository.js';
import { define, localized } from './contexts.js';
import { type Command, type CommandContext, customId, parseCustomId } from './types.js';

const NAME = 'history';

async function renderPage(userId: string, cursor: PageCursor, pageNo: number, r: Replies, { history }: CommandContext): Promise<InteractionEditReplyOptions> {
  const [page, total] = await Promise.all([history.page(userId, cursor, HISTORY_PAGE_SIZE), history.count(userId)]);
  if (page.items.length === 0) {
    return { content: cursor.kind === 'first' ? r.history.empty : r.history.expired, embeds: [], components: [] };
  }
  const pages = pageCount(total);
  const current = Math.min(Math.max(pageNo, 1), pages);
  const row = new ActionRowBuilder<ButtonBuilder>().addComponents(
    new ButtonBuilder()
      .setCustomId(customId(NAME, 'newer', userId, page.items[0]!.id, String(current - 1)))
      .setLabel(r.history.previous)
      .setStyle(ButtonStyle.Secondary)
      .setDisabled(!page.hasNewer),
    new ButtonBuilder()
      .setCustomId(customId(NAME, 'older', userId, page.items.at(-1)!.id, String(current + 1)))
      .setLabel(r.history.next)
      .setStyle(ButtonStyle.Secondary)
      .setDisabled(!page.hasOlder),
  );
  return {
    content: '',
    embeds: formatHistoryEmbeds(page.items, current, pages, total, r),
    components: page.hasNewer || page.hasOlder ? [row] : [],
  };
}

async function renderFile(userId: string, format: 'file' | 'json', r: Replies, { history }: CommandContext): Promise<InteractionEditReplyOptions> {
  const items = await history.all(userId); // oldest first
  if (items.length === 0) return { content: r.history.empty };
  const file =
    format === 'json'
      ? new AttachmentBuilder(Buffer.from(historyAsJson(items)), { name: 'history.json' })
      : new AttachmentBuilder(Buffer.from(historyAsMarkdown(items, r)), { name: 'history.md' });
  return { content: r.history.fileReady(items.length), files: [file] };
}

const format = localized('historyFormat');
const choice = (key: 'historyFormatPage' | 'historyFormatFile' | 'historyFormatJson', value: string) => ({
  name: en.commands[key],
  name_localizations: localized(key).localizations,
  value,
});

export default {
  data: define(new SlashCommandBuilder().setName(NAME), 'history').addStringOption((option) =>
    option
      .setName('format')
      .setDescription(format.description)
      .setDescriptionLocalizations(format.localizations)
      .addChoices(choice('historyFormatPage', 'page'), choice('historyFormatFile', 'file'), choice('historyFormatJson', 'json')),
  ) as SlashCommandBuilder,
  async execute(interaction, context) {
    const r = repliesFor(interaction.locale);
    const wanted = interaction.options.getString('format') ?? 'page';
    await interaction.deferReply({ flags: MessageFlags.Ephemeral });
    const reply =
      wanted === 'file' || wanted === 'json'
        ? await renderFile(interaction.user.id, wanted, r, context)
        : await renderPage(interaction.user.id, { kind: 'first' }, 1, r, context);
    await interaction.editReply(reply);
  },
  async handleButton(interaction, context) {
    const { action, rest } = parseCustomId(interaction.customId);
    const [edgeId = '', pageNo = '1'] = rest;
    await interaction.deferUpdate();
    const cursor: PageCursor = action === 'newer' ? { kind: 'after', id: edgeId } : { kind: 'before', id: edgeId };
    await interaction.editReply(await renderPage(interaction.user.id, cursor, Number(pageNo) || 1, repliesFor(interaction.locale), context));
  },
} satisfies Command;
