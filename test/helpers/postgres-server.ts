import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export { freePort } from './free-port.js';

export interface PostgresServer {
  /** URL of the `postgres` maintenance database, as the superuser. */
  adminUrl: string;
  stop(): Promise<void>;
}

const CLUSTER_SCRIPT = fileURLToPath(new URL('./postgres-cluster.ts', import.meta.url));

/**
 * Starts a throwaway PostgreSQL server on a free loopback port and a temporary directory, in a
 * child process of its own (see postgres-cluster.ts for why); `stop` shuts it down and removes
 * it. If this process dies first, the child sees its standard input close and stops too.
 */
export async function startPostgres(options: { durable?: boolean } = {}): Promise<PostgresServer> {
  const args = ['--import', 'tsx', CLUSTER_SCRIPT];
  if (options.durable) args.push('--durable');
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const lines = createInterface({ input: child.stdout! });
  const adminUrl = await new Promise<string>((resolve, reject) => {
    lines.once('line', (line) => {
      try {
        resolve((JSON.parse(line) as { adminUrl: string }).adminUrl);
      } catch (error) {
        reject(new Error(`the PostgreSQL process said something unexpected: ${line}`, { cause: error }));
      }
    });
    void exited.then((code) => reject(new Error(`the PostgreSQL process exited with ${code} before it was ready`)));
  });
  return {
    adminUrl,
    async stop() {
      child.stdin!.end();
      const code = await exited;
      lines.close();
      if (code !== 0) throw new Error(`the PostgreSQL process exited with ${code} while stopping`);
    },
  };
}
