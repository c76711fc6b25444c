/**
 * Crashes: a server process killed with SIGKILL while its write transaction is open leaves
 * nothing of an atomic batch, and no user half-written (password hash, roles, outbox message
 * and audit event all present or all absent); every user reported created before the kill
 * exists; SQLite passes `PRAGMA integrity_check`; and SIGTERM lets in-flight requests finish.
 */
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../src/storage/database.js';
import { createTestDatabase, DATABASES, type TestDatabase } from './helpers/databases.js';
import { startServerProcess, type ServerProcess } from './helpers/server-process.js';
import type { CallResult } from './helpers/test-app.js';
import { WAIT_DEADLINE_MS, waitUntil } from './helpers/wait.js';

/**
 * Resolves once some connection other than the watcher's holds an open write transaction on
 * the database: SQLite's write lock is taken (BEGIN IMMEDIATE fails at once), or a PostgreSQL
 * backend of the database has a transaction that has written (it has a transaction id).
 */
async function writeTransactionOpen(database: TestDatabase, timeoutMs = WAIT_DEADLINE_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  if (database.kind === 'sqlite') {
    const watcher = new SQLite(database.url.slice('sqlite:'.length));
    watcher.pragma('busy_timeout = 0');
    try {
      while (Date.now() < deadline) {
        try {
          watcher.exec('BEGIN IMMEDIATE');
          watcher.exec('ROLLBACK');
        } catch (error) {
          if ((error as { code?: string }).code === 'SQLITE_BUSY') return;
          throw error;
        }
        await new Promise((r) => setImmediate(r));
      }
    } finally {
      watcher.close();
    }
  } else {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      while (Date.now() < deadline) {
        const { rows } = await client.query(
          `select count(*)::int as n from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() and backend_xid is not null`,
        );
        if (rows[0].n > 0) return;
      }
    } finally {
      await client.end();
    }
  }
  throw new Error('no write transaction was seen');
}

