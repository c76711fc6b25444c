import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort, startPostgres, type PostgresServer } from '../test/helpers/postgres-server.js';

export const BENCH_ADMIN_TOKEN = 'bench-admin-token-0123456789';

export interface RunningMuster {
  baseUrl: string;
  stop(): Promise<void>;
}

/** Starts the built server (dist/server.js) as its own process on a fresh database of the given kind. */
export async function startMuster(kind: 'sqlite' | 'postgres', postgres?: PostgresServer): Promise<RunningMuster> {
  const port = await freePort();
  let databaseUrl: string;
  let cleanup: () => Promise<void>;
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'muster-bench-'));
    databaseUrl = `sqlite:${join(dir, 'muster.db')}`;
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
  } else {
    if (!postgres) throw new Error('a PostgreSQL server is needed');
    const name = `bench_${Date.now()}`;
    const admin = new pg.Client({ connectionString: postgres.adminUrl });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
    databaseUrl = postgres.adminUrl.replace(/\/postgres$/, `/${name}`);
    cleanup = async () => {};
  }
  const child: ChildProcess = spawn(process.execPath, ['dist/server.js'], {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: databaseUrl,
      MUSTER_ADMIN_TOKEN: BENCH_ADMIN_TOKEN,
      MUSTER_RATE_LIMIT: '100000000',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${baseUrl}/healthz`)).ok) break;
    } catch {
      if (i > 200) throw new Error('Muster did not start');
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    baseUrl,
    async stop() {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      await cleanup();
    },
  };
}

export { startPostgres };

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export async function post(baseUrl: string, path: string, body: unknown): Promise<{ status: number; json: any }> {
  const response = await fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${BENCH_ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: await response.json() };
}
