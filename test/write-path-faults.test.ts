import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import type { CoreDeps, UserStore, UserWriteTx } from '../src/core/ports.js';
import { createDependencies, prepareDatabase } from '../src/dependencies.js';
import type { Db } from '../src/storage/database.js';
import { createTestDatabase, DATABASES } from './helpers/databases.js';
import { createTenant, expectProblem, usersWithEmail } from './helpers/native-fixtures.js';
import { ADMIN_TOKEN, call, type CallOptions, type TestApp } from './helpers/test-app.js';
import { waitUntil } from './helpers/wait.js';

/**
 * Group commit writes the creates of one tenant that arrive together in one transaction. These
 * tests put a fault into one of them — a real foreign-key violation from the database (as after
 * a role deleted between the reference check and the write), or a failure while writing its
 * messages — and check that only that request fails while those grouped with it are created.
 *
 * The fault is injected by a wrapper around the real user store (no mock: every write reaches
 * the real SQLite file or PostgreSQL database). The wrapper also holds the first write of a test
 * until the others have queued behind it, so that they are sure to form one group.
 */
interface Faults {
  /** Emails whose user row gets a role that does not exist: the database refuses the insert. */
  foreignKey: Set<string>;
  /** Emails whose message makes writing the outbox fail. */
  outbox: Set<string>;
  /** While set, the next transaction waits for it before it begins. */
  hold?: Promise<void>;
  /** The emails each transaction attempt was given, in order. */
  attempts: string[][];
  /** How many creates have had their passwords hashed (the last step before they queue for the write). */
  hashed: number;
}

function withFaults(core: CoreDeps, faults: Faults): CoreDeps {
  const faultyTx = (tx: UserWriteTx, emails: string[]): UserWriteTx => ({
    ...tx,
    insertUsers: (rows) => {
      emails.push(...rows.map((row) => row.email));
      return tx.insertUsers(rows.map((row) => (faults.foreignKey.has(row.email) ? { ...row, roles: [...row.roles, 'Role Deleted Meanwhile'] } : row)));
    },
    insertEmails: async (batch) => {
      if (batch.messages.some((message) => faults.outbox.has(message.to))) throw new Error('the message could not be written');
      return tx.insertEmails(batch);
    },
  });
  const users: UserStore = {
    ...core.users,
    transaction: async (work) => {
      const hold = faults.hold;
      faults.hold = undefined;
      if (hold) await hold;
      return core.users.transaction((tx) => {
        const emails: string[] = [];
        faults.attempts.push(emails);
        return work(faultyTx(tx, emails));
      });
    },
  };
  const hasher = {
    ...core.hasher,
    hashAll: async (...args: Parameters<CoreDeps['hasher']['hashAll']>) => {
      const hashes = await core.hasher.hashAll(...args);
      faults.hashed++;
      return hashes;
    },
  };
  return { ...core, users, hasher };
}

