// Every sentence the bot says to a person, by language. The text lives in locales/<language>.ts;
// this module picks the one for a Discord locale ("ko", "en-US", …), falling back to English.
import { en, type Replies } from './locales/en.js';
import { ko } from './locales/ko.js';

export type { Replies };

const byLanguage: Record<string, Replies> = { en, ko };

/** The Discord locales whose command descriptions we localize (en-US is the default text). */
export const localizedLocales = { ko } as const;

export function repliesFor(locale?: string | null): Replies {
  const language = (locale ?? 'en').split('-')[0]!.toLowerCase();
  return byLanguage[language] ?? en;
}
