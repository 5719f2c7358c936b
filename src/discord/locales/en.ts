// English: every sentence the bot says, in one place. Other languages implement the same shape.
import type { ChatFailureKind } from '../../chat/errors.js';
import type { UsageCounts, UsageWindow } from '../../history/usage-ledger.js';

const when = (at: Date) => `<t:${Math.ceil(at.getTime() / 1000)}:R>`;
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const number = (n: number) => n.toLocaleString('en-US');
const people = (n: number) => (n === 1 ? '1 person' : `${number(n)} people`);
const retentionNote = (days: number) => `Saved exchanges are deleted ${plural(days, 'day')} after they were written.`;
const tokens = (c: UsageCounts) =>
  `${number(c.promptTokens + c.completionTokens)} tokens (${number(c.promptTokens)} read${c.cachedTokens ? `, ${number(c.cachedTokens)} of them from the cache` : ''}; ${number(c.completionTokens)} written) over ${plural(c.requests, 'answer')}`;
/** At most this many models per /stats section, so the reply fits one message. */
const STATS_MODELS = 8;

export const en = {
  failure: {
    rate_limited: "I'm getting a lot of messages right now. Please try again in a minute.",
    unavailable: "I can't reach the AI model at the moment. Please try again shortly.",
    too_long: 'That message is too long for me to read in one go. Could you shorten it or split it up?',
    misconfigured: "I can't answer right now because of a setup problem on my side. The bot's operator has been told.",
    memory_unavailable: 'My memory is briefly unavailable. Please try again in a moment.',
    moderated: "Sorry, I can't help with that message: it goes against the content rules this bot follows. Feel free to ask me something else.",
    answer_moderated: "I wrote an answer, but it didn't pass this bot's content check, so I'm not showing it. Try asking in a different way.",
    moderation_unavailable: "I can't check messages right now, so I can't answer yet. Please try again in a moment.",
  } satisfies Record<ChatFailureKind, string>,
  notAllowed: "Sorry, I'm only available to a few people here. Ask the bot's operator if you'd like access.",
  rateLimited: (retryAt: Date) => `You're sending messages faster than I can keep up. Try again ${when(retryAt)}.`,
  backlogFull: "I'm still working through your earlier messages, so I left this one out, and I'll leave out new ones until I've answered those. Send it again once my answers have arrived.",
  tokenCap: (retryAt: Date) => `You've reached today's usage limit. You can chat again ${when(retryAt)}.`,
  unexpected: 'Something went wrong on my side. Please try again.',
  /** Before an answer to a message written while the bot was away (found after an outage). */
  lateAnswer: '(Sorry for the late answer: I was offline when you wrote.)',
  emptyMessage: 'I can only read text. Send me a message with some words in it.',
  voiceMessage: "I can't listen to voice messages yet. Please type your message instead.",
  /** One line each, shown before the answer; `name` arrives already quoted (see attachments/notes.ts). */
  attachments: {
    unsupported: (name: string) => `📎 I can't read ${name}: that type of file isn't supported, so I left it out.`,
    noVision: (name: string, model: string) => `📎 The model I'm using (${model}) can't see images, so I left out ${name}.`,
    failed: (name: string) => `📎 I couldn't download ${name}, so I answered without it.`,
    tooLarge: (name: string, megabytes: number) => `📎 ${name} is too large for me (over ${number(megabytes)} MB), so I left it out.`,
    tooMany: (name: string, max: number) => `📎 I read at most ${plural(max, 'attachment')} per message, so I left out ${name}.`,
    cut: (name: string, chars: number) => `📎 ${name} is long: I read only its first ${number(chars)} characters.`,
    animated: (name: string) => `📎 ${name} is animated, and I can only look at still images, so I left it out.`,
  },
  inputTooLong: (max: number) => `That message is over ${max} characters. Please shorten it or split it up.`,
  loggedOut: "Done: I've forgotten our current conversation. Your history is kept.",
  noSessionToReset: 'There was no conversation to forget. Your history is kept.',
  history: {
    inThread: (channelId: string) => `in the server thread <#${channelId}>`,
    empty: "You don't have any saved conversations yet. Send me a DM to start one.",
    footer: (page: number, pages: number, total: number) => `Page ${page} of ${pages} · ${plural(total, 'exchange')}`,
    you: 'You',
    bot: 'Bot',
    stopped: '(stopped)',
    attached: (files: string) => `📎 Attached: ${files}`,
    previous: 'Previous',
    next: 'Next',
    expired: 'That history view is out of date. Run /history again.',
    fileReady: (exchanges: number, files: number) => `Here is your whole history: ${plural(exchanges, 'exchange')} in ${plural(files, 'file')}.`,
    fileTitle: 'Conversation history',
    exportPart: (first: number, last: number) => `Your history, files ${first}–${last}. More files follow in the next message…`,
    exportDone: (first: number, last: number, exchanges: number) =>
      `Files ${first}–${last}. That's your whole history: ${plural(exchanges, 'exchange')} in ${plural(last, 'file')}.`,
    exportCut: (bytes: number) => `✂ Cut here: this exchange is larger than the largest file Discord lets me send (${bytes} bytes).`,
    exportBusy: 'Your history export is already on its way. Wait for it to finish before asking for another.',
    exportCooldown: (retryAt: Date) => `You exported your history a moment ago. You can export it again ${when(retryAt)}.`,
  },
  clear: {
    confirm: (count: number, expiresAt: Date) =>
      `Delete all ${plural(count, 'saved exchange')}, our current conversations and everything else I keep about what you wrote? This can't be undone. Messages you send after this stay. This button works until ${when(expiresAt)}.`,
    nothing: "You don't have any saved history. I've still forgotten our current conversation and your standing instructions, so none of your words is kept.",
    confirmButton: 'Delete everything',
    cancelButton: 'Cancel',
    done: (count: number) => `Deleted ${plural(count, 'exchange')} and forgot our conversations. Nothing you wrote before this is kept.`,
    expired: 'That confirmation has expired, so nothing was deleted. Run /clear-history again.',
    cancelled: 'Cancelled. Nothing was deleted.',
  },
  help: (ttlMinutes: number, model: string, { retentionDays = 0, owner = false }: { retentionDays?: number; owner?: boolean } = {}) =>
    [
      `I'm a chat assistant running **${model}**. DM me anything and I'll answer.`,
      `I remember our conversation while you keep talking; after ${ttlMinutes} minutes of quiet I start fresh.`,
      'Every exchange is saved so you can look back:',
      '• `/history` — your conversations, newest first (add `format: file` to download them)',
      '• `/logout` — forget the current conversation (history is kept)',
      '• `/clear-history` — delete everything I saved about you',
      '• `/usage` — the tokens you used today and this month',
      '• `/model` — choose the model that answers you',
      '• `/instructions` — standing instructions I follow in all our conversations',
      '• `/privacy` — what I keep about you, where, and for how long',
      ...(owner ? ['• `/stats` — usage across everyone (for the bot’s operators)'] : []),
      ...(retentionDays ? [retentionNote(retentionDays)] : []),
      'Only you can see these commands’ replies.',
    ].join('\n'),
  retentionNote,
  model: {
    current: (model: string, models: readonly string[]) =>
      [`You're chatting with **${model}**.`, `Models you can choose with \`/model\`: ${models.map((m) => `\`${m}\``).join(', ')}.`].join('\n'),
    chosen: (model: string) => `Done: your next messages are answered by **${model}**.`,
    notAllowed: (model: string) => `Sorry, \`${model}\` isn't one of the models this bot offers. Run \`/model\` to see them.`,
  },
  instructions: {
    saved: "Saved. I'll follow these instructions from your next message on; only you can see them. `/instructions clear` removes them.",
    shown: (text: string) => `Your instructions (only you can see them):\n>>> ${text}`,
    none: "You haven't set any instructions. Add some with `/instructions set`.",
    cleared: 'Your instructions are removed.',
    empty: 'Those instructions are empty, so nothing was saved.',
    tooLong: (length: number, max: number) => `Sorry, instructions can be at most ${number(max)} characters; these are ${number(length)}. Please shorten them.`,
  },
  usage: {
    title: '**Your usage** (days and months in UTC)',
    today: (c: UsageCounts) => `Today: ${tokens(c)}.`,
    month: (c: UsageCounts) => `This month: ${tokens(c)}.`,
    window: (used: number, cap: number, freesAt: Date | null) =>
      freesAt
        ? `Daily limit: ${number(used)} of ${number(cap)} tokens used in the current 24-hour window, which frees up ${when(freesAt)}.`
        : `Daily limit: ${number(cap)} tokens per 24 hours; the window starts with your next answer.`,
    note: 'These are counts only, without words, so they stay after /clear-history.',
  },
  privacy: ({ sessionTtlMinutes, retentionDays, logsMessageContent, moderation }: { sessionTtlMinutes: number; retentionDays: number; logsMessageContent?: boolean; moderation?: boolean }) =>
    [
      '**What I keep about you, where, and for how long**',
      `• **To answer you**, what you write (with the text of files and the pictures you send, and our conversation so far) goes to OpenAI's model${moderation ? ', and first to OpenAI’s moderation check; if it flags something, only the category is logged' : ''}.`,
      `• **Our current conversation**, so I can follow it: in Redis, forgotten ${sessionTtlMinutes} minutes after your last message, or at once with \`/logout\`.`,
      `• **Your saved exchanges** (what you wrote, the names, types and sizes of files you sent but never their content, my answers, when, the model and token counts) and your Discord username: in PostgreSQL, for \`/history\`. ${
        retentionDays ? `Each exchange is deleted ${plural(retentionDays, 'day')} after it was written; your name goes with your last one.` : 'They are kept until you delete them.'
      }`,
      '• **Token counts**, numbers without words: in PostgreSQL, for `/usage`. They stay after your history is deleted.',
      '• **Short-lived things** in Redis: a message waiting for its answer, an answer being delivered, how much you used this minute and today, and your Discord language (30 days).',
      logsMessageContent
        ? '• **Logs**: your Discord id, message ids and, as the bot’s operator chose, what you write.'
        : '• **Logs**: your Discord id and message ids, never what you write.',
      '**To erase it:** `/clear-history` deletes your saved exchanges, your name, our conversations and anything of yours still on its way; it keeps only your id and the time, so an answer being written at that moment is not saved afterwards. `/logout` forgets the current conversation and keeps your history.',
    ].join('\n'),
  stats: {
    refused: 'Sorry, `/stats` is only for the bot’s operators.',
    today: '**Today (UTC)**',
    last30Days: '**Last 30 days (UTC)**',
    section: (title: string, w: UsageWindow) =>
      [
        `${title}: ${people(w.people)} answered, ${plural(w.storedExchanges, 'exchange')} still stored`,
        ...w.models
          .slice(0, STATS_MODELS)
          .map(
            (m) =>
              `• \`${m.model}\`: ${people(m.people)}, ${plural(m.requests, 'answer')}, ${number(m.promptTokens)} tokens read (${number(m.cachedTokens)} cached), ${number(m.completionTokens)} written`,
          ),
        ...(w.models.length > STATS_MODELS ? [`• and ${plural(w.models.length - STATS_MODELS, 'more model')}`] : []),
        ...(w.models.length ? [] : ['• nothing yet']),
      ].join('\n'),
  },
  notYourButton: "That button isn't for you. Run the command yourself to get your own.",
  stop: {
    button: 'Stop',
    notYours: 'Only the person this answer is for can stop it.',
  },
  commandFailed: 'Sorry, that command failed. Please try again in a moment.',
  commands: {
    history: 'Show your conversations with me, newest first (only you can see them)',
    historyFormat: 'How to show them',
    historyFormatPage: 'Pages here in Discord',
    historyFormatFile: 'A Markdown file to download',
    historyFormatJson: 'A JSON file to download',
    clearHistory: 'Delete all your saved conversations with me',
    logout: 'Forget our current conversation and start fresh (history is kept)',
    help: 'What I remember, for how long, and my commands',
    usage: 'The tokens you used today and this month (only you can see it)',
    privacy: 'What I keep about you, where, for how long, and how to erase it',
    stats: 'Usage across everyone: people, exchanges and tokens (operators only)',
    model: 'Choose the model that answers you, or see which one does',
    modelOption: 'The model to use from now on',
    instructions: 'Standing instructions I follow in all our conversations (only you can see them)',
    instructionsSet: 'Set your instructions (replacing any you had)',
    instructionsText: 'What I should always keep in mind (up to 1,000 characters)',
    instructionsShow: 'Show your instructions',
    instructionsClear: 'Remove your instructions',
  },
};

export type Replies = typeof en;
