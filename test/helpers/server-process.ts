/**
 * Runs Muster as a real server process (`node --import tsx src/server.ts`) on a free loopback
 * port: how tests put two processes on one database, or kill one mid-request.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from './free-port.js';
import { ADMIN_TOKEN, call, type CallOptions, type CallResult } from './test-app.js';
import { WAIT_DEADLINE_MS } from './wait.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface ServerProcess {
  baseUrl: string;
  child: ChildProcess;
  call(method: string, path: string, options?: CallOptions): Promise<CallResult>;
  /** What the process wrote to stdout and stderr so far (its log lines). */
  output(): string;
  /** Resolves with the exit code (null when killed by a signal) and the signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends SIGTERM and waits for the exit. */
  stop(): Promise<void>;
}

/**
 * Starts a server on `databaseUrl` and waits until it answers /healthz, however long that takes
 * on a busy machine (up to WAIT_DEADLINE_MS). The free port is picked before the process binds
 * it, so another process may take it in between: then a fresh port is tried.
 */
export async function startServerProcess(databaseUrl: string, env: Record<string, string> = {}): Promise<ServerProcess> {
  for (let attempt = 1; ; attempt++) {
    const started = await spawnServer(databaseUrl, env);
    if (started !== 'port-taken') return started;
    if (attempt >= 5) throw new Error('five free ports in a row were taken before the server could bind them');
  }
}

async function spawnServer(databaseUrl: string, env: Record<string, string>): Promise<ServerProcess | 'port-taken'> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      PORT: String(port),
      HOST: '127.0.0.1',
      MUSTER_ADMIN_TOKEN: ADMIN_TOKEN,
      MUSTER_RATE_LIMIT: '1000000',
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const baseUrl = `http://127.0.0.1:${port}`;
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = Date.now() + WAIT_DEADLINE_MS;
  for (;;) {
    if (gone) {
      if (output.includes('EADDRINUSE')) return 'port-taken';
      throw new Error(`the server exited before it was ready:\n${output}`);
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the server was not ready in ${WAIT_DEADLINE_MS / 1000} s:\n${output}`);
    }
    try {
      const res = await fetch(`${baseUrl}/healthz`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    baseUrl,
    child,
    call: (method, path, options) => call(baseUrl, method, path, options),
    output: () => output,
    exited,
    async stop() {
      if (!gone) child.kill('SIGTERM');
      await exited;
    },
  };
}
