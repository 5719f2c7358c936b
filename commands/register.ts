// Registers every slash command with one bulk overwrite (PUT), so running it again is harmless and
// commands removed from the list disappear from Discord too.
import { type REST, Routes, type APIApplication } from 'discord.js';
import { commandDefinitions } from './index.js';

export async function registerCommands(rest: REST, settings: { models: readonly string[] }, applicationId?: string): Promise<{ applicationId: string; count: number }> {
  const id = applicationId ?? ((await rest.get(Routes.currentApplication())) as APIApplication).id;
  const body = commandDefinitions(settings);
  await rest.put(Routes.applicationCommands(id), { body });
  return { applicationId: id, count: body.length };
}
