// What the sandbox prints of the bot: every message it sends into a sandbox person's DM, as it
// changes. A streamed answer is written as it grows (each edit adds its new words to the same
// line); any other change prints the message again, marked as edited. Buttons are numbered for
// `/click N`.
import type { FakeDiscord, SentMessage } from '../../test/support/fake-discord/server.js';

export interface Button {
  messageId: string;
  customId: string;
  label: string;
}

// The parts of Discord's message payloads the sandbox prints (the fake keeps them as sent).
interface Embed {
  title?: string;
  description?: string;
  footer?: { text?: string };
}
interface ActionRow {
  components?: { custom_id: string; label: string; disabled?: boolean }[];
}

interface Shown {
  content: string;
  extras: string;
}

// Discord flag 64: EPHEMERAL, "only you can see this".
const EPHEMERAL = 64;

export class Transcript {
  /** The buttons of the latest reply that had any, numbered from 1 for `/click N`. */
  buttons: Button[] = [];
  private readonly shown = new Map<string, Shown>();
  /** The message whose text line is still open (a streamed answer may add to it). */
  private open: string | null = null;
  private freshButtons = true;

  constructor(
    private readonly discord: FakeDiscord,
    /** The sandbox person a DM channel belongs to, and whether they are the one typing now. */
    private readonly personOf: (channelId: string) => { name: string; current: boolean } | undefined,
    private readonly write: (text: string) => void,
  ) {}

  /** Follows the bot's messages from now on; returns a function that stops following. */
  follow(): () => void {
    // Called from inside the fake Discord's request handling: a printing problem must not fail the bot's request.
    return this.discord.onChange(() => {
      try {
        this.update();
      } catch (error) {
        this.write(`\n(could not show the bot's message: ${(error as Error).message})\n`);
      }
    });
  }

  /** A new line was sent: the buttons it brings replace the earlier ones. */
  nextReaction(): void {
    this.freshButtons = true;
  }

  /** Prints what changed and ends the open line, so the prompt starts on a line of its own. */
  settle(): void {
    this.update();
    this.endLine();
  }

  private update(): void {
    for (const message of this.discord.messages.values()) {
      if (!message.fromBot || message.deleted) continue;
      const person = this.personOf(message.channelId);
      if (person) this.render(message, person);
    }
  }

  private render(m: SentMessage, person: { name: string; current: boolean }): void {
    const before = this.shown.get(m.id);
    const content = localTimes(m.content);
    const extras = JSON.stringify([m.embeds, m.components, m.attachments.map((a) => [a.filename, a.content.length])]);
    const label = `bot${m.flags & EPHEMERAL ? ' (only you can see this)' : ''}${person.current ? '' : ` → ${person.name}`}`;
    if (content !== (before?.content ?? '')) {
      if (before?.content && this.open === m.id && content.startsWith(before.content)) {
        this.write(content.slice(before.content.length));
      } else {
        this.endLine();
        this.write(`${label}${before?.content ? ' (edited)' : ''}: ${content}`);
        this.open = m.id;
      }
    }
    if (extras !== (before?.extras ?? '[[],[],[]]')) this.renderExtras(m);
    this.shown.set(m.id, { content, extras });
  }

  private renderExtras(m: SentMessage): void {
    this.endLine();
    for (const e of m.embeds as Embed[]) this.write(`┌ ${e.title ?? ''}\n${localTimes(String(e.description ?? '')).replace(/^/gm, '│ ')}\n└ ${e.footer?.text ?? ''}\n`);
    for (const a of m.attachments) this.write(`[file ${a.filename}, ${a.content.length} bytes]\n${a.content.toString('utf8').slice(0, 600)}\n`);
    for (const row of m.components as ActionRow[]) {
      for (const b of row.components ?? []) {
        if (this.freshButtons) {
          this.buttons = [];
          this.freshButtons = false;
        }
        this.buttons.push({ messageId: m.id, customId: b.custom_id, label: b.label });
        this.write(`  [${this.buttons.length}] ${b.label}${b.disabled ? ' (disabled)' : ''}\n`);
      }
    }
  }

  private endLine(): void {
    if (this.open === null) return;
    this.write('\n');
    this.open = null;
  }
}

/** Discord shows `<t:unix:style>` in the reader's time zone; so does the sandbox (as a plain date and time). */
function localTimes(text: string): string {
  return text.replace(/<t:(\d+)(:\w)?>/g, (_, seconds: string) => new Date(Number(seconds) * 1000).toLocaleString());
}

/** Whether a numbered button is still on its message and enabled (as Discord shows it). */
export function clickable(discord: FakeDiscord, button: Button): 'ok' | 'gone' | 'disabled' {
  const message = discord.messages.get(button.messageId);
  const rows = message && !message.deleted ? (message.components as ActionRow[]) : [];
  const found = rows.flatMap((row) => row.components ?? []).find((b) => b.custom_id === button.customId);
  if (!found) return 'gone';
  return found.disabled ? 'disabled' : 'ok';
}
