// Text as Discord and PostgreSQL accept it, and as a person can read it: no U+0000 (PostgreSQL's text
// type refuses it; Discord shows nothing for it) and no lone UTF-16 surrogate (half an emoji: JSON
// carries it as an escape, but it is no character, and Discord shows a broken glyph). Applied where
// text enters the bot (a message from Discord) and where it leaves (every post and edit), so the
// model, the session, history and Discord all see the same clean text; history cleans what it
// stores with it too (history/sanitize.ts).
export function cleanText(text: string): string {
  const withoutNul = text.includes('\u0000') ? text.replaceAll('\u0000', '') : text;
  return withoutNul.isWellFormed() ? withoutNul : withoutNul.toWellFormed();
}
