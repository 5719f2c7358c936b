// Every sentence the bot says to a person lives here, so it can be reviewed, kept short and friendly,
// and translated in one place.
import type { ChatFailureKind } from '../chat/errors.js';

export const replies = {
  failure: {
    rate_limited: "I'm getting a lot of messages right now. Please try again in a minute.",
    unavailable: "I can't reach the AI model at the moment. Please try again shortly.",
    too_long: 'That message is too long for me to read in one go. Could you shorten it or split it up?',
    misconfigured: "I can't answer right now because of a setup problem on my side. The bot's operator has been told.",
    memory_unavailable: 'My memory is briefly unavailable. Please try again in a moment.',
  } satisfies Record<ChatFailureKind, string>,
  notAllowed: "Sorry, I'm only available to a few people here. Ask the bot's operator if you'd like access.",
  rateLimited: (retryAt: Date) => `You're sending messages faster than I can keep up. Try again <t:${Math.ceil(retryAt.getTime() / 1000)}:R>.`,
  tokenCap: (retryAt: Date) => `You've reached today's usage limit. You can chat again <t:${Math.ceil(retryAt.getTime() / 1000)}:R>.`,
  unexpected: 'Something went wrong on my side. Please try again.',
  emptyMessage: 'I can only read text. Send me a message with some words in it.',
  inputTooLong: (max: number) => `That message is over ${max} characters. Please shorten it or split it up.`,
  loggedOut: "Done. I've forgotten our current conversation; your history is kept.",
  noSessionToReset: 'There was no conversation to forget; your history is kept.',
  history: {
    empty: "You don't have any saved conversations yet. Send me a DM to start one.",
    title: 'Your conversation history',
    footer: (page: number, pages: number, total: number) => `Page ${page} of ${pages} · ${total} exchange${total === 1 ? '' : 's'}`,
    you: 'You',
    bot: 'Bot',
    older: 'Older',
    newer: 'Newer',
    expired: 'That history view is out of date. Run /history again.',
  },
  clear: {
    confirm: (count: number) =>
      `Delete all ${count} saved exchange${count === 1 ? '' : 's'} and forget our current conversation? This can't be undone.`,
    nothing: "You don't have any saved history, so there's nothing to delete.",
    confirmButton: 'Delete everything',
    cancelButton: 'Cancel',
    done: (count: number) => `Deleted ${count} exchange${count === 1 ? '' : 's'} and forgot our current conversation.`,
    cancelled: 'Cancelled. Nothing was deleted.',
  },
  notYourButton: "That button isn't for you. Run the command yourself to get your own.",
  commandFailed: 'Sorry, that command failed. Please try again in a moment.',
  commandDescriptions: {
    history: 'Show your conversations with me, newest first (only you can see them)',
    clearHistory: 'Delete all your saved conversations with me',
    logout: 'Forget our current conversation and start fresh (history is kept)',
  },
} as const;
