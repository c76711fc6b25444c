/**
 * A fleet: three real server processes on one PostgreSQL database, called round-robin as a load
 * balancer would. The limits hold across instances (per credential, per login, per address for
 * requests without a valid credential), an import survives a graceful stop and a kill -9 of
 * the instance working on it with every row created once, races and idempotency hold, and
 * each instance reports readiness and metrics and writes links from MUSTER_PUBLIC_URL.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../src/storage/database.js';
import { createTestDatabase, type TestDatabase } from './helpers/databases.js';
import { startServerProcess, type ServerProcess } from './helpers/server-process.js';
import { ADMIN_TOKEN, call, type CallResult } from './helpers/test-app.js';

const PUBLIC_URL = 'https://muster.example.test';
const RATE_LIMIT = 20;
const VERIFY_LIMIT = 5;

/** Looks again every 50 ms until `check` returns something truthy; fails after `timeoutMs`. */
async function waitFor<T>(what: string, check: () => Promise<T> | T, timeoutMs = 120_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function count(results: CallResult[], status: number): number {
  return results.filter((r) => r.status === status).length;
}

async function startFleet(url: string, env: Record<string, string>): Promise<ServerProcess[]> {
  // All three start at once, as a fleet rolled out together does: each migrates the same database.
  return Promise.all([0, 1, 2].map(() => startServerProcess(url, env)));
}

async function newKey(server: ServerProcess, tenant: string, role: string, token = ADMIN_TOKEN): Promise<{ id: string; token: string }> {
  const res = await server.call('POST', `/v1/tenants/${tenant}/api-keys`, { token, body: { name: `${role} key`, role } });
  expect(res.status, res.text).toBe(201);
  return res.body;
}

describe('three instances on one PostgreSQL', () => {
  let database: TestDatabase;
  let db: Db;
  let servers: ServerProcess[] = [];
  const server = (i: number) => servers[i % servers.length]!;

  beforeAll(async () => {
    database = await createTestDatabase('postgres');
    servers = await startFleet(database.url, {
      MUSTER_RATE_LIMIT: String(RATE_LIMIT),
      MUSTER_VERIFY_RATE_LIMIT: String(VERIFY_LIMIT),
      MUSTER_PUBLIC_URL: PUBLIC_URL,
      // A short lease and one hashing slot per instance: an import chunk takes several leases to
      // hash. Renewed every third of it: 2 s leaves a busy machine's stalls room before a lease lapses.
      MUSTER_IMPORT_LEASE_SECONDS: '2',
      MUSTER_HASH_CONCURRENCY: '1',
      MUSTER_IMPORT_CONCURRENCY: '1',
      MUSTER_SHUTDOWN_GRACE_SECONDS: '10',
      // A stopping instance keeps serving 2 s with /readyz at 503, for a load balancer to notice.
      MUSTER_DRAIN_SECONDS: '2',
      LOG_LEVEL: 'info',
    });
    db = openDatabase(database.url);
    // The bootstrap token has a bucket of 20 a minute like any credential: it only sets up
    // tenants and their first keys, and every test works with keys of its own.
    for (const id of ['acme', 'globex', 'initech', 'races', 'imports']) expect((await server(0).call('POST', '/v1/tenants', { body: { id } })).status).toBe(201);
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => (s.child.exitCode === null && s.child.signalCode === null ? s.stop() : undefined)));
    await db?.close();
    await database?.drop();
  });

  /** `n` keys of `role` in `tenant`, issued by fresh tenant-admin keys (each issues at most 15, under the limit). */
  async function manyKeys(tenant: string, role: string, n: number): Promise<{ id: string; token: string }[]> {
    const keys: { id: string; token: string }[] = [];
    while (keys.length < n) {
      const issuer = await newKey(server(0), tenant, 'tenant-admin');
      const batch = Math.min(15, n - keys.length);
      for (let i = 0; i < batch; i++) {
        const res = await server(keys.length).call('POST', `/v1/tenants/${tenant}/api-keys`, { token: issuer.token, body: { name: `${role} ${keys.length}`, role } });
        expect(res.status, res.text).toBe(201);
        keys.push(res.body);
      }
    }
    return keys;
  }

  it('shares one credential’s limit across the instances: 20 of 60 through, the rest 429 with Retry-After', async () => {
    const key = await newKey(server(0), 'acme', 'reader');
    const results: CallResult[] = [];
    for (let i = 0; i < 60; i++) results.push(await server(i).call('GET', '/v1/tenants/acme/users', { token: key.token }));
    expect(count(results, 200)).toBe(RATE_LIMIT);
    expect(count(results, 429)).toBe(60 - RATE_LIMIT);
    const refused = results.find((r) => r.status === 429)!;
    expect(refused.body).toMatchObject({ code: 'RATE_LIMIT_EXCEEDED' });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // Every instance refused some: the bucket is the database's, not one process's.
    for (let s = 0; s < 3; s++) expect(results.filter((r, i) => i % 3 === s && r.status === 429).length).toBeGreaterThan(0);
  });

  it('counts one key once however the Authorization header spells Bearer or pads the token', async () => {
    const key = await newKey(server(0), 'globex', 'reader');
    const spellings = [`Bearer ${key.token}`, `bearer ${key.token}`, `Bearer  ${key.token}`, `BEARER ${key.token}`, `Bearer ${key.token} `];
    const results: CallResult[] = [];
    for (let i = 0; i < 40; i++) {
      results.push(await server(i).call('GET', '/v1/tenants/globex/users', { headers: { authorization: spellings[i % spellings.length]! } }));
    }
    expect(count(results, 200)).toBe(RATE_LIMIT);
    expect(count(results, 429)).toBe(40 - RATE_LIMIT);
  });

  it('counts invented credentials on POST /v1/invitations/accept by client address, not one fresh bucket each', async () => {
    const results: CallResult[] = [];
    for (let i = 0; i < 40; i++) {
      const invented = `Bearer mst_key-${randomBytes(8).toString('hex')}_${randomBytes(16).toString('base64url')}`;
      results.push(await server(i).call('POST', '/v1/invitations/accept', { headers: { authorization: invented }, body: { token: randomBytes(24).toString('base64url'), password: 'a long enough password 1' } }));
    }
    const limited = count(results, 429);
    expect(limited).toBeGreaterThanOrEqual(40 - RATE_LIMIT);
    // The first ones were answered on their merits (an unknown invitation), never a 500.
    expect(results.slice(0, 5).every((r) => r.status >= 400 && r.status < 500 && r.status !== 429)).toBe(true);
    expect(results.every((r) => r.status < 500)).toBe(true);
  });

  it('shares the per-login password-check limit across instances and callers: 5 checks of one login a minute', async () => {
    const admin = await newKey(server(0), 'initech', 'tenant-admin');
    const created = await server(1).call('POST', '/v1/tenants/initech/users', { token: admin.token, body: { email: 'milton@example.com', password: 'red stapler forever 1999' } });
    expect(created.status, created.text).toBe(201);
    const managers = [await newKey(server(0), 'initech', 'user-manager', admin.token), await newKey(server(1), 'initech', 'user-manager', admin.token), await newKey(server(2), 'initech', 'user-manager', admin.token)];
    const results: CallResult[] = [];
    for (let i = 0; i < 15; i++) {
      results.push(await server(i).call('POST', '/v1/tenants/initech/credentials/verify', { token: managers[i % 3]!.token, body: { login: i % 2 ? 'milton@example.com' : 'MILTON@example.com', password: `guess ${i}` } }));
    }
    expect(count(results, 200)).toBe(VERIFY_LIMIT);
    expect(count(results, 429)).toBe(15 - VERIFY_LIMIT);
    expect(results.filter((r) => r.status === 429).every((r) => r.body?.code === 'RATE_LIMIT_EXCEEDED')).toBe(true);
  });

  it('builds Location, SCIM meta.location and documentationUri from MUSTER_PUBLIC_URL, not from the Host it was called on', async () => {
    const admin = await newKey(server(0), 'acme', 'tenant-admin');
    const native = await server(2).call('POST', '/v1/tenants/acme/users', { token: admin.token, body: { email: 'linked@example.com' } });
    expect(native.status, native.text).toBe(201);
    expect(native.headers.get('location')).toBe(`${PUBLIC_URL}/v1/tenants/acme/users/${native.body.id}`);
    const scim = await server(1).call('POST', '/scim/v2/Users', {
      token: admin.token,
      headers: { 'content-type': 'application/scim+json', 'x-forwarded-host': 'evil.example' },
      raw: JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'scim-linked@example.com', emails: [{ value: 'scim-linked@example.com', primary: true }] }),
    });
    expect(scim.status, scim.text).toBe(201);
    expect(scim.body.meta.location).toBe(`${PUBLIC_URL}/scim/v2/Users/${scim.body.id}`);
    expect(scim.headers.get('location')).toBe(`${PUBLIC_URL}/scim/v2/Users/${scim.body.id}`);
    const config = await server(0).call('GET', '/scim/v2/ServiceProviderConfig', { token: admin.token });
    expect(config.body.documentationUri).toBe(`${PUBLIC_URL}/docs`);
  });

  it('keeps the app dialect’s key out of the request log', async () => {
    const tenant = await server(0).call('GET', '/v1/tenants/globex');
    const appKey: string = tenant.body.appKey;
    expect(appKey).toMatch(/^app_/);
    const admin = await newKey(server(0), 'globex', 'tenant-admin');
    const res = await server(1).call('POST', `/${appKey}/users`, {
      token: admin.token,
      body: { userName: 'peter', email: 'peter@example.com', password: 'tps reports 1999 ok', confirmPassword: 'tps reports 1999 ok' },
    });
    expect(res.status, res.text).toBe(201);
    await waitFor('the request to be logged', () => server(1).output().includes('/app_[redacted]/users'));
    for (const s of servers) expect(s.output()).not.toContain(appKey);
  });

  it('answers /readyz 200 when the database answers and every migration is applied; /healthz stays liveness', async () => {
    for (const s of servers) {
      const ready = await s.call('GET', '/readyz', { token: null });
      expect(ready.status, ready.text).toBe(200);
      expect(ready.body).toEqual({ status: 'ready', checks: { draining: 'ok', database: 'ok', migrations: 'ok' } });
      expect((await s.call('GET', '/healthz', { token: null })).status).toBe(200);
    }
  });

  it('serves Prometheus metrics: requests by route and status, latency, users created, limits, hashing, imports, outbox and the pool', async () => {
    const res = await fetch(`${server(0).baseUrl}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toMatch(/muster_http_requests_total\{method="GET",route="\/v1\/tenants\/:tenant\/users",status="429"\} \d+/);
    expect(text).toMatch(/muster_http_request_duration_seconds_bucket\{le="0\.05",method="GET",route="\/v1\/tenants\/:tenant\/users"\} \d+/);
    expect(text).toMatch(/muster_rate_limited_total\{limit="api"\} [1-9]/);
    expect(text).toMatch(/muster_rate_limited_total\{limit="verify"\} [1-9]/);
    expect(text).toMatch(/muster_hash_queue_depth\{priority="interactive"\} 0/);
    expect(text).toMatch(/muster_hash_admission_refusals_total 0/);
    expect(text).toMatch(/muster_import_backlog_rows 0/);
    expect(text).toMatch(/muster_import_lag_seconds 0/);
    expect(text).toMatch(/muster_outbox_messages\{state="waiting"\} \d+/);
    expect(text).toMatch(/muster_db_pool_connections\{state="total"\} [1-9]/);
    expect(text).toMatch(/process_resident_memory_bytes \d+/);
    // Users created through the API, counted by the instance that created them (server 2 created one above).
    const other = await (await fetch(`${server(2).baseUrl}/metrics`)).text();
    expect(other).toMatch(/muster_users_created_total\{source="api"\} [1-9]/);
    // No credential or application key ever appears in a label.
    expect(text).not.toMatch(/mst_|app_[A-Za-z0-9]/);
  });

  it('creates exactly 10 users from 300 concurrent creates of 10 emails spread over the instances', async () => {
    // Fifteen keys, twenty creates each: the race, not the limit, decides.
    const keys = await manyKeys('races', 'user-manager', 15);
    const results = await Promise.all(
      Array.from({ length: 300 }, (_, i) => server(i).call('POST', '/v1/tenants/races/users?notify=false', { token: keys[i % 15]!.token, body: { email: `racer${i % 10}@example.com` } })),
    );
    expect(count(results, 201)).toBe(10);
    expect(count(results, 409)).toBe(290);
    const users = await db.kysely.selectFrom('users').select('email').where('tenant_id', '=', 'races').execute();
    expect(users.map((u) => u.email).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `racer${i}@example.com`).sort());
  });

  it('answers one Idempotency-Key sent to every instance at once with one user', async () => {
    const key = `fleet-${randomBytes(6).toString('hex')}`;
    const [manager] = await manyKeys('races', 'user-manager', 1);
    const results = await Promise.all(
      Array.from({ length: 9 }, (_, i) => server(i).call('POST', '/v1/tenants/races/users?notify=false', { token: manager!.token, headers: { 'idempotency-key': key }, body: { email: 'once@example.com' } })),
    );
    const created = results.filter((r) => r.status === 201);
    expect(created.length).toBeGreaterThanOrEqual(1);
    expect(new Set(created.map((r) => r.body.id)).size).toBe(1);
    // The others either replayed the same answer or were told the first is still in flight.
    expect(results.every((r) => r.status === 201 || r.status === 409)).toBe(true);
    const rows = await db.kysely.selectFrom('users').select('id').where('tenant_id', '=', 'races').where('email', '=', 'once@example.com').execute();
    expect(rows).toHaveLength(1);
  });

  it('finishes an import under hashing load after a SIGTERM and a kill -9 of the instances working on it: every row created once', async () => {
    // Nine chunks for three instances: work is left to take over after the SIGTERM and the kill -9.
    const ROWS = 9000;
    const lines = ['email,givenName,password'];
    // One row in eight carries a password to hash: a chunk of 1000 rows takes several 2 s leases.
    for (let row = 1; row <= ROWS; row++) lines.push(`fleet${row}@example.com,Row${row},${row % 8 === 0 ? `fleet secret number ${row}` : ''}`);
    const keys = await manyKeys('imports', 'user-manager', 30);
    const accepted = await call(server(0).baseUrl, 'POST', '/v1/tenants/imports/imports?notify=false', { token: keys[0]!.token, raw: `${lines.join('\n')}\n`, headers: { 'content-type': 'text/csv' } });
    expect(accepted.status, accepted.text).toBe(202);
    const jobId: string = accepted.body.id;

    // Interactive password creates alongside, on every instance, while the import runs.
    // Each key makes at most 19 creates (20 a minute), so the load is hashing, not 429s.
    let loading = true;
    const load = (async () => {
      for (let i = 0; loading && i < 19 * 29; ) {
        await Promise.all(
          [0, 1, 2].map(() => {
            const n = i++;
            return server(n).call('POST', '/v1/tenants/imports/users?notify=false', { token: keys[1 + (n % 29)]!.token, body: { email: `load${n}@example.com`, password: `interactive load ${n}` } }).catch(() => undefined);
          }),
        );
      }
    })();

    const holder = async () => {
      const chunk = await db.kysely.selectFrom('import_chunks').select(['lease_owner', 'lease_until']).where('job_id', '=', jobId).where('lease_owner', 'is not', null).executeTakeFirst();
      if (!chunk?.lease_owner) return undefined;
      const pid = Number(chunk.lease_owner.split(':')[1]);
      return servers.find((s) => s.child.pid === pid && s.child.exitCode === null && s.child.signalCode === null);
    };

    // A worker renews its lease while it hashes: the same claim's lease moves on past the end it
    // was first given (a lease is 2 s, renewed every 0.67 s; a chunk takes several).
    const firstSeen = new Map<string, number>();
    await waitFor('a lease to be renewed by its holder', async () => {
      const held = await db.kysely.selectFrom('import_chunks').select(['lease_owner', 'lease_until']).where('job_id', '=', jobId).where('lease_owner', 'is not', null).execute();
      return held.some((chunk) => {
        const until = Date.parse(chunk.lease_until!);
        const first = firstSeen.get(chunk.lease_owner!);
        if (first === undefined) firstSeen.set(chunk.lease_owner!, until);
        return first !== undefined && until >= first + 1000;
      });
    });

    // The three work side by side until a chunk has been committed: each keeps its chunk.
    await waitFor('a first chunk to commit', async () => {
      const row = await db.kysely.selectFrom('import_jobs').select('processed').where('id', '=', jobId).executeTakeFirst();
      return Number(row?.processed ?? 0) >= 1000;
    });

    // A graceful stop: /readyz turns 503 at once, the instance gives its chunk back and exits
    // well within its grace.
    const first = await waitFor('an instance to claim a chunk', holder);
    const stoppedAt = Date.now();
    first.child.kill('SIGTERM');
    const draining = await waitFor('/readyz to report draining', async () => {
      const res = await first.call('GET', '/readyz', { token: null });
      return res.status === 503 ? res : undefined;
    });
    expect(draining.body).toEqual({ status: 'not-ready', checks: { draining: 'draining', database: 'ok', migrations: 'ok' } });
    const exit = await first.exited;
    const stopSeconds = (Date.now() - stoppedAt) / 1000;
    expect(exit.code).toBe(0);
    expect(stopSeconds).toBeLessThan(10);
    // Its chunk was given back (or, caught committing, committed): it holds no lease any more.
    const stillHeld = await db.kysely.selectFrom('import_chunks').select('lease_owner').where('job_id', '=', jobId).where('lease_owner', 'like', `%:${first.child.pid}:%`).execute();
    expect(stillHeld).toEqual([]);
    console.log(`[fleet] SIGTERM to exit with an import chunk in flight: ${stopSeconds.toFixed(1)} s (drain 2 s)`);

    // A kill -9 of the next holder: its chunk is taken over once its lease runs out.
    const second = await waitFor('another instance to claim a chunk', async () => {
      const h = await holder();
      if (h && h !== first) return h;
      // Says why no chunk will be claimed any more, instead of waiting out the deadline.
      const ended = await db.kysely.selectFrom('import_jobs').select(['state', 'processed', 'error']).where('id', '=', jobId).where('state', 'in', ['completed', 'failed', 'cancelled']).executeTakeFirst();
      if (ended) throw new Error(`the import ended before another instance was seen holding a chunk: ${JSON.stringify(ended)}`);
      return undefined;
    });
    second.child.kill('SIGKILL');
    await second.exited;
    const survivor = servers.find((s) => s !== first && s !== second)!;

    // Watched in the database: polling through the API would spend the keys' budgets.
    await waitFor(
      'the import to end',
      async () => {
        const row = await db.kysely.selectFrom('import_jobs').select('state').where('id', '=', jobId).executeTakeFirst();
        return row && ['completed', 'failed', 'cancelled'].includes(row.state);
      },
      240_000,
    );
    loading = false;
    await load;
    const job = (await survivor.call('GET', `/v1/tenants/imports/imports/${jobId}`, { token: keys[0]!.token })).body;
    expect(job).toMatchObject({ state: 'completed', total: ROWS, processed: ROWS, created: ROWS, failed: 0, skipped: 0 });
    const users = await db.kysely.selectFrom('users').select('email').where('tenant_id', '=', 'imports').where('email', 'like', 'fleet%').execute();
    expect(users).toHaveLength(ROWS);
    expect(new Set(users.map((u) => u.email)).size).toBe(ROWS);
    // Leases were renewed while chunks were hashed: no instance ever had a chunk taken from it.
    for (const s of servers) expect(s.output()).not.toContain('another process took the chunk over');
    const metrics = await (await fetch(`${survivor.baseUrl}/metrics`)).text();
    expect(metrics).not.toMatch(/muster_import_chunks_total\{outcome="lost"\} [1-9]/);
    expect(metrics).toMatch(/muster_import_rows_total\{outcome="created"\} [1-9]/);
  });
});
