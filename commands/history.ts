// /history: the caller's own exchanges, newest first, five per page, only visible to them; or, with
// `format: file`/`json`, the whole history as downloadable files, split to fit Discord's upload limit
// and streamed from the database (one export per person at a time). Paging is keyset-based (the
// button carries the id at the page edge), so deep pages stay fast.
import {
  ActionRowBuilder,
  AttachmentBuilder,
  ButtonBuilder,
  ButtonStyle,
  MessageFlags,
  SlashCommandBuilder,
  type ChatInputCommandInteraction,
  type InteractionEditReplyOptions,
} from 'discord.js';
import { exportFiles, exportLimits, exportMessages, type ExportFormat } from '../src/discord/history-export.js';
import { HISTORY_PAGE_SIZE, formatHistoryEmbeds, pageCount } from '../src/discord/history-format.js';
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

/** Rows read from PostgreSQL per round trip while exporting: small enough to encode without stalling. */
const EXPORT_BATCH_ROWS = 200;

/**
 * Sends the whole history as files that each fit the upload limit Discord gave this interaction:
 * the first message as the reply, the rest as ephemeral follow-ups, one message built at a time.
 */
async function sendFiles(interaction: ChatInputCommandInteraction, format: ExportFormat, r: Replies, { history, exports, logger }: CommandContext): Promise<void> {
  const userId = interaction.user.id;
  const slot = await exports.begin(userId, format);
  if (!slot.ok) {
    await interaction.editReply({ content: slot.reason === 'running' ? r.history.exportBusy : r.history.exportCooldown(slot.retryAt) });
    return;
  }
  try {
    const { fileBytes, filesPerMessage } = exportLimits(interaction.attachmentSizeLimit);
    const files = exportFiles(history.batches(userId, EXPORT_BATCH_ROWS), { format, maxBytes: fileBytes, r });
    let [sent, exchanges] = [0, 0];
    for await (const message of exportMessages(files, filesPerMessage)) {
      const first = sent + 1;
      sent += message.files.length;
      exchanges += message.files.reduce((n, f) => n + f.exchanges, 0);
      const content = !message.last ? r.history.exportPart(first, sent) : first === 1 ? r.history.fileReady(exchanges, sent) : r.history.exportDone(first, sent, exchanges);
      const attachments = message.files.map((f) => new AttachmentBuilder(f.data, { name: f.name }));
      if (first === 1) await interaction.editReply({ content, files: attachments });
      else await interaction.followUp({ content, files: attachments, flags: MessageFlags.Ephemeral });
    }
    if (sent === 0) await interaction.editReply({ content: r.history.empty });
  } finally {
    await slot.finish().catch((error: unknown) => logger.warn({ err: error }, 'export cooldown not recorded'));
  }
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
    if (wanted === 'file' || wanted === 'json') {
      await sendFiles(interaction, wanted === 'json' ? 'json' : 'markdown', r, context);
      return;
    }
    await interaction.editReply(await renderPage(interaction.user.id, { kind: 'first' }, 1, r, context));
  },
  async handleButton(interaction, context) {
    const { action, rest } = parseCustomId(interaction.customId);
    const [edgeId = '', pageNo = '1'] = rest;
    await interaction.deferUpdate();
    const cursor: PageCursor = action === 'newer' ? { kind: 'after', id: edgeId } : { kind: 'before', id: edgeId };
    await interaction.editReply(await renderPage(interaction.user.id, cursor, Number(pageNo) || 1, repliesFor(interaction.locale), context));
  },
} satisfies Command;
