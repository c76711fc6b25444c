/**
 * The users transaction ends as its work decides, on both databases: a `rollback` decision
 * writes nothing and throws nothing, and neither a decided rollback nor a thrown error keeps a
 * connection (more of them than the pool holds still leave the database usable).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../src/core/credentials/actor.js';
import type { CoreDeps } from '../src/core/ports.js';
import { createTenant } from '../src/core/tenants/create-tenant.js';
import { createUsers, writePlan } from '../src/core/users/create-users.js';
import { planCreates } from '../src/core/users/plan-creates.js';
import { createDependencies, prepareDatabase } from '../src/dependencies.js';
import type { Db } from '../src/storage/database.js';
import { createTestDatabase, DATABASES, type TestDatabase } from './helpers/databases.js';

const GLOBAL: Actor = { keyId: 'bootstrap', role: 'global-admin', tenantId: null };

describe.each(DATABASES)('the users transaction on %s', (kind) => {
  let database: TestDatabase;
  let db: Db;
  let core: CoreDeps;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    db = database.open();
    core = createDependencies(db);
    await prepareDatabase(db, core);
    await createTenant(core, GLOBAL, { id: 'decided' });
  });
  afterAll(async () => {
    await db.close();
    await database.drop();
  });

  const emails = async () => (await db.kysely.selectFrom('users').select('email').where('tenant_id', '=', 'decided').orderBy('email').execute()).map((u) => u.email);

  it('commits or rolls back as the work decides, returning its value either way, and keeps no connection', async () => {
    const planned = (email: string) => planCreates(core, 'decided', GLOBAL, [{ email }], { notify: false });
    // More transactions of each kind than PostgreSQL's pool has connections.
    for (let i = 0; i < 12; i++) {
      const plan = await planned(`rolled-${i}@decided.test`);
      const report = await core.users.transaction(async (tx) => ({ decision: 'rollback' as const, value: await writePlan(core, plan, { within: tx }) }));
      expect(report.outcomes[0]?.status).toBe('created');
      const failing = await planned(`thrown-${i}@decided.test`);
      await expect(core.users.transaction(async (tx) => {
        await writePlan(core, failing, { within: tx });
        throw new Error('the caller failed');
      })).rejects.toThrow('the caller failed');
    }
    const kept = await planned('kept@decided.test');
    const report = await core.users.transaction(async (tx) => ({ decision: 'commit' as const, value: await writePlan(core, kept, { within: tx }) }));
    expect(report.committed).toBe(true);
    expect(await emails()).toEqual(['kept@decided.test']);
    expect((await core.tenants.get('decided'))?.userCount).toBe(1);
  });

  it('rolls back an atomic batch the write refuses, by the writer\'s decision, writing nothing', async () => {
    const plan = await planCreates(core, 'decided', GLOBAL, [{ email: 'first@decided.test' }, { email: 'second@decided.test' }], { atomic: true, notify: false });
    await createUsers(core, 'decided', GLOBAL, [{ email: 'second@decided.test' }], { notify: false });
    const result = await writePlan(core, plan);
    expect(result).toMatchObject({ committed: false, atomic: true });
    expect(result.outcomes.map((o) => o.status)).toEqual(['valid', 'failed']);
    expect(await emails()).toEqual(['kept@decided.test', 'second@decided.test']);
  });
});
