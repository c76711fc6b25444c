import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { uniqueViolation, type Db } from '../src/storage/database.js';
import { migrateToLatest } from '../src/storage/migrate.js';
import { migrationsFor } from '../src/storage/migrations/index.js';
import { createTestDatabase, DATABASES, type TestDatabase } from './helpers/databases.js';
import { waitUntil } from './helpers/wait.js';

const NOW = '2024-01-01T00:00:00.000Z';

/**
 * Runs the migrations in `count` separate Node processes at once, as servers starting together
 * would: each loads and opens the database, and only when all are ready are they told to go.
 * Returns the names each applied.
 */
async function migrateInOtherProcesses(url: string, count: number): Promise<string[][]> {
  const script = fileURLToPath(new URL('./helpers/migrate-once.ts', import.meta.url));
  const children = Array.from({ length: count }, () => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, url], { stdio: ['pipe', 'pipe', 'pipe'] });
    const state = { stdout: '', stderr: '', exit: undefined as number | null | undefined };
    child.stdout.on('data', (chunk: Buffer) => (state.stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (state.stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve((state.exit = code))));
    return { child, state, exited };
  });
  try {
    await waitUntil(`${count} migrating processes to be ready`, () => {
      const failed = children.find((c) => c.state.exit !== undefined);
      if (failed) throw new Error(`a migrating process exited early: ${failed.state.stderr}`);
      return children.every((c) => c.state.stdout.startsWith('ready\n'));
    });
    for (const { child } of children) child.stdin.end('go\n');
    const codes = await Promise.all(children.map((c) => c.exited));
    codes.forEach((code, i) => expect(code, children[i]!.state.stderr).toBe(0));
    return children.map((c) => JSON.parse(c.state.stdout.slice('ready\n'.length)) as string[]);
  } finally {
    for (const { child } of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

describe.each(DATABASES)('migrations on %s', (kind) => {
  const opened: Db[] = [];
  const databases: TestDatabase[] = [];

  async function fresh(): Promise<{ database: TestDatabase; db: Db }> {
    const database = await createTestDatabase(kind);
    databases.push(database);
    const db = database.open();
    opened.push(db);
    return { database, db };
  }

  afterEach(async () => {
    for (const db of opened.splice(0)) await db.close();
    for (const database of databases.splice(0)) await database.drop();
  });

  async function tenant(db: Db, id: string): Promise<void> {
    await db.kysely
      .insertInto('tenants')
      .values({ id, name: id, seat_limit: null, email_domains: '{"allow":[],"block":[]}', password_policy: '{}', app_key: `app_${id}`, user_count: 0, users_revision: 0, created_at: NOW, updated_at: NOW })
      .execute();
  }

  function user(id: string, tenantId: string, emailKey: string, userNameKey: string) {
    return {
      id,
      tenant_id: tenantId,
      user_name: userNameKey,
      user_name_key: userNameKey,
      email: emailKey,
      email_key: emailKey,
      given_name: null,
      family_name: null,
      formatted_name: null,
      phone_number: null,
      department_id: null,
      location_id: null,
      program_admin_role_id: null,
      locked_out: 0,
      approved: 1,
      password_hash: null,
      revision: 1,
      created_at: NOW,
      updated_at: NOW,
    };
  }

  /** The driver's error for a write, or undefined when the write succeeded. */
  async function refusal(write: Promise<unknown>): Promise<unknown> {
    try {
      await write;
      return undefined;
    } catch (error) {
      return error;
    }
  }

  it('applies every migration, in order, to a fresh database', async () => {
    const { db } = await fresh();
    const applied = await migrateToLatest(db);
    expect(applied).toEqual(Object.keys(migrationsFor(kind)).sort());
    expect(applied[0]).toBe('0001-initial');
    const tables = (await db.kysely.introspection.getTables()).map((t) => t.name);
    expect(tables).toEqual(expect.arrayContaining(['tenants', 'api_keys', 'roles', 'catalog_entries', 'users', 'user_roles']));
  });

  it('does nothing when applied a second time', async () => {
    const { db } = await fresh();
    await migrateToLatest(db);
    await tenant(db, 'acme');
    expect(await migrateToLatest(db)).toEqual([]);
    const rows = await db.kysely.selectFrom('tenants').select('id').execute();
    expect(rows).toEqual([{ id: 'acme' }]);
  });

  it('does nothing when a second process opens an up-to-date database', async () => {
    const { database, db } = await fresh();
    await migrateToLatest(db);
    const second = database.open();
    opened.push(second);
    expect(await migrateToLatest(second)).toEqual([]);
  });

  it('applies each migration once when three processes start at the same time', async () => {
    const { database, db } = await fresh();
    const runs = await migrateInOtherProcesses(database.url, 3);
    expect(runs.flat().sort()).toEqual(Object.keys(migrationsFor(kind)).sort());
    expect(await migrateToLatest(db)).toEqual([]);
  });

  it('refuses a second user with the same email key in a tenant, in the database itself', async () => {
    const { db } = await fresh();
    await migrateToLatest(db);
    await tenant(db, 'acme');
    await tenant(db, 'globex');
    await db.kysely.insertInto('users').values(user('u1', 'acme', 'ada@example.com', 'ada')).execute();
    const error = await refusal(db.kysely.insertInto('users').values(user('u2', 'acme', 'ada@example.com', 'other')).execute());
    expect(error).toBeDefined();
    expect(uniqueViolation(error)).toBe('email');
    // Another tenant may hold the same key.
    await db.kysely.insertInto('users').values(user('u3', 'globex', 'ada@example.com', 'ada')).execute();
  });

  it('refuses a second user with the same user name key in a tenant, in the database itself', async () => {
    const { db } = await fresh();
    await migrateToLatest(db);
    await tenant(db, 'acme');
    await db.kysely.insertInto('users').values(user('u1', 'acme', 'a@example.com', 'shared')).execute();
    const error = await refusal(db.kysely.insertInto('users').values(user('u2', 'acme', 'b@example.com', 'shared')).execute());
    expect(uniqueViolation(error)).toBe('userName');
  });

  it('refuses a user of a tenant that does not exist, and a role that does not exist', async () => {
    const { db } = await fresh();
    await migrateToLatest(db);
    expect(await refusal(db.kysely.insertInto('users').values(user('u1', 'ghost', 'a@example.com', 'a')).execute())).toBeDefined();
    await tenant(db, 'acme');
    await db.kysely.insertInto('users').values(user('u1', 'acme', 'a@example.com', 'a')).execute();
    expect(await refusal(db.kysely.insertInto('user_roles').values({ user_id: 'u1', tenant_id: 'acme', role_name: 'ghost' }).execute())).toBeDefined();
  });

  it('keeps user numbers unique and growing, even after a delete', async () => {
    const { db } = await fresh();
    await migrateToLatest(db);
    await tenant(db, 'acme');
    const first = await db.kysely.insertInto('users').values(user('u1', 'acme', 'a@example.com', 'a')).returning('number').executeTakeFirstOrThrow();
    await db.kysely.deleteFrom('users').where('id', '=', 'u1').execute();
    const second = await db.kysely.insertInto('users').values(user('u2', 'acme', 'b@example.com', 'b')).returning('number').executeTakeFirstOrThrow();
    expect(Number(second.number)).toBeGreaterThan(Number(first.number));
  });

  it('refuses two tenants with the same app key', async () => {
    const { db } = await fresh();
    await migrateToLatest(db);
    await tenant(db, 'acme');
    const error = await refusal(
      db.kysely
        .insertInto('tenants')
        .values({ id: 'other', name: 'x', seat_limit: null, email_domains: '{}', password_policy: '{}', app_key: 'app_acme', user_count: 0, users_revision: 0, created_at: NOW, updated_at: NOW })
        .execute(),
    );
    expect(uniqueViolation(error)).toBe('other');
  });
});
