// Builders for Discord API v10 objects, shaped as Discord sends them (the fields discord.js v14 reads).
import type { APIChannel, APIMessage, APIUser, ChannelFlags } from 'discord.js';

const DISCORD_EPOCH = 1_420_070_400_000n;
let increment = 0n;

/** A real-looking snowflake: milliseconds since the Discord epoch in the high bits. */
export function snowflake(at = Date.now()): string {
  increment = (increment + 1n) & 0xfffn;
  return ((BigInt(at) - DISCORD_EPOCH) << 22n | (1n << 17n) | increment).toString();
}

export interface FakeUserInit {
  id: string;
  username: string;
  bot?: boolean;
  locale?: string;
}

export function apiUser(user: FakeUserInit): APIUser {
  return {
    id: user.id,
    username: user.username,
    discriminator: '0',
    global_name: user.bot ? null : user.username,
    avatar: null,
    ...(user.bot ? { bot: true } : {}),
  };
}

export function dmChannel(id: string, recipient: FakeUserInit): APIChannel {
  const channel: APIChannel = { id, type: 1, name: null, last_message_id: null, recipients: [apiUser(recipient)], flags: 0 as ChannelFlags };
  return channel;
}

export interface MessageInit {
  id?: string;
  channelId: string;
  author: FakeUserInit;
  content?: string;
  embeds?: unknown[];
  components?: unknown[];
  attachments?: unknown[];
  stickerItems?: unknown[];
  flags?: number;
  interactionMetadata?: unknown;
}

export function apiMessage(init: MessageInit): APIMessage {
  const id = init.id ?? snowflake();
  return {
    id,
    channel_id: init.channelId,
    author: apiUser(init.author),
    content: init.content ?? '',
    timestamp: new Date().toISOString(),
    edited_timestamp: null,
    tts: false,
    mention_everyone: false,
    mentions: [],
    mention_roles: [],
    attachments: (init.attachments ?? []) as APIMessage['attachments'],
    embeds: (init.embeds ?? []) as APIMessage['embeds'],
    pinned: false,
    type: 0,
    flags: init.flags ?? 0,
    components: (init.components ?? []) as APIMessage['components'],
    ...(init.stickerItems ? { sticker_items: init.stickerItems as APIMessage['sticker_items'] } : {}),
    ...(init.interactionMetadata ? { interaction_metadata: init.interactionMetadata as APIMessage['interaction_metadata'] } : {}),
  };
}
