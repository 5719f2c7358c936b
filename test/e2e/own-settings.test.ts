// Each person's own settings against the real bot process. /model: the operator's allowed models are
// the registered choices, a person's choice is kept in PostgreSQL and answers only their messages
// (another person still gets the default), /model and /help show it, and the exchange records the
// model that answered. /instructions: they reach the model for that person only, as the second
// system message, are refused politely past their length, and are gone after /clear-history.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { en } from '../../src/discord/locales/en.js';
import { ko } from '../../src/discord/locales/ko.js';
import { MAX_INSTRUCTIONS_CHARS } from '../../src/history/person-settings.js';
import { startWorld, type World } from '../support/e2e.js';
import type { FakeUser } from '../support/fake-discord/server.js';

const MODELS = ['gpt-4o-mini', 'gpt-4.1-mini', 'gpt-3.5-turbo'];
let w: World;
beforeAll(async () => {
  w = await startWorld({ env: { OPENAI_MODELS: MODELS.join(','), STREAM_REPLIES: 'false' } });
}, 60_000);
afterAll(() => w?.close());

/** The model each request carrying this text was sent to. */
const modelsAsked = (text: string) => w.openai.requests.filter((r) => r.messages.some((m) => m.content === text)).map((r) => r.model);
const STRING = 3;
const SUB_COMMAND = 1;
/** The request the fake model got for the message with this text. */
const requestFor = (text: string) => w.openai.requests.find((r) => r.messages.at(-1)?.content === text);
/** A subcommand with its options, as Discord sends it (options nest under the subcommand). */
const sub = (name: string, options: { name: string; type: number; value: unknown }[] = []) => {
  const subcommand = { name, type: SUB_COMMAND, value: undefined, options };
  return [subcommand];
};

describe('/model', () => {
  it('registers the allowed models as the option’s choices', async () => {
    await w.discord.waitFor(() => w.discord.commands.find((c) => c.name === 'model'));
    const command = w.discord.commands.find((c) => c.name === 'model');
    expect(command.options[0].choices.map((c: { value: string }) => c.value)).toEqual(MODELS);
  });

  it('shows the default and the list before anything is chosen', async () => {
    const ann = w.discord.user('ann');
    const reply = await w.discord.commandReply(ann, 'model');
    expect(reply.flags & 64).toBe(64);
    expect(reply.content).toBe(en.model.current(MODELS[0]!, MODELS));
  });

  it('answers the person who chose with their model, and everyone else with the default', async () => {
    const bea = w.discord.user('bea');
    const cal = w.discord.user('cal');
    const chosen = await w.discord.commandReply(bea, 'model', [{ name: 'model', type: STRING, value: 'gpt-4.1-mini' }]);
    expect(chosen.flags & 64).toBe(64);
    expect(chosen.content).toBe(en.model.chosen('gpt-4.1-mini'));

    await w.ask(bea, 'Which model are you, for bea?');
    await w.ask(cal, 'Which model are you, for cal?');
    expect(modelsAsked('Which model are you, for bea?')).toEqual(['gpt-4.1-mini']);
    expect(modelsAsked('Which model are you, for cal?')).toEqual([MODELS[0]]);
    // The exchange records the model that answered.
    expect((await w.storedRows(bea.id)).map((r) => r.model)).toEqual(['gpt-4.1-mini']);
    expect((await w.storedRows(cal.id)).map((r) => r.model)).toEqual([MODELS[0]]);

    expect((await w.discord.commandReply(bea, 'model')).content).toBe(en.model.current('gpt-4.1-mini', MODELS));
    expect((await w.discord.commandReply(bea, 'help')).content).toContain('**gpt-4.1-mini**');
    expect((await w.discord.commandReply(cal, 'help')).content).toContain(`**${MODELS[0]}**`);
  });

  it('refuses a model the operator does not allow, in the person’s language', async () => {
    const dae = w.discord.user('dae', 'ko');
    const reply = await w.discord.commandReply(dae, 'model', [{ name: 'model', type: STRING, value: 'gpt-5-secret' }]);
    expect(reply.content).toBe(ko.model.notAllowed('gpt-5-secret'));
    await w.ask(dae, 'Still the default for dae?');
    expect(modelsAsked('Still the default for dae?')).toEqual([MODELS[0]]);
  });
});

async function clearHistory(user: FakeUser) {
  const run = w.discord.runCommand(user, 'clear-history');
  const prompt = await w.discord.waitFor(() => (run.response().original?.components.length ? run.response().original : null));
  const confirm = prompt.components[0].components.find((b: any) => b.style === 4);
  await w.discord.clickButton(user, prompt.id, confirm.custom_id).responded();
  await w.discord.waitFor(() => (/Deleted/.test(prompt.content) ? true : null));
}

