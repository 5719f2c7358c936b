// Text that breaks bots: control characters, broken UTF-16, direction overrides, pile-ups of
// combining marks, mentions, markdown bombs, and emoji at lengths near Discord's and the bot's
// limits. Used in both directions: as what a person sends, and as what the model answers.
const ZALGO = `Z${Array.from({ length: 50 }, (_, i) => String.fromCharCode(0x300 + i)).join('')}`;

export interface HostileText {
  name: string;
  text: string;
  /**
   * What the bot does when a person sends it, with the default limits: MAX_INPUT_CHARS (4000)
   * refuses more characters; CONTEXT_TOKEN_BUDGET (3000) refuses more tokens (an emoji costs 1 to 2).
   */
  asInput: 'answered' | 'too_long_input' | 'too_long';
}

export const HOSTILE_TEXTS: HostileText[] = [
  { name: 'NUL', text: 'before\u0000after', asInput: 'answered' },
  { name: 'a lone high surrogate', text: 'high \uD800 alone', asInput: 'answered' },
  { name: 'a lone low surrogate', text: 'low \uDC00 alone', asInput: 'answered' },
  { name: 'half an emoji at the end', text: 'cut off \uD83D', asInput: 'answered' },
  { name: 'a right-to-left override', text: 'invoice\u202Efdp.exe', asInput: 'answered' },
  { name: 'a letter with 50 combining marks', text: `${ZALGO} zalgo`, asInput: 'answered' },
  { name: '@everyone', text: '@everyone wake up', asInput: 'answered' },
  { name: '@here', text: '@here look at this', asInput: 'answered' },
  { name: 'a role mention', text: '<@&123456789012345678> ping the role', asInput: 'answered' },
  { name: 'a user mention', text: '<@123456789012345678> ping the person', asInput: 'answered' },
  { name: '300 code fences in a row', text: '```'.repeat(300), asInput: 'answered' },
  { name: '300 code fences, one a line', text: Array(300).fill('```').join('\n'), asInput: 'answered' },
  { name: 'a ZWJ family and a coder', text: 'family 👨‍👩‍👧‍👦 and coder 🧑🏽‍💻', asInput: 'answered' },
  { name: 'flags', text: 'flags 🇰🇷🇯🇵🇺🇦🏳️‍🌈🏴‍☠️', asInput: 'answered' },
  { name: '4,000 characters', text: 'x'.repeat(4000), asInput: 'answered' },
  { name: '4,001 characters', text: 'x'.repeat(4001), asInput: 'too_long_input' },
  // 3,998 UTF-16 units: within MAX_INPUT_CHARS, but 3,998 tokens.
  { name: '1,999 emoji', text: '😀'.repeat(1999), asInput: 'too_long' },
  // A cut at an even offset would split every pair here.
  { name: '1,999 emoji after one letter', text: `!${'😀'.repeat(1999)}`, asInput: 'too_long' },
  { name: '200 ZWJ families', text: '👨‍👩‍👧‍👦'.repeat(200), asInput: 'too_long' },
  { name: '600 flags after one letter', text: `!${'🇰🇷'.repeat(600)}`, asInput: 'too_long' },
];

/** A UTF-16 unit of a surrogate pair without its other half: not Unicode, not valid UTF-8. */
export const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * What history keeps of a text: all of it, except NUL (a PostgreSQL text cannot hold it) and lone
 * surrogates (each becomes U+FFFD, the replacement character).
 */
export function asStored(text: string): string {
  return text.replaceAll('\u0000', '').replace(new RegExp(LONE_SURROGATE.source, 'g'), '\uFFFD');
}
