// What the intake keeps of a message's attachments: Discord's metadata, never the bytes (those are
// downloaded by whichever replica answers). The attachment object:
// https://discord.com/developers/docs/resources/message#attachment-object
import { MessageFlags, type APIMessage } from 'discord.js';
import type { AttachmentRef } from '../../chat/types.js';
import type { DmJob } from '../../queue/dm-stream.js';

/** The job fields for the message's attachments (none when it has none); with them, the message's flags. */
export function attachmentsOf(message: Pick<APIMessage, 'attachments' | 'flags'>): Pick<DmJob, 'attachments' | 'flags'> {
  if (!message.attachments?.length) return {};
  const attachments = message.attachments.map(
    (a): AttachmentRef => ({
      id: a.id,
      url: a.url,
      filename: a.filename,
      size: a.size,
      ...(a.content_type ? { contentType: a.content_type } : {}),
      ...(a.width ? { width: a.width } : {}),
      ...(a.height ? { height: a.height } : {}),
      ...(a.flags ? { flags: a.flags } : {}),
    }),
  );
  return { attachments, ...(message.flags ? { flags: message.flags } : {}) };
}

/**
 * A voice message: Discord flags the message IS_VOICE_MESSAGE (1 << 13); it has no words and one
 * audio attachment (https://discord.com/developers/docs/resources/message#message-object-message-flags).
 */
export function isVoiceMessage(job: Pick<DmJob, 'flags'>): boolean {
  return ((job.flags ?? 0) & MessageFlags.IsVoiceMessage) !== 0;
}
