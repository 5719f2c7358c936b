// The shape every command file satisfies, and its button ids: defined with the interaction router
// (src/discord/command.ts), which calls them.
export * from '../src/discord/command.js';
