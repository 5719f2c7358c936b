// The stored data: one `User` identity per Discord user (keyed by the Discord id, a snowflake
// string: it exceeds 2^53, so never a JS number), one `Message` row per answered DM, and an
// `Erasure` tombstone per person who cleared their history.
import { defineEntity, p } from '@mikro-orm/core';
import type { AttachmentMeta } from '../chat/types.js';

export const User = defineEntity({
  name: 'User',
  tableName: 'users',
  properties: {
    id: p.string().length(20).primary(), // the Discord user id
    username: p.string().length(100).nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});

export const Message = defineEntity({
  name: 'Message',
  tableName: 'messages',
  properties: {
    // Monotonic, so `/history` pages by (user, id) keyset rather than OFFSET.
    id: p.bigint('string').primary().autoincrement(),
    user: p.manyToOne(User).deleteRule('cascade'),
    discordMessageId: p.string().length(20).unique(),
    userText: p.text(),
    gptResponse: p.text(),
    model: p.string().length(100),
    promptTokens: p.integer().default(0),
    completionTokens: p.integer().default(0),
    totalTokens: p.integer().default(0),
    /** Prompt tokens the provider served from its prompt cache. */
    cachedTokens: p.integer().default(0),
    createdAt: p.datetime().onCreate(() => new Date()),
    /** Where it happened: both null in a DM; the server and the thread for a mention in a server. */
    guildId: p.string().length(20).nullable(),
    channelId: p.string().length(20).nullable(),
    /** The person pressed Stop: the answer holds only what was written until then. */
    stopped: p.boolean().default(false),
    /** The pictures and files sent with it: name, media type and size each, never their content. */
    attachments: p.json<AttachmentMeta[]>().nullable(),
  },
  indexes: [
    { name: 'messages_user_id_id_idx', properties: ['user', 'id'] },
    // Retention deletes, and /stats counts, by age.
    { name: 'messages_created_at_idx', properties: ['createdAt'] },
  ],
});

/**
 * A person who erased their history, and when: no words, no name. An answer that was being written
 * at that moment (for a message sent before it) is not stored afterwards.
 */
export const Erasure = defineEntity({
  name: 'Erasure',
  tableName: 'erasures',
  properties: {
    user: p.string().length(20).primary().fieldName('user_id'),
    erasedAt: p.datetime(),
  },
});

/**
 * Tokens the model reported, per person, UTC day and model: counts only, no words, so it stays after
 * /clear-history and retention (for /usage and /stats). Written by `UsageLedger`.
 */
export const UsageLedgerEntry = defineEntity({
  name: 'UsageLedgerEntry',
  tableName: 'usage_ledger',
  properties: {
    user: p.string().length(20).primary().fieldName('user_id'),
    day: p.date().primary(),
    model: p.string().length(100).primary(),
    promptTokens: p.bigint('number').default(0),
    completionTokens: p.bigint('number').default(0),
    cachedTokens: p.bigint('number').default(0),
    requests: p.integer().default(0),
  },
  indexes: [{ name: 'usage_ledger_day_idx', properties: ['day'] }],
});

export const entities = [User, Message, Erasure, UsageLedgerEntry];
