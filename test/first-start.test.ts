/**
 * The first start tells a person how to get in, without a default password: with no
 * MUSTER_ADMIN_TOKEN, a global-admin key is issued once and its token printed once; later
 * starts issue nothing and say what to do. `/` leads somewhere useful.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase, DATABASES, type TestDatabase } from './helpers/databases.js';
import { startServerProcess, type ServerProcess } from './helpers/import-server.js';
import { call } from './helpers/test-app.js';
import { waitUntil } from './helpers/wait.js';

const TOKEN = /export MUSTER_TOKEN=(mst_[A-Za-z0-9_-]+)/;

describe.each(DATABASES)('the first start on %s', (kind) => {
  const databases: TestDatabase[] = [];
  const servers: ServerProcess[] = [];
  afterAll(async () => {
    for (const server of servers) await server.stop();
    for (const database of databases) await database.drop();
  });

  async function start(database: TestDatabase, env: Record<string, string> = {}): Promise<ServerProcess> {
    const server = await startServerProcess({ DATABASE_URL: database.url, MUSTER_ADMIN_TOKEN: '', ...env });
    servers.push(server);
    return server;
  }

  it('issues a global-admin key once, prints its token once, and stores only its digest', async () => {
    const database = await createTestDatabase(kind);
    databases.push(database);
    const first = await start(database);
    // The banner is written right after the server listens; wait for it rather than for a fixed time.
    const ready = /Muster is ready at http:\/\/localhost:\d+/;
    await waitUntil('the first-start banner', () => TOKEN.test(first.output()) && ready.test(first.output()), { intervalMs: 50 }).catch(() => undefined);
    const token = TOKEN.exec(first.output())?.[1];
    expect(token, first.output()).toBeDefined();
    expect(first.output()).toContain('/docs');
    expect(first.output()).toMatch(ready);

    const tenants = await call(first.baseUrl, 'GET', '/v1/tenants', { token: token! });
    expect(tenants.status, tenants.text).toBe(200);
    const keys = await call(first.baseUrl, 'GET', '/v1/tenants/default/api-keys', { token: token! });
    expect(keys.body.keys ?? keys.body).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'first-start administrator', role: 'global-admin' })]));
    expect(keys.text).not.toContain(token!);

    const db = database.open();
    try {
      const rows = await db.kysely.selectFrom('api_keys').selectAll().execute();
      expect(rows).toHaveLength(1);
      expect(JSON.stringify(rows)).not.toContain(token!.slice(-20));
    } finally {
      await db.close();
    }
    // The token appears in the output once: in the banner, never in a log line.
    expect(first.output().split(token!).length - 1).toBe(1);
    await first.stop();

    const second = await start(database);
    await waitUntil('the hint to set MUSTER_ADMIN_TOKEN', () => second.output().includes('MUSTER_ADMIN_TOKEN is not set'), { intervalMs: 50 }).catch(() => undefined);
    expect(second.output()).toContain('MUSTER_ADMIN_TOKEN is not set');
    expect(second.output()).not.toMatch(TOKEN);
    expect((await call(second.baseUrl, 'GET', '/v1/tenants', { token: token! })).status).toBe(200);
    expect((await call(second.baseUrl, 'GET', '/v1/tenants', { token: null })).status).toBe(401);
    await second.stop();
  });

  it('issues nothing when MUSTER_ADMIN_TOKEN is set, and leads / to the console or the docs', async () => {
    const database = await createTestDatabase(kind);
    databases.push(database);
    const server = await start(database, { MUSTER_ADMIN_TOKEN: 'configured-admin-token-0123456789' });
    expect(server.output()).not.toMatch(TOKEN);
    const root = await fetch(`${server.baseUrl}/`, { redirect: 'manual' });
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toMatch(/^\/(docs|console\/)$/);
    const keys = await call(server.baseUrl, 'GET', '/v1/tenants/default/api-keys', { token: 'configured-admin-token-0123456789' });
    expect(keys.status, keys.text).toBe(200);
    expect(keys.text).not.toContain('first-start administrator');
    await server.stop();
  });
});
