import { ApplicationIntegrationType, InteractionContextType, type SlashCommandBuilder } from 'discord.js';
import { en } from '../src/discord/locales/en.js';
import { localizedLocales } from '../src/discord/replies.js';

type CommandText = keyof typeof en.commands;

/** The description in English plus every localized language (Discord shows the user's). */
export function localized(key: CommandText): { description: string; localizations: Record<string, string> } {
  return {
    description: en.commands[key],
    localizations: Object.fromEntries(Object.entries(localizedLocales).map(([locale, r]) => [locale, r.commands[key]])),
  };
}

/** Names the command's description in every language, and makes it usable in the bot's DMs and in servers. */
export function define(builder: SlashCommandBuilder, key: CommandText): SlashCommandBuilder {
  const { description, localizations } = localized(key);
  return builder
    .setDescription(description)
    .setDescriptionLocalizations(localizations)
    .setContexts(InteractionContextType.BotDM, InteractionContextType.Guild)
    .setIntegrationTypes(ApplicationIntegrationType.GuildInstall);
}
