import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/storage/database.js';
import { migrateToLatest } from '../src/storage/migrate.js';
import { withStatementCache } from '../src/storage/sqlite-tuning.js';
import { DATABASES } from './helpers/databases.js';
import { createTenant } from './helpers/native-fixtures.js';
import { startTestApp, type TestApp } from './helpers/test-app.js';
import { waitUntil } from './helpers/wait.js';

describe.each(DATABASES)('bulk writes on %s', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(kind);
    await createTenant(t, { id: 'bulk', name: 'Bulk' });
  });
  afterAll(async () => t.close());

  it('stores every field of a 1000-user batch as sent, quotes, commas, braces and missing values included', async () => {
    const users = Array.from({ length: 1000 }, (_, i) => ({
      email: `bulk${i}@example.com`,
      name: i % 2 === 0 ? { givenName: `O'Brien, "Jr" {${i}}`, familyName: 'Back\\slash NULL' } : { givenName: 'Solo' },
      ...(i % 3 === 0 && { phoneNumber: '+4930123456' }),
    }));
    const res = await t.call('POST', '/v1/tenants/bulk/users/batch', { body: { users } });
    expect(res.status, res.text).toBe(200);
    expect(res.body.successCount).toBe(1000);
    const rows = await t.db.kysely.selectFrom('users').select(['email', 'given_name', 'family_name', 'phone_number']).where('tenant_id', '=', 'bulk').orderBy('number').execute();
    expect(rows).toHaveLength(1000);
    expect(rows[0]).toEqual({ email: 'bulk0@example.com', given_name: `O'Brien, "Jr" {0}`, family_name: 'Back\\slash NULL', phone_number: '+4930123456' });
    expect(rows[1]).toEqual({ email: 'bulk1@example.com', given_name: 'Solo', family_name: null, phone_number: null });
    const audit = await t.db.kysely.selectFrom('audit_events').select('resource_id').where('tenant_id', '=', 'bulk').where('action', '=', 'user.created').execute();
    expect(audit).toHaveLength(1000);
  });

  it('still reports the taken emails of a second batch as duplicates, one per user', async () => {
    const users = [{ email: 'bulk5@example.com' }, { email: 'fresh@example.com' }, { email: 'BULK7@example.com' }];
    const res = await t.call('POST', '/v1/tenants/bulk/users/batch', { body: { users } });
    expect(res.status, res.text).toBe(200);
    expect(res.body.successCount).toBe(1);
    expect(JSON.stringify(res.body)).toContain('DUPLICATE_EMAIL');
  });
});

describe('the SQLite statement cache', () => {
  it('hands out a fresh statement while the cached one is still being iterated', () => {
    const raw = new SQLite(':memory:');
    const db = withStatementCache(raw);
    raw.exec('create table t (n integer); insert into t values (1), (2), (3)');
    const first = db.prepare('select n from t order by n') as unknown as SQLite.Statement;
    const iterator = first.iterate();
    expect(iterator.next().value).toEqual({ n: 1 });
    const second = db.prepare('select n from t order by n') as unknown as SQLite.Statement;
    expect(second).not.toBe(first);
    expect(second.all()).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    iterator.return?.();
    expect(db.prepare('select n from t order by n')).toBe(first);
    raw.close();
  });
});

describe('the SQLite write-ahead log', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'muster-wal-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is copied into the database file in the background, without a commit doing it', async () => {
    const path = join(dir, 'muster.db');
    const db = openDatabase(`sqlite:${path}`);
    try {
      await migrateToLatest(db);
      const before = statSync(path).size;
      await db.write(async (trx) => {
        for (let i = 0; i < 20; i++) {
          await trx.insertInto('tenants').values({ id: `t${i}`, name: 'x'.repeat(200_000), email_domains: '[]', password_policy: '{}', app_key: `k${i}`, created_at: '2026-01-01T00:00:00.000Z', updated_at: '2026-01-01T00:00:00.000Z' } as never).execute();
        }
      });
      expect(existsSync(`${path}-wal`)).toBe(true);
      // The checkpoint runs on its own timer: wait for the file to grow, however long a busy machine takes.
      const after = await waitUntil('the write-ahead log to be copied into the file', () => {
        const size = statSync(path).size;
        return size > before + 2_000_000 && size;
      }, { intervalMs: 20 });
      expect(after).toBeGreaterThan(before + 2_000_000);
    } finally {
      await db.close();
    }
  });
});