describe.each(DATABASES)('a server process killed on %s', (kind) => {
  let database: TestDatabase;
  let db: Db;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    // A first process migrates the database and sets up the tenants, then stops.
    const setup = await startServerProcess(database.url);
    for (const id of ['crash-atomic', 'crash-partial']) {
      expect((await setup.call('POST', '/v1/tenants', { body: { id } })).status).toBe(201);
      expect((await setup.call('PUT', `/v1/tenants/${id}/roles/staff`, { body: { description: 'Staff' } })).status).toBeLessThan(300);
    }
    await setup.stop();
    db = openDatabase(database.url);
  });
  afterAll(async () => {
    await db?.close();
    await database?.drop();
  });

  async function count(table: 'users' | 'user_roles' | 'email_messages' | 'audit_events' | 'invitations', tenant: string): Promise<number> {
    const row = await db.kysely.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).where('tenant_id', '=', tenant).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async function integrityCheck(): Promise<void> {
    if (kind !== 'sqlite') return;
    const file = new SQLite(database.url.slice('sqlite:'.length), { readonly: true });
    try {
      expect(file.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      file.close();
    }
  }

  it('leaves nothing of an atomic batch when killed with SIGKILL during its transaction, and SQLite passes integrity_check', async () => {
    let killedMidTransaction = false;
    for (let attempt = 0; attempt < 3 && !killedMidTransaction; attempt++) {
      const server = await startServerProcess(database.url);
      const users = Array.from({ length: 1000 }, (_, i) => ({ email: `a${attempt}-${i}@example.com`, roles: ['staff'] }));
      const pending = server.call('POST', '/v1/tenants/crash-atomic/users/batch', { body: { atomic: true, users } }).catch(() => undefined);
      await writeTransactionOpen(database);
      server.child.kill('SIGKILL');
      expect((await server.exited).signal).toBe('SIGKILL');
      expect(await pending).toBeUndefined();
      const stored = await db.kysely.selectFrom('users').select((eb) => eb.fn.countAll().as('n')).where('tenant_id', '=', 'crash-atomic').where('email_key', 'like', `a${attempt}-%`).executeTakeFirstOrThrow();
      // All or nothing; nothing when the kill came before the commit, which is what the watcher saw.
      expect([0, 1000]).toContain(Number(stored.n));
      killedMidTransaction = Number(stored.n) === 0;
      await integrityCheck();
    }
    expect(killedMidTransaction).toBe(true);
    expect(await count('users', 'crash-atomic')).toBe(Number((await db.kysely.selectFrom('tenants').select('user_count').where('id', '=', 'crash-atomic').executeTakeFirstOrThrow()).user_count));
    for (const table of ['user_roles', 'email_messages', 'invitations', 'audit_events'] as const) {
      // No row of a rolled-back user remains in any table written with it.
      const orphans = await db.kysely
        .selectFrom(table)
        .select((eb) => eb.fn.countAll().as('n'))
        .where('tenant_id', '=', 'crash-atomic')
        .where(table === 'audit_events' ? 'resource_id' : 'user_id', 'not in', db.kysely.selectFrom('users').select('id'))
        .where((eb) => (table === 'audit_events' ? eb('action', 'like', 'user.%') : eb.lit(true)))
        .executeTakeFirstOrThrow();
      expect(Number(orphans.n), table).toBe(0);
    }
  });

  it('keeps every user reported created before a SIGKILL, and no user half-written, when killed during a non-atomic batch', async () => {
    const server = await startServerProcess(database.url);
    const reported = new Set<string>();
    let stop = false;
    const record = (res: CallResult | undefined) => {
      if (!res) return;
      if (res.status === 201) reported.add(res.body.id);
      for (const r of res.body?.results ?? []) if (r.status === 'created') reported.add(r.user.id);
    };
    // A stream of small creates, with passwords and roles, each acknowledged before the kill.
    let n = 0;
    const stream = (async () => {
      while (!stop) {
        const i = n++;
        const res = await server
          .call('POST', '/v1/tenants/crash-partial/users', { body: { email: `s${i}@example.com`, password: 'Quartz-Lantern-8841', roles: ['staff'] } })
          .catch(() => undefined);
        record(res);
      }
    })();
    await waitUntil('five users reported created', () => reported.size >= 5);
    const big = server
      .call('POST', '/v1/tenants/crash-partial/users/batch', { body: { users: Array.from({ length: 1000 }, (_, i) => ({ email: `b${i}@example.com`, roles: ['staff'] })) } })
      .catch(() => undefined);
    await writeTransactionOpen(database);
    server.child.kill('SIGKILL');
    await server.exited;
    stop = true;
    await stream;
    record(await big);

    const users = await db.kysely.selectFrom('users').select(['id', 'password_hash', 'email_key']).where('tenant_id', '=', 'crash-partial').execute();
    const ids = new Set(users.map((u) => u.id));
    expect([...reported].filter((id) => !ids.has(id))).toEqual([]);
    const withRole = new Set((await db.kysely.selectFrom('user_roles').select('user_id').where('tenant_id', '=', 'crash-partial').execute()).map((r) => r.user_id));
    const withMessage = new Set((await db.kysely.selectFrom('email_messages').select('user_id').where('tenant_id', '=', 'crash-partial').execute()).map((r) => r.user_id));
    const audited = new Set(
      (await db.kysely.selectFrom('audit_events').select('resource_id').where('tenant_id', '=', 'crash-partial').where('action', '=', 'user.created').execute()).map((r) => r.resource_id),
    );
    for (const user of users) {
      if (user.email_key.startsWith('s')) expect(user.password_hash, user.email_key).toMatch(/^\$argon2id\$/);
      expect(withRole.has(user.id), `${user.email_key} has its role`).toBe(true);
      expect(withMessage.has(user.id), `${user.email_key} has its message`).toBe(true);
      expect(audited.has(user.id), `${user.email_key} has its audit event`).toBe(true);
    }
    expect(withRole.size).toBe(users.length);
    expect(withMessage.size).toBe(users.length);
    expect(audited.size).toBe(users.length);
    // The big batch is one transaction: all of it or none of it.
    expect([0, 1000]).toContain(users.filter((u) => u.email_key.startsWith('b')).length);
    const seats = await db.kysely.selectFrom('tenants').select('user_count').where('id', '=', 'crash-partial').executeTakeFirstOrThrow();
    expect(Number(seats.user_count)).toBe(users.length);
    await integrityCheck();

    // A new process on the same database carries on where the killed one stopped.
    const next = await startServerProcess(database.url);
    try {
      const res = await next.call('POST', '/v1/tenants/crash-partial/users', { body: { email: 'after@example.com' } });
      expect(res.status).toBe(201);
    } finally {
      await next.stop();
    }
  });

  it('drains an in-flight batch on SIGTERM: the response arrives complete, then the process exits 0', async () => {
    // Its request log shows when the batch has arrived.
    const server = await startServerProcess(database.url, { LOG_LEVEL: 'info' });
    await server.call('POST', '/v1/tenants', { body: { id: 'crash-drain' } });
    const users = Array.from({ length: 24 }, (_, i) => ({ email: `d${i}@example.com`, password: `Quartz-Lantern-${1000 + i}` }));
    let answered = false;
    const pending = server.call('POST', '/v1/tenants/crash-drain/users/batch?notify=false', { body: { users } }).finally(() => (answered = true));
    // The signal comes once the server has the batch and before it answers (24 argon2id hashes take a while).
    await waitUntil('the server to receive the batch', () => server.output().includes('/v1/tenants/crash-drain/users/batch'));
    expect(answered).toBe(false);
    server.child.kill('SIGTERM');
    const res = await pending;
    const answeredAt = Date.now();
    expect(res.status).toBe(200);
    expect(res.body.successCount).toBe(24);
    const { code, signal } = await server.exited;
    // Exits as soon as the last response is out, not after the keep-alive connection's 10 s timeout.
    expect(Date.now() - answeredAt).toBeLessThan(5_000);
    expect(signal).toBeNull();
    expect(code).toBe(0);
    expect(await count('users', 'crash-drain')).toBe(24);
    // It no longer accepts connections.
    await expect(fetch(`${server.baseUrl}/healthz`)).rejects.toThrow();
  });
});
