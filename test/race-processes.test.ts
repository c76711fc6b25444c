/**
 * Races between two real server processes on one database (one PostgreSQL database, or one
 * SQLite file): uniqueness, the last seat and all-or-nothing batches are decided by the
 * database, so no interleaving of requests across processes breaks them, and no lock
 * conflict (SQLITE_BUSY, a deadlock) ever reaches a client as a 500.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../src/storage/database.js';
import { createTestDatabase, DATABASES, type TestDatabase } from './helpers/databases.js';
import { startServerProcess, type ServerProcess } from './helpers/server-process.js';
import type { CallResult } from './helpers/test-app.js';

describe.each(DATABASES)('two server processes on one %s database', (kind) => {
  let database: TestDatabase;
  let db: Db;
  let servers: ServerProcess[] = [];

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    // Both start at once: each migrates the same empty database.
    servers = await Promise.all([startServerProcess(database.url), startServerProcess(database.url)]);
    db = openDatabase(database.url);
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await db?.close();
    await database?.drop();
  });

  const server = (i: number) => servers[i % servers.length]!;

  async function users(tenant: string): Promise<number> {
    const row = await db.kysely.selectFrom('users').select((eb) => eb.fn.countAll().as('n')).where('tenant_id', '=', tenant).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async function seatsUsed(tenant: string): Promise<number> {
    const row = await db.kysely.selectFrom('tenants').select('user_count').where('id', '=', tenant).executeTakeFirstOrThrow();
    return Number(row.user_count);
  }

  /** Creates a tenant and returns a tenant-admin token of it. */
  async function tenant(id: string, extra: Record<string, unknown> = {}): Promise<string> {
    const res = await server(0).call('POST', '/v1/tenants', { body: { id, ...extra } });
    expect(res.status, res.text).toBe(201);
    const key = await server(1).call('POST', `/v1/tenants/${id}/api-keys`, { body: { name: 'race', role: 'tenant-admin' } });
    expect(key.status, key.text).toBe(201);
    return key.body.token as string;
  }

  function expectNoServerErrors(responses: CallResult[]): void {
    const failures = responses.filter((r) => r.status >= 500).map((r) => `${r.status} ${r.text}`);
    expect(failures, servers.map((s) => s.output()).join('\n')).toEqual([]);
  }

  it('creates exactly 20 users from 200 concurrent creates over 20 emails spread over both processes', async () => {
    const token = await tenant('race-twenty');
    const spellings = (n: number) => [`user${n}@example.com`, `USER${n}@example.com`, `User${n}@Example.COM`, `ｕｓｅｒ${n}@example.com`];
    const responses = await Promise.all(
      Array.from({ length: 200 }, (_, i) => {
        const email = spellings(i % 20)[Math.floor(i / 20) % 4]!;
        // Through the native API and through the simple dialect: one core decides for both.
        return i % 3 === 0
          ? server(i).call('POST', '/compat/simple/users', { token, body: { firstName: 'Race', lastName: `N${i}`, contactEmail: email } })
          : server(i).call('POST', '/v1/tenants/race-twenty/users?notify=false', { token, body: { email } });
      }),
    );
    expectNoServerErrors(responses);
    expect(responses.filter((r) => r.status === 201)).toHaveLength(20);
    const refused = responses.filter((r) => r.status !== 201);
    expect(refused.every((r) => r.body.code === 'DUPLICATE_EMAIL' || r.body.reason === 'DUPLICATE_EMAIL'), JSON.stringify(refused.map((r) => r.body))).toBe(true);
    expect(await users('race-twenty')).toBe(20);
    expect(await seatsUsed('race-twenty')).toBe(20);
  });

  it('gives the last seat to exactly one of 40 concurrent creates across both processes', async () => {
    const token = await tenant('race-last-seat', { seatLimit: 10 });
    const first = await server(0).call('POST', '/v1/tenants/race-last-seat/users/batch?notify=false', { token, body: { users: Array.from({ length: 9 }, (_, i) => ({ email: `early${i}@example.com` })) } });
    expect(first.body.successCount).toBe(9);
    const responses = await Promise.all(
      Array.from({ length: 40 }, (_, i) => server(i).call('POST', '/v1/tenants/race-last-seat/users?notify=false', { token, body: { email: `last${i}@example.com` } })),
    );
    expectNoServerErrors(responses);
    expect(responses.filter((r) => r.status === 201)).toHaveLength(1);
    expect(responses.filter((r) => r.status === 402 && r.body.code === 'SEAT_LIMIT_EXCEEDED')).toHaveLength(39);
    expect(await users('race-last-seat')).toBe(10);
    expect(await seatsUsed('race-last-seat')).toBe(10);
  });

  it('keeps concurrent atomic batches all-or-nothing across both processes when they compete for seats', async () => {
    const token = await tenant('race-atomic', { seatLimit: 25 });
    const responses = await Promise.all(
      Array.from({ length: 6 }, (_, b) =>
        server(b).call('POST', '/v1/tenants/race-atomic/users/batch?notify=false', { token, body: { atomic: true, users: Array.from({ length: 10 }, (_, i) => ({ email: `b${b}-${i}@example.com` })) } }),
      ),
    );
    expectNoServerErrors(responses);
    const committed = responses.filter((r) => r.status === 200);
    expect(committed.every((r) => r.body.successCount === 10)).toBe(true);
    expect(responses.filter((r) => r.status === 422).every((r) => r.body.successCount === 0)).toBe(true);
    expect(committed).toHaveLength(2);
    expect(await users('race-atomic')).toBe(20);
    for (let b = 0; b < 6; b++) {
      const row = await db.kysely.selectFrom('users').select((eb) => eb.fn.countAll().as('n')).where('tenant_id', '=', 'race-atomic').where('email_key', 'like', `b${b}-%`).executeTakeFirstOrThrow();
      expect([0, 10]).toContain(Number(row.n));
    }
  });

  it('never answers 500 when overlapping batches insert the same users in opposite orders (no deadlock reaches the client)', async () => {
    const token = await tenant('race-deadlock');
    for (let round = 0; round < 4; round++) {
      const emails = Array.from({ length: 150 }, (_, i) => `r${round}-u${String(i).padStart(3, '0')}@example.com`);
      // User names cross the emails too, so no single insertion order avoids every conflict.
      const drafts = emails.map((email, i) => ({ email, userName: `r${round}-name-${(i * 7) % 150}` }));
      const reversed = [...drafts].reverse();
      const responses = await Promise.all([
        server(0).call('POST', '/v1/tenants/race-deadlock/users/batch?notify=false', { token, body: { users: drafts } }),
        server(1).call('POST', '/v1/tenants/race-deadlock/users/batch?notify=false', { token, body: { users: reversed } }),
        server(0).call('POST', '/compat/batch/users', { token, body: reversed.map((d) => ({ email: d.email, userName: d.userName })) }),
        server(1).call('POST', '/v1/tenants/race-deadlock/users/batch?notify=false', { token, body: { users: drafts.filter((_, i) => i % 2 === 0) } }),
      ]);
      expectNoServerErrors(responses);
      const created = responses.reduce((n, r) => n + (r.body.successCount ?? 0), 0);
      expect(created).toBe(150);
      const failures = [
        ...responses.flatMap((r) => (r.body.results ?? []).filter((x: { status: string }) => x.status === 'failed')),
        ...responses.flatMap((r) => r.body.failedResults ?? []),
      ];
      // 525 records, 150 created: each of the other 375 is reported once (a retried transaction reports nothing twice).
      expect(failures).toHaveLength(375);
      expect(await users('race-deadlock')).toBe(150 * (round + 1));
    }
    expect(await users('race-deadlock')).toBe(600);
  });

  it('creates once for one Idempotency-Key sent 20 times at once to both processes', async () => {
    const token = await tenant('race-idempotent');
    const send = (i: number, path: string, body: unknown, key: string) => server(i).call('POST', path, { token, headers: { 'idempotency-key': key }, body });
    const native = await Promise.all(Array.from({ length: 20 }, (_, i) => send(i, '/v1/tenants/race-idempotent/users?notify=false', { email: 'once@example.com' }, 'key-native-1')));
    const simple = await Promise.all(
      Array.from({ length: 20 }, (_, i) => send(i, '/compat/simple/users', { firstName: 'Once', lastName: 'Only', contactEmail: 'once-simple@example.com' }, 'key-simple-1')),
    );
    const batch = await Promise.all(
      Array.from({ length: 20 }, (_, i) => send(i, '/v1/tenants/race-idempotent/users/batch?notify=false', { users: [{ email: 'b1@example.com' }, { email: 'b2@example.com' }] }, 'key-batch-1')),
    );
    for (const responses of [native, simple, batch]) {
      expectNoServerErrors(responses);
      // Every retry gets the first request's answer: the same status and the same body.
      expect(new Set(responses.map((r) => r.status)), responses.map((r) => r.text).join('\n')).toEqual(new Set([responses[0]!.status]));
      expect(responses[0]!.status).toBeLessThan(300);
      expect(new Set(responses.map((r) => r.text)).size).toBe(1);
      expect(responses.filter((r) => r.headers.get('idempotent-replayed') === 'true')).toHaveLength(19);
    }
    expect(await users('race-idempotent')).toBe(4);
    expect(await seatsUsed('race-idempotent')).toBe(4);
    const audited = await db.kysely.selectFrom('audit_events').select((eb) => eb.fn.countAll().as('n')).where('tenant_id', '=', 'race-idempotent').where('action', '=', 'user.created').executeTakeFirstOrThrow();
    expect(Number(audited.n)).toBe(4);
  });
});
