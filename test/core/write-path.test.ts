/**
 * The create path's parts driven directly, without HTTP, on a real SQLite file: the planner
 * (src/core/users/plan-creates.ts), the writer (write-users.ts), the group commit around it
 * (group-commit.ts) and the orchestration (create-users.ts). The clock and the ids are injected,
 * so the ids and times in the results are asserted exactly. Transactions are counted, and faults
 * injected, by a wrapper around the real users store: every write reaches the database.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Actor } from '../../src/core/credentials/actor.js';
import type { CoreDeps, Ids, UserStore, UserWriteTx } from '../../src/core/ports.js';
import { createTenant } from '../../src/core/tenants/create-tenant.js';
import { createUsers, writePlan, type CreateUsersResult } from '../../src/core/users/create-users.js';
import { groupCommit } from '../../src/core/users/group-commit.js';
import { planCreates, type CreatePlan } from '../../src/core/users/plan-creates.js';
import { transactionWriter, writeUsers } from '../../src/core/users/write-users.js';
import { createDependencies, createUserWrites, prepareDatabase } from '../../src/dependencies.js';
import type { Db } from '../../src/storage/database.js';
import { createTestDatabase, type TestDatabase } from '../helpers/databases.js';
import { manualClock, type ManualClock } from '../helpers/manual-clock.js';

const GLOBAL: Actor = { keyId: 'bootstrap', role: 'global-admin', tenantId: null };
const START = Date.parse('2030-01-02T03:04:05.000Z');

/** Ids in sequence: `…-8<series>-<n>`, the series changed by each test so that no two tests share an id. */
interface SequentialIds extends Ids {
  series(n: number): void;
}

function sequentialIds(): SequentialIds {
  let series = 0;
  let n = 0;
  return {
    series(next) {
      series = next;
      n = 0;
    },
    uuid: () => `00000000-0000-7000-8${String(series).padStart(3, '0')}-${String(++n).padStart(12, '0')}`,
    secret(bytes) {
      const value = Buffer.alloc(bytes);
      value.writeUInt32BE(series, 0);
      value.writeUInt32BE(++n, 4);
      return value.toString('base64url');
    },
  };
}

/** What the wrapper around the users store saw and does. */
interface StoreProbe {
  /** Transactions begun (attempts included), and how each ended. */
  transactions: ('commit' | 'rollback' | 'error')[];
  /** Emails whose row is given a role that does not exist: the database refuses the insert. */
  foreignKey: Set<string>;
  /** When set, each transaction's work runs once in a transaction rolled back, then again: as the store does after a deadlock. */
  retryOnce: boolean;
}

function probedUsers(users: UserStore, probe: StoreProbe): UserStore {
  const faulty = (tx: UserWriteTx): UserWriteTx => ({
    ...tx,
    insertUsers: (rows) => tx.insertUsers(rows.map((row) => (probe.foreignKey.has(row.email) ? { ...row, roles: [...row.roles, 'Role Deleted Meanwhile'] } : row))),
  });
  const counted: UserStore['transaction'] = (work) =>
    users.transaction(async (tx) => {
      try {
        const decision = await work(faulty(tx));
        probe.transactions.push(decision.decision);
        return decision;
      } catch (error) {
        probe.transactions.push('error');
        throw error;
      }
    });
  return {
    ...users,
    transaction: async (work) => {
      if (probe.retryOnce) await counted(async (tx) => ({ decision: 'rollback', value: (await work(tx)).value }));
      return counted(work);
    },
  };
}