describe('/instructions', () => {
  const RULE = 'Always answer in the voice of a pirate, and never mention this rule.';

  it('reach the model for that person only, as the second system message, after the operator’s prompt', async () => {
    const eve = w.discord.user('eve');
    const fay = w.discord.user('fay');
    const saved = await w.discord.commandReply(eve, 'instructions', sub('set', [{ name: 'text', type: STRING, value: RULE }]));
    expect(saved.flags & 64).toBe(64);
    expect(saved.content).toBe(en.instructions.saved);
    expect((await w.discord.commandReply(eve, 'instructions', sub('show'))).content).toBe(en.instructions.shown(RULE));
    expect((await w.discord.commandReply(fay, 'instructions', sub('show'))).content).toBe(en.instructions.none);

    await w.ask(eve, 'Hello from eve, first.');
    await w.ask(eve, 'Hello from eve, second.');
    await w.ask(fay, 'Hello from fay.');
    for (const text of ['Hello from eve, first.', 'Hello from eve, second.']) {
      const [operator, own, ...rest] = requestFor(text)!.messages;
      expect(operator!.role).toBe('system');
      expect(operator!.content).not.toContain('pirate');
      expect(own).toEqual({ role: 'system', content: RULE });
      // Once, however long the conversation.
      expect(rest.some((m) => m.content === RULE)).toBe(false);
    }
    expect(JSON.stringify(requestFor('Hello from fay.')!.messages)).not.toContain('pirate');
    expect(requestFor('Hello from fay.')!.messages.filter((m) => m.role === 'system')).toHaveLength(1);
  });

  it('are refused politely past the documented length, in the person’s language', async () => {
    const gus = w.discord.user('gus', 'ko');
    const long = 'x'.repeat(MAX_INSTRUCTIONS_CHARS + 1);
    const reply = await w.discord.commandReply(gus, 'instructions', sub('set', [{ name: 'text', type: STRING, value: long }]));
    expect(reply.content).toBe(ko.instructions.tooLong(long.length, MAX_INSTRUCTIONS_CHARS));
    expect((await w.discord.commandReply(gus, 'instructions', sub('show'))).content).toBe(ko.instructions.none);
  });

  it('are gone after /clear-history (the choice of model stays), and /instructions clear removes them too', async () => {
    const hal = w.discord.user('hal');
    await w.discord.commandReply(hal, 'model', [{ name: 'model', type: STRING, value: 'gpt-4.1-mini' }]);
    await w.discord.commandReply(hal, 'instructions', sub('set', [{ name: 'text', type: STRING, value: RULE }]));
    await w.ask(hal, 'Before clearing, from hal.');
    expect(requestFor('Before clearing, from hal.')!.messages[1]).toEqual({ role: 'system', content: RULE });

    await clearHistory(hal);
    expect((await w.discord.commandReply(hal, 'instructions', sub('show'))).content).toBe(en.instructions.none);
    await w.ask(hal, 'After clearing, from hal.');
    const after = requestFor('After clearing, from hal.')!;
    expect(JSON.stringify(after.messages)).not.toContain('pirate');
    expect(after.model).toBe('gpt-4.1-mini');

    await w.discord.commandReply(hal, 'instructions', sub('set', [{ name: 'text', type: STRING, value: RULE }]));
    expect((await w.discord.commandReply(hal, 'instructions', sub('clear'))).content).toBe(en.instructions.cleared);
    expect((await w.discord.commandReply(hal, 'instructions', sub('show'))).content).toBe(en.instructions.none);
  });

  it('are gone after /clear-history even with no saved exchange to delete', async () => {
    const ida = w.discord.user('ida');
    await w.discord.commandReply(ida, 'instructions', sub('set', [{ name: 'text', type: STRING, value: RULE }]));
    expect((await w.discord.commandReply(ida, 'clear-history')).content).toBe(en.clear.nothing);
    expect((await w.discord.commandReply(ida, 'instructions', sub('show'))).content).toBe(en.instructions.none);
  });
});

describe('/model when the operator changes OPENAI_MODELS', () => {
  let v: World;
  beforeAll(async () => {
    v = await startWorld({ env: { OPENAI_MODELS: 'gpt-4o,gpt-4.1-mini', STREAM_REPLIES: 'false' } });
  }, 60_000);
  afterAll(() => v?.close());

  it('registers the new choices at the next start, and a choice no longer allowed falls back to the new default', async () => {
    const gil = v.discord.user('gil');
    await v.discord.commandReply(gil, 'model', [{ name: 'model', type: STRING, value: 'gpt-4.1-mini' }]);
    expect(await v.bot.stop('SIGTERM')).toBe(0);
    const registered = v.discord.requests.filter((r) => r.method === 'PUT' && /\/commands$/.test(r.path)).length;
    await v.launch({ OPENAI_MODELS: 'gpt-5,gpt-4o' });
    await v.discord.waitFor(() => v.discord.requests.filter((r) => r.method === 'PUT' && /\/commands$/.test(r.path)).length > registered, 10_000, 'commands registered again');
    const models = v.discord.commands.filter((c) => c.name === 'model');
    expect(models).toHaveLength(1);
    expect(models[0].options[0].choices.map((c: { value: string }) => c.value)).toEqual(['gpt-5', 'gpt-4o']);
    await v.ask(gil, 'Which model now, for gil?');
    expect(v.openai.requests.filter((r) => r.messages.some((m) => m.content === 'Which model now, for gil?')).map((r) => r.model)).toEqual(['gpt-5']);
    expect((await v.discord.commandReply(gil, 'model')).content).toBe(en.model.current('gpt-5', ['gpt-5', 'gpt-4o']));
  }, 60_000);
});
