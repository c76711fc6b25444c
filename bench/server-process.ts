import { performance } from 'node:perf_hooks';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort, startPostgres, type PostgresServer } from '../test/helpers/postgres-server.js';

export const BENCH_ADMIN_TOKEN = 'bench-admin-token-0123456789';

export interface LoopFigures {
  maxMs: number;
  p99Ms: number;
  meanMs: number;
}

export interface RunningMuster {
  baseUrl: string;
  /** The server's event-loop delay since the previous call (the first call starts the count). */
  loop(): Promise<LoopFigures>;
  /** The server process's peak resident memory so far (VmHWM), in MiB. */
  peakRssMiB(): number;
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
  const loopFile = join(mkdtempSync(join(tmpdir(), 'muster-loop-')), 'loop.json');
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs(), '--import', './bench/loop-monitor.mjs', 'dist/server.js'], {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: databaseUrl,
      MUSTER_ADMIN_TOKEN: BENCH_ADMIN_TOKEN,
      MUSTER_RATE_LIMIT: '100000000',
      LOG_LEVEL: 'warn',
      MUSTER_BENCH_LOOP_FILE: loopFile,
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
    async loop() {
      rmSync(loopFile, { force: true });
      child.kill('SIGUSR2');
      for (let i = 0; i < 200; i++) {
        try {
          return JSON.parse(readFileSync(loopFile, 'utf8')) as LoopFigures;
        } catch {
          await new Promise((r) => setTimeout(r, 10));
        }
      }
      throw new Error('the server wrote no event-loop figures');
    },
    peakRssMiB() {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
      return kb / 1024;
    },
    async stop() {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      await cleanup();
    },
  };
}

export { startPostgres };

/** Extra options for the server's node, e.g. MUSTER_BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof". */
function nodeArgs(): string[] {
  return (process.env.MUSTER_BENCH_NODE_ARGS ?? '').split(' ').filter((a) => a.length > 0);
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * POST of a body serialised beforehand; `ms` is the wall time from sending the request to
 * having the whole response, the client's own JSON work (serialising the request, parsing the
 * response) left out.
 */
export async function timedPost(baseUrl: string, path: string, body: unknown): Promise<{ status: number; json: any; ms: number }> {
  const text = JSON.stringify(body);
  const started = performance.now();
  const response = await fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${BENCH_ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: text,
  });
  const received = await response.text();
  const ms = performance.now() - started;
  return { status: response.status, json: JSON.parse(received), ms };
}

export async function post(baseUrl: string, path: string, body: unknown): Promise<{ status: number; json: any }> {
  const response = await fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${BENCH_ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: await response.json() };
}
