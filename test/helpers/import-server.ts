import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { WAIT_DEADLINE_MS } from './wait.js';

export const SERVER_ADMIN_TOKEN = 'import-server-admin-token-0123456789';
export const REPO = join(import.meta.dirname, '..', '..');

export interface ServerProcess {
  baseUrl: string;
  process: ChildProcess;
  /** Everything it printed so far. */
  output(): string;
  /** Resolves with the exit code (or the signal's name) when it ends. */
  exited: Promise<number | string | null>;
  /** Sends a signal (SIGTERM by default) and waits for the process to end. */
  stop(signal?: NodeJS.Signals): Promise<number | string | null>;
}

/**
 * Starts `src/server.ts` as `npm start` runs it, on a port the system picks (PORT=0, so no
 * other process can take it first), and resolves once it logs where it listens: however
 * long that takes on a busy machine, up to WAIT_DEADLINE_MS.
 */
export async function startServerProcess(env: Record<string, string>): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: REPO,
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', MUSTER_ADMIN_TOKEN: SERVER_ADMIN_TOKEN, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const chunks: string[] = [];
  const exited = new Promise<number | string | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  const baseUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the server did not start in ${WAIT_DEADLINE_MS / 1000} s:\n${chunks.join('')}`));
    }, WAIT_DEADLINE_MS);
    child.stdout!.on('data', (chunk: Buffer) => {
      chunks.push(chunk.toString());
      const match = /listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(chunks.join(''));
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the server exited with ${code}:\n${chunks.join('')}`));
    });
  });
  return {
    baseUrl,
    process: child,
    output: () => chunks.join(''),
    exited,
    stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** The log lines (pino JSON) a server printed with this message. */
export function logLines(output: string, message: string): any[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{') && line.includes(message))
    .map((line) => JSON.parse(line))
    .filter((entry) => entry.msg === message);
}