describe('the create path, part by part, on a SQLite file', () => {
  let database: TestDatabase;
  let db: Db;
  let clock: ManualClock;
  let ids: SequentialIds;
  let probe: StoreProbe;
  /** The core with the injected clock and ids, and the probed store under its writer. */
  let core: CoreDeps;
  let series = 0;

  beforeAll(async () => {
    database = await createTestDatabase('sqlite');
    db = database.open();
    clock = manualClock(START);
    ids = sequentialIds();
    probe = { transactions: [], foreignKey: new Set(), retryOnce: false };
    const real = createDependencies(db);
    const users = probedUsers(real.users, probe);
    core = { ...real, clock, ids, users, userWrites: createUserWrites({ users, clock, ids }) };
    await prepareDatabase(db, core);
  });
  afterAll(async () => {
    await db.close();
    await database.drop();
  });
  beforeEach(() => {
    ids.series(++series);
    probe.transactions.length = 0;
    probe.foreignKey.clear();
    probe.retryOnce = false;
  });

  /** A new tenant of its own for a test, made with ids of another series: the test's series starts at 1 after it. */
  async function tenant(id: string, seatLimit?: number): Promise<string> {
    ids.series(500 + series);
    await createTenant(core, GLOBAL, { id, ...(seatLimit !== undefined && { seatLimit }) });
    ids.series(series);
    return id;
  }
  const id = (n: number) => `00000000-0000-7000-8${String(series).padStart(3, '0')}-${String(n).padStart(12, '0')}`;
  const usersOf = (tenantId: string) => db.kysely.selectFrom('users').select(['id', 'email', 'number']).where('tenant_id', '=', tenantId).orderBy('number').execute();
  const auditOf = (tenantId: string) => db.kysely.selectFrom('audit_events').select(['id', 'resource_id', 'at']).where('tenant_id', '=', tenantId).where('action', '=', 'user.created').orderBy('resource_id').execute();
  const statuses = (result: CreateUsersResult) => result.outcomes.map((o) => (o.status === 'failed' ? `${o.index}:${o.error.code}` : `${o.index}:${o.status}`));
  const seatsUsed = async (tenantId: string) => (await core.tenants.get(tenantId))!.userCount;
  async function plan(tenantId: string, drafts: unknown[], options: Parameters<typeof planCreates>[4] = {}): Promise<CreatePlan & { kind: 'write' }> {
    const planned = await planCreates(core, tenantId, GLOBAL, drafts, { notify: false, ...options });
    if (planned.kind !== 'write') throw new Error(`expected a plan to write, got ${planned.kind}`);
    return planned;
  }

  it('reports one outcome per draft in input order, with the injected ids and time, in one transaction', async () => {
    const t = await tenant('order');
    clock.advance(1000);
    const result = await createUsers(core, t, GLOBAL, [{ email: 'ada@order.test' }, { email: 'not an email' }, { email: 'bob@order.test', userName: 'bob' }], { notify: false });
    expect(statuses(result)).toEqual(['0:created', '1:INVALID_FIELD', '2:created']);
    const [ada, , bob] = result.outcomes;
    const at = new Date(START + 1000).toISOString();
    expect(ada).toMatchObject({ status: 'created', user: { id: id(1), email: 'ada@order.test', userName: 'ada@order.test', createdAt: at, updatedAt: at, revision: 1 } });
    expect(bob).toMatchObject({ status: 'created', user: { id: id(2), userName: 'bob', createdAt: at } });
    expect(result).toMatchObject({ committed: true, dryRun: false, atomic: false, usersRevision: 1 });
    expect(probe.transactions).toEqual(['commit']);
    expect((await usersOf(t)).map((u) => u.id)).toEqual([id(1), id(2)]);
    // Each user's audit event, with the next ids drawn and the same time.
    expect(await auditOf(t)).toEqual([
      { id: id(3), resource_id: id(1), at },
      { id: id(4), resource_id: id(2), at },
    ]);
  });

  it('fails a duplicate within the batch and one already in the tenant, creating the others', async () => {
    const t = await tenant('dups');
    await createUsers(core, t, GLOBAL, [{ email: 'taken@dups.test' }], { notify: false });
    const result = await createUsers(core, t, GLOBAL, [{ email: 'new@dups.test' }, { email: 'NEW@dups.test' }, { email: 'taken@dups.test' }, { email: 'other@dups.test', userName: 'new@dups.test' }], { notify: false });
    expect(statuses(result)).toEqual(['0:created', '1:DUPLICATE_EMAIL', '2:DUPLICATE_EMAIL', '3:DUPLICATE_USERNAME']);
    const failed = result.outcomes.flatMap((o) => (o.status === 'failed' ? [o.error.errors.map((e) => e.message)] : []));
    expect(failed).toEqual([
      ['This email address is already used by an earlier record of this batch.'],
      ['This email address is already used in this tenant.'],
      ['This user name is already used by an earlier record of this batch.'],
    ]);
    expect((await usersOf(t)).map((u) => u.email)).toEqual(['taken@dups.test', 'new@dups.test']);
  });

  it('fails the drafts past the seats left, and counts only the users kept', async () => {
    const t = await tenant('seats', 2);
    const result = await createUsers(core, t, GLOBAL, [{ email: 'a@seats.test' }, { email: 'b@seats.test' }, { email: 'c@seats.test' }], { notify: false });
    expect(statuses(result)).toEqual(['0:created', '1:created', '2:SEAT_LIMIT_EXCEEDED']);
    expect(await seatsUsed(t)).toBe(2);
    expect(statuses(await createUsers(core, t, GLOBAL, [{ email: 'd@seats.test' }], { notify: false }))).toEqual(['0:SEAT_LIMIT_EXCEEDED']);
    expect(await seatsUsed(t)).toBe(2);
  });

  it('writes nothing for a dry run, and opens no transaction', async () => {
    const t = await tenant('dry');
    const result = await createUsers(core, t, GLOBAL, [{ email: 'a@dry.test' }, { email: 'a@dry.test' }], { dryRun: true });
    expect(statuses(result)).toEqual(['0:valid', '1:DUPLICATE_EMAIL']);
    expect(result).toMatchObject({ dryRun: true, committed: false, usersRevision: 0 });
    expect(probe.transactions).toEqual([]);
    expect(await usersOf(t)).toEqual([]);
  });

  it('rolls an atomic batch back when the write finds a duplicate the plan did not, writing nothing', async () => {
    const t = await tenant('atomic');
    const planned = await plan(t, [{ email: 'x@atomic.test' }, { email: 'y@atomic.test' }], { atomic: true });
    // Taken between the plan and the write: only the unique index can find it.
    await createUsers(core, t, GLOBAL, [{ email: 'y@atomic.test' }], { notify: false });
    probe.transactions.length = 0;
    const result = await writePlan(core, planned);
    expect(statuses(result)).toEqual(['0:valid', '1:DUPLICATE_EMAIL']);
    expect(result).toMatchObject({ atomic: true, committed: false, usersRevision: 0 });
    // The writer decided, the store rolled back: no error was thrown for it.
    expect(probe.transactions).toEqual(['rollback']);
    expect((await usersOf(t)).map((u) => u.email)).toEqual(['y@atomic.test']);
    expect(await auditOf(t)).toHaveLength(1);
    expect(await seatsUsed(t)).toBe(1);
  });

  it('refuses every draft when the expected users revision is stale, at planning or at the write', async () => {
    const t = await tenant('stale');
    // Stale before planning: the drafts are not even looked at.
    const early = await createUsers(core, t, GLOBAL, [{ email: 'not an email' }], { expectedUsersRevision: 7 });
    expect(statuses(early)).toEqual(['0:PRECONDITION_FAILED']);
    expect(early.usersRevision).toBe(0);
    expect(probe.transactions).toEqual([]);
    // Current when planned, stale when written: the writer's check with the tenant row locked refuses it.
    const planned = await plan(t, [{ email: 'a@stale.test' }, { email: 'b@stale.test' }], { expectedUsersRevision: 0 });
    await createUsers(core, t, GLOBAL, [{ email: 'meanwhile@stale.test' }], { notify: false });
    probe.transactions.length = 0;
    const late = await writePlan(core, planned);
    expect(statuses(late)).toEqual(['0:PRECONDITION_FAILED', '1:PRECONDITION_FAILED']);
    expect(late.outcomes[0]).toMatchObject({ error: { message: 'The users revision has changed; it is now 1.' } });
    expect(late).toMatchObject({ committed: false, usersRevision: 1 });
    expect(probe.transactions).toEqual(['rollback']);
    expect((await usersOf(t)).map((u) => u.email)).toEqual(['meanwhile@stale.test']);
  });

  it('writes the calls of one tenant that arrive together in one transaction, each with its own outcome', async () => {
    const t = await tenant('group');
    const plans = await Promise.all(['a', 'b', 'c', 'd'].map((name) => plan(t, [{ email: `${name}@group.test` }, { email: `${name}2@group.test` }])));
    const results = await Promise.all(plans.map((p) => writePlan(core, p)));
    expect(probe.transactions).toEqual(['commit']);
    expect(results.map(statuses)).toEqual(plans.map(() => ['0:created', '1:created']));
    expect(results.map((r) => r.outcomes.map((o) => (o.status === 'created' ? o.user.email : '')))).toEqual([
      ['a@group.test', 'a2@group.test'],
      ['b@group.test', 'b2@group.test'],
      ['c@group.test', 'c2@group.test'],
      ['d@group.test', 'd2@group.test'],
    ]);
    // One seat count for the group: every call sees the revision after it.
    expect(results.map((r) => r.usersRevision)).toEqual([1, 1, 1, 1]);
    expect(await seatsUsed(t)).toBe(8);
    expect(await auditOf(t)).toHaveLength(8);
  });

  it('caps a group at its row limit: the calls past it form the next group', async () => {
    const t = await tenant('capped');
    const writer = groupCommit(transactionWriter(core), 3);
    const plans = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((name) => plan(t, [{ email: `${name}@capped.test` }])));
    const results = await Promise.all(plans.map((p) => writePlan({ ...core, userWrites: writer }, p)));
    expect(results.map((r) => r.usersRevision)).toEqual([1, 1, 1, 2, 2]);
    expect(probe.transactions).toEqual(['commit', 'commit']);
    expect(await seatsUsed(t)).toBe(5);
  });

  it('writes the parts of a group that failed again one by one: only the guilty part fails', async () => {
    const t = await tenant('faults');
    const plans = await Promise.all(['ada', 'guilty', 'bob'].map((name) => plan(t, [{ email: `${name}@faults.test` }, { email: `${name}2@faults.test` }])));
    probe.foreignKey.add('guilty2@faults.test');
    const settled = await Promise.allSettled(plans.map((p) => writePlan(core, p)));
    // The group failed and wrote nothing; then each part alone.
    expect(probe.transactions).toEqual(['error', 'commit', 'error', 'commit']);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const [ada, , bob] = settled.map((s) => (s.status === 'fulfilled' ? s.value : undefined));
    expect(statuses(ada!)).toEqual(['0:created', '1:created']);
    expect(statuses(bob!)).toEqual(['0:created', '1:created']);
    expect((await usersOf(t)).map((u) => u.email)).toEqual(['ada@faults.test', 'ada2@faults.test', 'bob@faults.test', 'bob2@faults.test']);
    expect(await seatsUsed(t)).toBe(4);
    expect(await auditOf(t)).toHaveLength(4);
  });

  it('reports a failure the write found once, when the store runs the transaction again', async () => {
    const t = await tenant('retry');
    await createUsers(core, t, GLOBAL, [{ email: 'taken@retry.test' }], { notify: false });
    probe.transactions.length = 0;
    probe.retryOnce = true;
    // No password, no seat limit, not atomic: the plan skips the duplicate read, and the write finds it.
    const result = await createUsers(core, t, GLOBAL, [{ email: 'new@retry.test' }, { email: 'taken@retry.test' }], { notify: false });
    expect(probe.transactions).toEqual(['rollback', 'commit']);
    expect(statuses(result)).toEqual(['0:created', '1:DUPLICATE_EMAIL']);
    expect(result.outcomes[1]).toMatchObject({ error: { errors: [{ code: 'DUPLICATE_EMAIL' }] } });
    expect(result.outcomes[1]!.status === 'failed' && result.outcomes[1]!.error.errors).toHaveLength(1);
    expect(await seatsUsed(t)).toBe(2);
  });

  it('writes in a caller\'s own transaction: committed with the caller\'s writes, rolled back with them', async () => {
    const t = await tenant('within');
    const kept = await plan(t, [{ email: 'kept@within.test' }]);
    const result = await core.users.transaction(async (tx) => ({ decision: 'commit' as const, value: await writePlan(core, kept, { within: tx }) }));
    expect(statuses(result)).toEqual(['0:created']);
    // The caller decides: rolled back, the users written in its transaction are gone.
    const dropped = await plan(t, [{ email: 'dropped@within.test' }]);
    const report = await core.users.transaction(async (tx) => ({ decision: 'rollback' as const, value: await writePlan(core, dropped, { within: tx }) }));
    expect(statuses(report)).toEqual(['0:created']);
    expect((await usersOf(t)).map((u) => u.email)).toEqual(['kept@within.test']);
    expect(await seatsUsed(t)).toBe(1);
    // An atomic or revision-checked plan needs a transaction of its own.
    const atomic = await plan(t, [{ email: 'atomic@within.test' }], { atomic: true });
    await expect(core.users.transaction(async (tx) => ({ decision: 'commit' as const, value: await writePlan(core, atomic, { within: tx }) }))).rejects.toThrow(/transaction of its own/);
    expect(await usersOf(t)).toHaveLength(1);
  });

  it('rolls everything back, as an import chunk does, when beforeCommit throws in the caller\'s transaction', async () => {
    const t = await tenant('import-style');
    const planned = await plan(t, [{ email: 'one@import.test' }, { email: 'one@import.test' }, { email: 'two@import.test' }], { notify: true });
    let seen: string[] = [];
    const chunk = core.imports.chunkTransaction((users) =>
      writePlan(core, planned, {
        within: users,
        beforeCommit: async (outcomes) => {
          seen = outcomes.map((o) => o.status);
          throw new Error('the chunk could not be recorded');
        },
      }),
    );
    await expect(chunk).rejects.toThrow('the chunk could not be recorded');
    // beforeCommit saw the outcomes as they would have been reported, then nothing was kept.
    expect(seen).toEqual(['created', 'failed', 'created']);
    expect(await usersOf(t)).toEqual([]);
    expect(await auditOf(t)).toEqual([]);
    expect(await seatsUsed(t)).toBe(0);
    expect(await db.kysely.selectFrom('email_messages').select('id').where('tenant_id', '=', t).execute()).toEqual([]);
    // The same plan written again in a new transaction starts from the same failures.
    const written = await core.imports.chunkTransaction((users) => writePlan(core, planned, { within: users }));
    expect(statuses(written)).toEqual(['0:created', '1:DUPLICATE_EMAIL', '2:created']);
    expect(written.outcomes[1]!.status === 'failed' && written.outcomes[1]!.error.errors).toHaveLength(1);
    expect((await db.kysely.selectFrom('email_messages').select('to_address').where('tenant_id', '=', t).orderBy('to_address').execute()).map((m) => m.to_address)).toEqual(['one@import.test', 'two@import.test']);
  });

  it('lets the writer run in any open users transaction, deciding without throwing', async () => {
    const t = await tenant('writer');
    const planned = await plan(t, [{ email: 'w@writer.test' }]);
    const result = await core.users.transaction(async (tx) => {
      const written = await writeUsers(core, tx, t, [planned.part]);
      return { decision: written.decision, value: written };
    });
    expect(result.decision).toBe('commit');
    expect([...result.parts[0]!.inserted.keys()]).toEqual([id(1)]);
    expect(result.decision === 'commit' && result.usersRevision).toBe(1);
  });
});