describe.each(DATABASES)('a fault in one grouped create on %s', (kind) => {
  let t: TestApp;
  let db: Db;
  const faults: Faults = { foreignKey: new Set(), outbox: new Set(), attempts: [], hashed: 0 };

  // As startTestApp, with the faulty store in the application's dependencies.
  beforeAll(async () => {
    const database = await createTestDatabase(kind);
    db = database.open();
    const core = withFaults(createDependencies(db), faults);
    await prepareDatabase(db, core);
    const app = await buildApp({ core, adminToken: ADMIN_TOKEN, rateLimitPerMinute: 100_000, rootUsers: 'simple' });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const baseUrl = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    t = {
      app,
      baseUrl,
      db,
      database,
      core,
      call: (method, path, options) => call(baseUrl, method, path, options),
      async close() {
        await app.close();
        await db.close();
        await database.drop();
      },
    };
  });
  afterAll(async () => t?.close());

  /**
   * Sends `first`, holds its write until `others` have all queued behind it, then lets it go:
   * the others are then written as one group. Returns the answers in order (first, ...others).
   */
  async function grouped(tenant: string, first: CallOptions, others: { path: string; options: CallOptions }[]) {
    let release!: () => void;
    faults.hold = new Promise<void>((resolve) => (release = resolve));
    const hashedBefore = faults.hashed;
    const answers = [t.call('POST', `/v1/tenants/${tenant}/users`, first)];
    await waitUntil('the first create to reach its write', () => faults.hashed === hashedBefore + 1);
    answers.push(...others.map(({ path, options }) => t.call('POST', `/v1/tenants/${tenant}${path}`, options)));
    await waitUntil('every other create to queue behind it', () => faults.hashed === hashedBefore + 1 + others.length);
    release();
    return Promise.all(answers);
  }

  /** The transaction attempts that wrote the given emails together. */
  function attemptsWith(...emails: string[]): string[][] {
    return faults.attempts.filter((attempt) => emails.every((email) => attempt.includes(email)));
  }

  it('creates the users grouped with one whose insert the database refuses, and fails only that one', async () => {
    await createTenant(t, { id: 'fk-fault' });
    const guilty = 'guilty@fk.example.com';
    faults.foreignKey.add(guilty);
    const neighbours = ['ada@fk.example.com', 'bob@fk.example.com', 'cy@fk.example.com', 'di@fk.example.com'];
    const [first, ...answers] = await grouped('fk-fault', { body: { email: 'first@fk.example.com' } }, [
      ...neighbours.slice(0, 2).map((email) => ({ path: '/users', options: { body: { email } } })),
      { path: '/users', options: { body: { email: guilty } } },
      ...neighbours.slice(2).map((email) => ({ path: '/users', options: { body: { email } } })),
    ]);

    // They really were written together once, and that transaction failed.
    expect(attemptsWith(guilty, ...neighbours)).toHaveLength(1);
    expect(first!.status, first!.text).toBe(201);
    const [a, b, fault, c, d] = answers;
    for (const answer of [a, b, c, d]) expect(answer!.status, answer!.text).toBe(201);
    expect([a, b, c, d].map((answer) => answer!.body.email)).toEqual(neighbours);
    // The guilty request alone fails, without the database's words in its answer.
    const problem = expectProblem(fault!, 500, 'SERVER_ERROR');
    expect(JSON.stringify(problem)).not.toMatch(/foreign|constraint|Role Deleted/i);

    for (const email of neighbours) {
      const [user] = await usersWithEmail(t, 'fk-fault', email);
      expect(user?.email).toBe(email);
    }
    expect(await usersWithEmail(t, 'fk-fault', guilty)).toEqual([]);
    // Each user kept is counted once, and has the audit event of its creation.
    expect((await t.call('GET', '/v1/tenants/fk-fault')).body.seatsUsed).toBe(5);
    const audit = await db.kysely.selectFrom('audit_events').select(['resource_id']).where('tenant_id', '=', 'fk-fault').where('action', '=', 'user.created').execute();
    expect(audit).toHaveLength(5);
  });

  it('keeps each neighbour batch\'s report exact when one grouped create fails while its message is written', async () => {
    await createTenant(t, { id: 'mail-fault' });
    const taken = await t.call('POST', '/v1/tenants/mail-fault/users', { body: { email: 'taken@mail.example.com' } });
    expect(taken.status, taken.text).toBe(201);
    const guilty = 'guilty@mail.example.com';
    faults.outbox.add(guilty);
    const batch = { users: [{ email: 'one@mail.example.com' }, { email: 'taken@mail.example.com' }, { email: 'two@mail.example.com' }] };
    const [first, report, fault, single] = await grouped('mail-fault', { body: { email: 'first@mail.example.com' } }, [
      { path: '/users/batch', options: { body: batch } },
      { path: '/users', options: { body: { email: guilty } } },
      { path: '/users', options: { body: { email: 'three@mail.example.com' } } },
    ]);

    expect(attemptsWith(guilty, 'one@mail.example.com', 'three@mail.example.com')).toHaveLength(1);
    expect(first!.status, first!.text).toBe(201);
    expect(single!.status, single!.text).toBe(201);
    expectProblem(fault!, 500, 'SERVER_ERROR');
    // The batch grouped with the fault reports as if it had been written alone: the duplicate
    // once, the two others created.
    expect(report!.status, report!.text).toBe(200);
    expect(report!.body).toMatchObject({ totalProcessed: 3, successCount: 2, failureCount: 1 });
    expect(report!.body.results.map((r: any) => r.status)).toEqual(['created', 'failed', 'created']);
    expect(report!.body.results[1].error.code).toBe('DUPLICATE_EMAIL');
    expect(report!.body.results[1].error.errors).toHaveLength(1);

    expect(await usersWithEmail(t, 'mail-fault', guilty)).toEqual([]);
    expect((await t.call('GET', '/v1/tenants/mail-fault')).body.seatsUsed).toBe(5);
    // The users kept have their invitations in the outbox; the failed one has none.
    const outbox = await db.kysely.selectFrom('email_messages').select(['to_address']).where('tenant_id', '=', 'mail-fault').execute();
    const recipients = outbox.map((m) => m.to_address).sort();
    expect(recipients).toEqual(['first@mail.example.com', 'one@mail.example.com', 'taken@mail.example.com', 'three@mail.example.com', 'two@mail.example.com']);
  });
});
