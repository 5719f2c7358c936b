// Before any test: checks once that PostgreSQL and Redis answer (a run without them would end in
// screens of connection errors), then builds the bot, as `npm start` does before it runs (the e2e
// suite starts the compiled bot with the same command).
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PG_BASE_URL } from './database.js';
import { REDIS_URL } from './redis.js';
import { checkTestServices, describeProblems } from './services.js';

export default async function setup(): Promise<void> {
  const services = { pgUrl: PG_BASE_URL, redisUrl: REDIS_URL };
  const problems = onlyUnitTests() ? [] : await checkTestServices(services);
  if (problems.length) {
    // Exits rather than throws: vitest would add a stack trace of this file to the one message.
    process.stderr.write(`\n${describeProblems(problems, services)}\n\n`);
    process.exit(1);
  }
  const root = fileURLToPath(new URL('../..', import.meta.url));
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
}

/** `vitest run test/unit…` (as `npm run test:unit` runs it): tests that need neither service. */
function onlyUnitTests(): boolean {
  const filters = process.argv.slice(2).filter((arg) => !arg.startsWith('-') && !['run', 'watch', 'dev'].includes(arg));
  return filters.length > 0 && filters.every((filter) => /(^|\/)test\/unit(\/|$)/.test(filter));
}
