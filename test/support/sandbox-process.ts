// `npm run sandbox` as a child process that a test types into, the way a person at a terminal would
// (stdin a pipe: each write is what was typed or pasted at once).
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface SandboxProcess {
  child: ChildProcess;
  /** Everything printed on stdout so far. */
  readonly output: string;
  /** Each piece of stdout as it arrived. */
  chunks: string[];
  stderr: string[];
  type(text: string): void;
  /** Resolves once stdout, from `from` on, matches; returns the index just after the match. */
  waitFor(pattern: RegExp | string, from?: number, timeoutMs?: number): Promise<number>;
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

/** Runs scripts/sandbox.ts (the bot it starts is the compiled one the test setup built). */
export function startSandbox(args: string[], env: Record<string, string>): SandboxProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/sandbox.ts', ...args], {
    cwd: ROOT,
    // No developer .env: every setting is given here.
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ENV_FILE: '/nonexistent/.env', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const chunks: string[] = [];
  const stderr: string[] = [];
  const waiters = new Set<() => void>();
  const output = () => chunks.join('');
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    chunks.push(chunk);
    for (const waiter of [...waiters]) waiter();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return {
    child,
    get output() {
      return output();
    },
    chunks,
    stderr,
    type: (text) => void child.stdin.write(text),
    waitFor(pattern, from = 0, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const at = find(output().slice(from), pattern);
          if (!at) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(from + at.end);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`sandbox did not print ${String(pattern)} in ${timeoutMs} ms.\nstdout: ${output().slice(from)}\nstderr: ${stderr.join('')}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
}

function find(text: string, pattern: RegExp | string): { end: number } | null {
  if (typeof pattern === 'string') {
    const index = text.indexOf(pattern);
    return index < 0 ? null : { end: index + pattern.length };
  }
  const match = pattern.exec(text);
  return match ? { end: match.index + match[0].length } : null;
}
