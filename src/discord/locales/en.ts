// English: every sentence the bot says, in one place. Other languages implement the same shape.
import type { ChatFailureKind } from '../../chat/errors.js';

const when = (at: Date) => `<t:${Math.ceil(at.getTime() / 1000)}:R>`;
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export const en = {
  failure: {
    rate_limited: "I'm getting a lot of messages right now. Please try again in a minute.",
    unavailable: "I can't reach the AI model at the moment. Please try again shortly.",
    too_long: 'That message is too long for me to read in one go. Could you shorten it or split it up?',
    misconfigured: "I can't answer right now because of a setup problem on my side. The bot's operator has been told.",
    memory_unavailable: 'My memory is briefly unavailable. Please try again in a moment.',
  } satisfies Record<ChatFailureKind, string>,
  notAllowed: "Sorry, I'm only available to a few people here. Ask the bot's operator if you'd like access.",
  rateLimited: (retryAt: Date) => `You're sending messages faster than I can keep up. Try again ${when(retryAt)}.`,
  tokenCap: (retryAt: Date) => `You've reached today's usage limit. You can chat again ${when(retryAt)}.`,
  unexpected: 'Something went wrong on my side. Please try again.',
  emptyMessage: 'I can only read text. Send me a message with some words in it.',
  inputTooLong: (max: number) => `That message is over ${max} characters. Please shorten it or split it up.`,
  loggedOut: "Done: I've forgotten our current conversation. Your history is kept.",
  noSessionToReset: 'There was no conversation to forget. Your history is kept.',
  history: {
    inThread: (channelId: string) => `in the server thread <#${channelId}>`,
    empty: "You don't have any saved conversations yet. Send me a DM to start one.",
    footer: (page: number, pages: number, total: number) => `Page ${page} of ${pages} · ${plural(total, 'exchange')}`,
    you: 'You',
    bot: 'Bot',
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
    nothing: "You don't have any saved history, so there's nothing to delete.",
    confirmButton: 'Delete everything',
    cancelButton: 'Cancel',
    done: (count: number) => `Deleted ${plural(count, 'exchange')} and forgot our conversations. Nothing you wrote before this is kept.`,
    expired: 'That confirmation has expired, so nothing was deleted. Run /clear-history again.',
    cancelled: 'Cancelled. Nothing was deleted.',
  },
  help: (ttlMinutes: number, model: string) =>
    [
      `I'm a chat assistant running **${model}**. DM me anything and I'll answer.`,
      `I remember our conversation while you keep talking; after ${ttlMinutes} minutes of quiet I start fresh.`,
      'Every exchange is saved so you can look back:',
      '• `/history` — your conversations, newest first (add `format: file` to download them)',
      '• `/logout` — forget the current conversation (history is kept)',
      '• `/clear-history` — delete everything I saved about you',
      'Only you can see these commands’ replies.',
    ].join('\n'),
  notYourButton: "That button isn't for you. Run the command yourself to get your own.",
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
  },
};

export type Replies = typeof en;
