import { afterAll, describe, expect, it } from 'vitest';
import type { Db } from '../src/storage/database.js';
import { DATABASES, createTestDatabase, type TestDatabase } from './helpers/databases.js';
import { emailOf, generateCsv, upload, waitForJob } from './helpers/imports.js';
import { logLines, SERVER_ADMIN_TOKEN, startServerProcess, type ServerProcess } from './helpers/import-server.js';
import { call } from './helpers/test-app.js';

const ROWS = 20_000;

async function tenantUsers(db: Db, tenant: string): Promise<string[]> {
  const rows = await db.kysely.selectFrom('users').select('email').where('tenant_id', '=', tenant).execute();
  return rows.map((r) => r.email);
}

async function leftovers(db: Db): Promise<{ chunks: number; rows: number }> {
  const chunks = await db.kysely.selectFrom('import_chunks').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
  const rows = await db.kysely.selectFrom('import_row_blocks').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
  return { chunks: Number(chunks.n), rows: Number(rows.n) };
}

function expectedEmails(count: number): string[] {
  return Array.from({ length: count }, (_, i) => emailOf(i + 1)).sort();
}

describe.each(DATABASES)('an import job across a crash on %s', (kind) => {
  let database: TestDatabase;
  let db: Db;
  const servers: ServerProcess[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop('SIGKILL')));
    await db?.close();
    await database?.drop();
  });

  it('resumes after kill -9 where its last committed chunk ended: no row lost, none created twice', async () => {
    database = await createTestDatabase(kind);
    const env = { DATABASE_URL: database.url, MUSTER_IMPORT_LEASE_SECONDS: '1', LOG_LEVEL: 'info' };
    const first = await startServerProcess(env);
    servers.push(first);
    db = database.open();
    expect((await call(first.baseUrl, 'POST', '/v1/tenants', { token: SERVER_ADMIN_TOKEN, body: { id: 'crash' } })).status).toBe(201);
    const accepted = await upload(first.baseUrl, 'crash', generateCsv(ROWS), { token: SERVER_ADMIN_TOKEN, query: '?notify=false' });
    expect(accepted.status, accepted.text).toBe(202);
    const location = accepted.headers.get('location')!;

    // Killed while it works: whatever chunk was in flight never commits.
    await waitForJob(first.baseUrl, location, (job) => job.processed >= 3000, undefined, SERVER_ADMIN_TOKEN);
    expect(await first.stop('SIGKILL')).toBe('SIGKILL');

    // What survived is consistent: the progress counts exactly the users that exist.
    const job = await db.kysely.selectFrom('import_jobs').select(['processed', 'created', 'total', 'state']).where('id', '=', accepted.body.id).executeTakeFirstOrThrow();
    expect(Number(job.processed)).toBeLessThan(ROWS);
    expect(Number(job.processed) % 1000).toBe(0);
    expect(Number(job.created)).toBe(Number(job.processed));
    expect((await tenantUsers(db, 'crash')).length).toBe(Number(job.processed));

    const second = await startServerProcess(env);
    servers.push(second);
    const done = await waitForJob(second.baseUrl, location, undefined, undefined, SERVER_ADMIN_TOKEN);
    expect(done).toMatchObject({ state: 'completed', total: ROWS, processed: ROWS, created: ROWS, failed: 0, skipped: 0 });
    expect((await tenantUsers(db, 'crash')).sort()).toEqual(expectedEmails(ROWS));
    expect(await second.stop()).toBe(0);
    expect(await leftovers(db)).toEqual({ chunks: 0, rows: 0 });
  });
});

describe('two server processes on one PostgreSQL database', () => {
  let database: TestDatabase;
  let db: Db;
  const servers: ServerProcess[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop('SIGKILL')));
    await db?.close();
    await database?.drop();
  });

  it('share one job chunk by chunk, each chunk committed exactly once', async () => {
    database = await createTestDatabase('postgres');
    db = database.open();
    const env = { DATABASE_URL: database.url, LOG_LEVEL: 'debug', MUSTER_IMPORT_CONCURRENCY: '1' };
    const [a, b] = await Promise.all([startServerProcess(env), startServerProcess(env)]);
    servers.push(a!, b!);
    expect((await call(a!.baseUrl, 'POST', '/v1/tenants', { token: SERVER_ADMIN_TOKEN, body: { id: 'shared' } })).status).toBe(201);
    const rows = 30_000;
    const accepted = await upload(a!.baseUrl, 'shared', generateCsv(rows), { token: SERVER_ADMIN_TOKEN, query: '?notify=false' });
    expect(accepted.status, accepted.text).toBe(202);
    const done = await waitForJob(b!.baseUrl, accepted.headers.get('location')!, undefined, undefined, SERVER_ADMIN_TOKEN);
    expect(done).toMatchObject({ state: 'completed', processed: rows, created: rows, failed: 0 });
    expect((await tenantUsers(db, 'shared')).sort()).toEqual(expectedEmails(rows));

    const byA = logLines(a!.output(), 'import chunk committed').map((l) => l.chunk as number);
    const byB = logLines(b!.output(), 'import chunk committed').map((l) => l.chunk as number);
    expect(byA.length).toBeGreaterThan(0);
    expect(byB.length).toBeGreaterThan(0);
    expect([...byA, ...byB].sort((x, y) => x - y)).toEqual(Array.from({ length: rows / 1000 }, (_, i) => i));
    expect(await leftovers(db)).toEqual({ chunks: 0, rows: 0 });
  });
});
