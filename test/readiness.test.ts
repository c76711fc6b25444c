/**
 * /readyz reports whether an instance should get traffic: the database answers, every
 * migration of this build is applied, and it is not draining. /healthz stays liveness.
 */
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { createDependencies, prepareDatabase } from '../src/dependencies.js';
import type { Db } from '../src/storage/database.js';
import { createOperationalStats } from '../src/storage/operational-stats.js';
import { createTestDatabase, DATABASES, type TestDatabase } from './helpers/databases.js';
import { ADMIN_TOKEN } from './helpers/test-app.js';

describe.each(DATABASES)('/readyz on %s', (kind) => {
  let database: TestDatabase;
  let db: Db;
  let app: FastifyInstance;
  let dbClosed = false;

  async function start(): Promise<void> {
    database = await createTestDatabase(kind);
    db = database.open();
    dbClosed = false;
    const core = createDependencies(db);
    await prepareDatabase(db, core);
    app = await buildApp({ core, adminToken: ADMIN_TOKEN, rateLimitPerMinute: 1000, rootUsers: 'simple', stats: createOperationalStats(db) });
  }
  afterEach(async () => {
    await app?.close();
    if (!dbClosed) await db?.close();
    await database?.drop();
  });

  const readyz = async () => {
    const res = await app.inject({ method: 'GET', url: '/readyz' });
    return { status: res.statusCode, body: res.json() };
  };

  it('is ready when the database answers and every migration is applied', async () => {
    await start();
    expect(await readyz()).toEqual({ status: 200, body: { status: 'ready', checks: { draining: 'ok', database: 'ok', migrations: 'ok' } } });
  });

  it('names a migration the database has not applied', async () => {
    await start();
    await sql`delete from muster_migrations where name = ${'0010-fleet'}`.execute(db.kysely);
    expect(await readyz()).toEqual({ status: 503, body: { status: 'not-ready', checks: { draining: 'ok', database: 'ok', migrations: 'pending: 0010-fleet' } } });
  });

  it('turns 503 draining once a shutdown begins, while /healthz still answers', async () => {
    await start();
    app.startDraining();
    expect(await readyz()).toEqual({ status: 503, body: { status: 'not-ready', checks: { draining: 'draining', database: 'ok', migrations: 'ok' } } });
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });

  it('reports the database unreachable once it no longer answers', async () => {
    await start();
    await db.close();
    dbClosed = true;
    expect(await readyz()).toEqual({ status: 503, body: { status: 'not-ready', checks: { draining: 'ok', database: 'unreachable', migrations: 'unknown' } } });
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });
});
