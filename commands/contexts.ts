import { ApplicationIntegrationType, InteractionContextType, type SlashCommandBuilder } from 'discord.js';

/** Every command works in the bot's DMs and in servers (where replies are ephemeral). */
export function commandContexts(builder: SlashCommandBuilder): SlashCommandBuilder {
  return builder
    .setContexts(InteractionContextType.BotDM, InteractionContextType.Guild)
    .setIntegrationTypes(ApplicationIntegrationType.GuildInstall);
}
