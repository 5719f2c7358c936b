// Which server channels are threads, and who started each: the intake answers a mention in a thread
// only in the bot's own threads. Learnt from the gateway's channel events, and asked of Discord over
// REST for a channel not seen yet (after a resumed session, GUILD_CREATE is not sent again).
// https://discord.com/developers/docs/events/gateway-events#guild-create
// https://discord.com/developers/docs/events/gateway-events#thread-create
import { ChannelType, GatewayDispatchEvents, Routes, type GatewayDispatchPayload, type REST } from 'discord.js';
import type { ChannelLookup } from '../intake.js';

interface Known {
  thread: boolean;
  ownerId?: string | null;
}

const THREAD_TYPES = new Set<number>([ChannelType.PublicThread, ChannelType.PrivateThread, ChannelType.AnnouncementThread]);
// Channels are few and small; a bound keeps a bot in many servers from growing without limit.
const MAX_KNOWN = 50_000;

export class ChannelDirectory {
  private readonly known = new Map<string, Known>();

  constructor(
    private readonly rest: REST,
    /** Told when Discord would not say what a channel is (its messages are then not answered). */
    private readonly onUnknown?: (channelId: string, error: unknown) => void,
  ) {}

  /** The lookup the intake uses. */
  readonly lookup: ChannelLookup = async (channelId) => {
    const known = this.known.get(channelId);
    if (known) return known;
    try {
      const channel = (await this.rest.get(Routes.channel(channelId))) as { id: string; type: number; owner_id?: string | null };
      return this.remember(channel);
    } catch (error) {
      this.onUnknown?.(channelId, error);
      return null;
    }
  };

  /** Learns from the gateway's channel events. */
  observe(payload: GatewayDispatchPayload): void {
    switch (payload.t) {
      case GatewayDispatchEvents.GuildCreate:
        if ('channels' in payload.d) for (const channel of [...payload.d.channels, ...payload.d.threads]) this.remember(channel);
        break;
      case GatewayDispatchEvents.ChannelCreate:
      case GatewayDispatchEvents.ChannelUpdate:
      case GatewayDispatchEvents.ThreadCreate:
      case GatewayDispatchEvents.ThreadUpdate:
        this.remember(payload.d);
        break;
      case GatewayDispatchEvents.ThreadListSync:
        for (const thread of payload.d.threads) this.remember(thread);
        break;
      case GatewayDispatchEvents.ChannelDelete:
      case GatewayDispatchEvents.ThreadDelete:
        this.known.delete(payload.d.id);
        break;
      default:
        break;
    }
  }

  private remember(channel: { id: string; type: number; owner_id?: string | null }): Known {
    const known: Known = { thread: THREAD_TYPES.has(channel.type), ownerId: channel.owner_id ?? null };
    if (this.known.size >= MAX_KNOWN) this.known.delete(this.known.keys().next().value!);
    this.known.set(channel.id, known);
    return known;
  }
}
