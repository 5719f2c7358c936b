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

/**
 * Names the command's description in every language, and makes it usable wherever the app is:
 * installed to a server (integration type 0) or to a person's account (1, which lets them DM the bot
 * without sharing a server with it), in the bot's DMs, in servers, and (for a person's install) in
 * their other DMs and group DMs. Every command answers only the caller, about their own data, so it
 * fits everywhere. Discord: "integration_types: Installation contexts where the command is
 * available" and "contexts: Interaction context(s) where the command can be used"
 * (https://discord.com/developers/docs/interactions/application-commands#application-command-object);
 * PRIVATE_CHANNEL (2) is "within Group DMs and DMs other than the app's bot user", reachable only
 * through a user install
 * (https://discord.com/developers/docs/interactions/receiving-and-responding#interaction-object-interaction-context-types).
 */
export function define(builder: SlashCommandBuilder, key: CommandText): SlashCommandBuilder {
  const { description, localizations } = localized(key);
  return builder
    .setDescription(description)
    .setDescriptionLocalizations(localizations)
    .setContexts(InteractionContextType.BotDM, InteractionContextType.Guild, InteractionContextType.PrivateChannel)
    .setIntegrationTypes(ApplicationIntegrationType.GuildInstall, ApplicationIntegrationType.UserInstall);
}
