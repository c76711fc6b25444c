/**
 * The storage contract: what the core relies on from its ports (src/core/ports.ts), checked
 * against the real stores on a SQLite file and on the PostgreSQL server of the test run, by
 * the same cases. No HTTP and no use case in between: each case calls a store and reads back
 * what it wrote. Every case makes its own tenant; ids and instants come from counters, so a
 * failure reads the same on every run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditAction, AuditEvent } from '../src/core/audit/audit.js';
import type { ApiKeyRecord } from '../src/core/credentials/api-key-record.js';
import type { EmailBatch } from '../src/core/email/email.js';
import type { AuditStore, InvitationStore, OutboxReader, TxDecision, UserWriteTx } from '../src/core/ports.js';
import type { Role } from '../src/core/roles/role.js';
import { DEFAULT_PASSWORD_POLICY, type Tenant } from '../src/core/tenants/tenant.js';
import { checkUserFilter } from '../src/core/users/user-filter.js';
import { identityKey } from '../src/core/users/normalise.js';
import type { NewUser } from '../src/core/users/user.js';
import type { Db } from '../src/storage/database.js';
import { createAuditStore } from '../src/storage/audit-store.js';
import { createInvitationStore, createOutboxReader } from '../src/storage/email-store.js';
import { migrateToLatest } from '../src/storage/migrate.js';
import { createStores } from '../src/storage/stores.js';
import { createTestDatabase, DATABASES, type TestDatabase } from './helpers/databases.js';

/** Thrown by a transaction's work to abandon it. */
class Abandon extends Error {}

/** The end a transaction's work asks for: its writes kept, or undone without an error. */
const commit = <T>(value: T) => ({ decision: 'commit' as const, value });
const rollback = <T>(value: T) => ({ decision: 'rollback' as const, value });

describe.each(DATABASES)('the storage contract on %s', (kind) => {
  let database: TestDatabase;
  let db: Db;
  let stores: ReturnType<typeof createStores>;
  let outbox: OutboxReader;
  let invitations: InvitationStore;
  let audit: AuditStore;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    db = database.open();
    await migrateToLatest(db);
    stores = createStores(db);
    outbox = createOutboxReader(db);
    invitations = createInvitationStore(db);
    audit = createAuditStore(db);
  });
  afterAll(async () => {
    await db?.close();
    await database?.drop();
  });

  // Deterministic ids (UUID-shaped, counting up) and instants (a millisecond apart, from a fixed start).
  let counter = 0;
  const next = () => ++counter;
  const uuid = () => `00000000-0000-7000-8000-${next().toString(16).padStart(12, '0')}`;
  const START = Date.parse('2026-01-01T00:00:00.000Z');
  const at = () => new Date(START + next()).toISOString();

  async function newTenant(overrides: Partial<Tenant> = {}): Promise<Tenant> {
    const n = next();
    const now = at();
    const tenant: Tenant = {
      id: `contract-${n}`,
      name: `Contract ${n}`,
      seatLimit: null,
      emailDomains: { allow: [], block: [] },
      passwordPolicy: DEFAULT_PASSWORD_POLICY,
      appKey: `app-key-${kind}-${n}`,
      userCount: 0,
      usersRevision: 0,
      createdAt: now,
      updatedAt: now,
      ...overrides,
    };
    expect(await stores.tenants.insert(tenant)).toBe(true);
    return tenant;
  }

  /** A user ready to insert; `name` makes its email `<name>@example.com` and its user name the same. */
  function newUser(tenantId: string, name: string, overrides: Partial<NewUser> = {}): NewUser {
    const email = overrides.email ?? `${name}@example.com`;
    const userName = overrides.userName ?? email;
    const now = at();
    return {
      id: uuid(),
      tenantId,
      userName,
      userNameKey: identityKey(userName),
      email,
      emailKey: identityKey(email),
      name: { givenName: name, familyName: 'Contract' },
      phoneNumber: null,
      roles: [],
      access: {},
      lockedOut: false,
      approved: true,
      passwordHash: null,
      createdAt: now,
      updatedAt: now,
      revision: 1,
      externalId: null,
      displayName: null,
      employeeNumber: null,
      department: null,
      ...overrides,
    };
  }

  /** Inserts users in one transaction (counting their seats); returns them with their numbers. */
  async function insert(users: NewUser[]): Promise<(NewUser & { number: number })[]> {
    const numbers = await stores.users.transaction(async (tx) => {
      const inserted = await tx.insertUsers(users);
      await tx.addUsers(users[0]!.tenantId, inserted.size);
      return commit(inserted);
    });
    expect(numbers.size).toBe(users.length);
    return users.map((u) => ({ ...u, number: numbers.get(u.id)! }));
  }

  function auditOf(tenantId: string, action: AuditAction, resourceId: string): AuditEvent {
    return { id: uuid(), tenantId, action, resourceType: action.split('.')[0] as AuditEvent['resourceType'], resourceId, actorKeyId: 'contract', actorRole: 'global-admin', dialect: null, requestId: null, detail: {}, at: at() };
  }

  function newRole(tenantId: string, name: string, overrides: Partial<Role> = {}): Role {
    const now = at();
    return { tenantId, id: uuid(), name, description: null, admin: false, externalId: null, revision: 1, createdAt: now, updatedAt: now, ...overrides };
  }

  function emailsFor(user: NewUser, token: string): EmailBatch {
    const now = at();
    return {
      messages: [
        {
          id: uuid(),
          tenantId: user.tenantId,
          userId: user.id,
          kind: 'invitation',
          from: 'Muster <no-reply@muster.invalid>',
          to: user.email,
          subject: 'Welcome',
          text: `Your code: ${token}`,
          html: `<p>Your code: ${token}</p>`,
          messageId: `<${uuid()}@muster.invalid>`,
          createdAt: now,
          secret: token,
        },
      ],
      invitations: [{ id: uuid(), tenantId: user.tenantId, userId: user.id, tokenHash: `hash-of-${token}`, expiresAt: new Date(START + 86_400_000).toISOString(), createdAt: now }],
    };
  }

  // The write port of user creation: its work ends the transaction by a returned decision
  // (commit or rollback), or by a throw. Kept together, so that a change of the port is met here.
  describe('the users write transaction', () => {
    it('inserts users with their roles and returns their numbers, in the order given', async () => {
      const tenant = await newTenant();
      expect(await stores.catalogs.insertRole(newRole(tenant.id, 'Staff'))).toBe(true);
      const users = [newUser(tenant.id, 'ada', { roles: ['Staff'] }), newUser(tenant.id, 'bob'), newUser(tenant.id, 'cy')];
      const numbers = await stores.users.transaction(async (tx) => commit(await tx.insertUsers(users)));
      expect([...numbers.keys()]).toEqual(users.map((u) => u.id));
      const [a, b, c] = users.map((u) => numbers.get(u.id)!);
      expect(a).toBeLessThan(b!);
      expect(b).toBeLessThan(c!);
      const ada = await stores.users.get(tenant.id, users[0]!.id);
      expect(ada).toMatchObject({ id: users[0]!.id, number: a, email: 'ada@example.com', roles: ['Staff'], hasPassword: false, revision: 1 });
    });

    it('skips a user whose email or user name key is taken, by the unique index, in the tenant and in the same call', async () => {
      const tenant = await newTenant();
      const [existing] = await insert([newUser(tenant.id, 'taken')]);
      const sameEmail = newUser(tenant.id, 'x', { email: 'TAKEN@example.com', userName: 'other-name' });
      const sameUserName = newUser(tenant.id, 'y', { userName: existing!.userName.toUpperCase() });
      const fresh = newUser(tenant.id, 'fresh');
      const twiceInCall = newUser(tenant.id, 'z', { email: 'Fresh@Example.com', userName: 'z-name' });
      const numbers = await stores.users.transaction(async (tx) => commit(await tx.insertUsers([sameEmail, sameUserName, fresh, twiceInCall])));
      expect([...numbers.keys()]).toEqual([fresh.id]);
      expect((await stores.users.list(tenant.id, { limit: 10 })).map((u) => u.email)).toEqual(['taken@example.com', 'fresh@example.com']);
    });

    it('finds taken keys and external ids as this transaction sees them, its own inserts included', async () => {
      const tenant = await newTenant();
      await insert([newUser(tenant.id, 'old', { externalId: 'EXT-1' })]);
      const taken = await stores.users.transaction(async (tx) => {
        await tx.insertUsers([newUser(tenant.id, 'new')]);
        return commit(await tx.findTaken(tenant.id, ['old@example.com', 'new@example.com', 'none@example.com'], ['new@example.com', 'nobody'], ['EXT-1', 'ext-1']));
      });
      expect([...taken.emailKeys].sort()).toEqual(['new@example.com', 'old@example.com']);
      expect([...taken.userNameKeys]).toEqual(['new@example.com']);
      // External ids compare exactly.
      expect([...taken.externalIds!]).toEqual(['EXT-1']);
      const outside = await stores.users.findTaken(tenant.id, ['new@example.com'], [], []);
      expect([...outside.emailKeys]).toEqual(['new@example.com']);
      expect(await stores.users.findTaken(tenant.id, [], [], [])).toMatchObject({ emailKeys: new Set(), userNameKeys: new Set() });
    });

    it('counts seats and bumps the users revision with each addUsers, and reads the revision under lock without changing it', async () => {
      const tenant = await newTenant({ seatLimit: 5 });
      const results = await stores.users.transaction(async (tx) => {
        const before = await tx.lockUsersRevision(tenant.id);
        const first = await tx.addUsers(tenant.id, 3);
        const second = await tx.addUsers(tenant.id, -1);
        const locked = await tx.lockUsersRevision(tenant.id);
        return commit({ before, first, second, locked });
      });
      expect(results).toEqual({
        before: 0,
        first: { userCount: 3, seatLimit: 5, usersRevision: 1 },
        second: { userCount: 2, seatLimit: 5, usersRevision: 2 },
        locked: 2,
      });
      expect(await stores.tenants.get(tenant.id)).toMatchObject({ userCount: 2, usersRevision: 2 });
    });

    it("deletes the tenant's users it is given, and no one else's", async () => {
      const tenant = await newTenant();
      const other = await newTenant();
      const [gone, kept] = await insert([newUser(tenant.id, 'gone'), newUser(tenant.id, 'kept')]);
      const [elsewhere] = await insert([newUser(other.id, 'elsewhere')]);
      await stores.users.transaction(async (tx) => {
        await tx.deleteUsers(tenant.id, [gone!.id, elsewhere!.id]);
        await tx.deleteUsers(tenant.id, []);
        return commit(undefined);
      });
      expect(await stores.users.get(tenant.id, gone!.id)).toBeUndefined();
      expect(await stores.users.get(tenant.id, kept!.id)).toBeDefined();
      expect(await stores.users.get(other.id, elsewhere!.id)).toBeDefined();
    });

    it('writes the outbox messages, invitations and audit events with the users', async () => {
      const tenant = await newTenant();
      const user = newUser(tenant.id, 'invitee');
      const event = auditOf(tenant.id, 'user.created', user.id);
      await stores.users.transaction(async (tx) => {
        await tx.insertUsers([user]);
        await tx.addUsers(tenant.id, 1);
        await tx.insertEmails(emailsFor(user, 'token-1'));
        await tx.recordAudit([event]);
        return commit(undefined);
      });
      const { messages } = await outbox.list(tenant.id, { limit: 10 });
      expect(messages).toHaveLength(1);
      expect(messages[0]).toMatchObject({ userId: user.id, to: 'invitee@example.com', kind: 'invitation', status: 'pending', attempts: 0 });
      expect(await invitations.findByTokenHash('hash-of-token-1')).toMatchObject({ tenantId: tenant.id, userId: user.id, email: 'invitee@example.com', usedAt: null });
      const events = await audit.list(tenant.id, { limit: 10 });
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ id: event.id, action: 'user.created', resourceId: user.id, actorKeyId: 'contract' });
    });

    /** Work that writes one of everything (a user with a role, a seat, a deletion, emails, an event) before it ends as `end` says. */
    async function undone(end: (tx: UserWriteTx) => Promise<TxDecision<string>>) {
      const tenant = await newTenant();
      await stores.catalogs.insertRole(newRole(tenant.id, 'Staff'));
      const [existing] = await insert([newUser(tenant.id, 'existing')]);
      const before = await stores.tenants.get(tenant.id);
      const user = newUser(tenant.id, 'doomed', { roles: ['Staff'] });
      const token = `token-${tenant.id}`;
      const result = stores.users.transaction(async (tx) => {
        expect((await tx.insertUsers([user])).size).toBe(1);
        await tx.addUsers(tenant.id, 1);
        await tx.deleteUsers(tenant.id, [existing!.id]);
        await tx.insertEmails(emailsFor(user, token));
        await tx.recordAudit([auditOf(tenant.id, 'user.created', user.id)]);
        return end(tx);
      });
      // Observed at once, so that a rejection is not reported unhandled before the case awaits it.
      result.catch(() => {});
      const nothingLeft = async () => {
        expect(await stores.users.get(tenant.id, user.id)).toBeUndefined();
        expect(await stores.users.get(tenant.id, existing!.id)).toBeDefined();
        expect(await stores.tenants.get(tenant.id)).toEqual(before);
        expect((await outbox.list(tenant.id, { limit: 10 })).messages).toEqual([]);
        expect(await invitations.findByTokenHash(`hash-of-${token}`)).toBeUndefined();
        expect(await audit.list(tenant.id, { limit: 10 })).toEqual([]);
        expect(await stores.users.listRoleMembers(tenant.id, 'Staff', { limit: 10 })).toEqual([]);
      };
      return { result, nothingLeft };
    }

    it('leaves nothing behind when its work throws, and rejects with that error', async () => {
      const { result, nothingLeft } = await undone(async () => {
        throw new Abandon('changed my mind');
      });
      await expect(result).rejects.toBeInstanceOf(Abandon);
      await nothingLeft();
    });

    it('leaves nothing behind when its work decides to roll back, and returns the value without throwing', async () => {
      const { result, nothingLeft } = await undone(async () => rollback('refused'));
      await expect(result).resolves.toBe('refused');
      await nothingLeft();
    });
  });

  describe('the user store', () => {
    it('reads a user back as it was written', async () => {
      const tenant = await newTenant();
      await stores.catalogs.insertRole(newRole(tenant.id, 'Ops'));
      const [written] = await insert([
        newUser(tenant.id, 'full', {
          userName: 'Full.Name',
          name: { givenName: "O'Brien", familyName: 'Ünal', formatted: "O'Brien Ünal" },
          phoneNumber: '+44 20 7946 0000',
          roles: ['Ops'],
          access: { departmentId: 'D1', locationId: 'L1' },
          lockedOut: true,
          approved: false,
          passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA',
          externalId: 'ext-full',
          displayName: 'Full',
          employeeNumber: 'E-7',
          department: 'Operations',
        }),
      ]);
      const { userNameKey, emailKey, passwordHash, ...visible } = written!;
      expect(await stores.users.get(tenant.id, written!.id)).toEqual({ ...visible, hasPassword: true });
      expect(await stores.users.get(tenant.id, uuid())).toBeUndefined();
    });

    it('lists users in number order by key, after a number, up to a limit', async () => {
      const tenant = await newTenant();
      const users = await insert(['u1', 'u2', 'u3', 'u4'].map((n) => newUser(tenant.id, n)));
      const emails = (list: { email: string }[]) => list.map((u) => u.email);
      expect(emails(await stores.users.list(tenant.id, { limit: 3 }))).toEqual(['u1@example.com', 'u2@example.com', 'u3@example.com']);
      expect(emails(await stores.users.list(tenant.id, { afterNumber: users[1]!.number, limit: 10 }))).toEqual(['u3@example.com', 'u4@example.com']);
      expect(emails(await stores.users.list(tenant.id, { emailKey: 'u2@example.com', limit: 10 }))).toEqual(['u2@example.com']);
      expect(emails(await stores.users.list(tenant.id, { userNameKey: 'u4@example.com', limit: 10 }))).toEqual(['u4@example.com']);
      expect(await stores.users.list(tenant.id, { emailKey: 'U2@example.com', limit: 10 })).toEqual([]);
    });

    it('searches by filter in SQL, sorts with missing values last, pages, and counts every match', async () => {
      const tenant = await newTenant();
      await stores.catalogs.insertRole(newRole(tenant.id, 'Crew'));
      await insert([
        newUser(tenant.id, 'carol', { department: 'Sales', roles: ['Crew'] }),
        newUser(tenant.id, 'alice', { department: 'sales' }),
        newUser(tenant.id, 'bob', { department: 'Support', roles: ['Crew'] }),
        newUser(tenant.id, 'dave', { department: null, roles: ['Crew'] }),
      ]);
      const page = await stores.users.search(tenant.id, { filter: checkUserFilter({ op: 'eq', attribute: 'role', value: 'Crew' }), sortBy: 'department', descending: false, offset: 0, limit: 2 });
      expect(page.total).toBe(3);
      expect(page.users.map((u) => u.email)).toEqual(['carol@example.com', 'bob@example.com']);
      const rest = await stores.users.search(tenant.id, { filter: checkUserFilter({ op: 'eq', attribute: 'role', value: 'Crew' }), sortBy: 'department', descending: true, offset: 0, limit: 10 });
      expect(rest.users.map((u) => u.email)).toEqual(['bob@example.com', 'carol@example.com', 'dave@example.com']);
      // Free text compares without regard to case; the order falls back to the number.
      const sales = await stores.users.search(tenant.id, { filter: checkUserFilter({ op: 'eq', attribute: 'department', value: 'SALES' }), sortBy: undefined, descending: false, offset: 1, limit: 10 });
      expect(sales).toMatchObject({ total: 2, users: [{ email: 'alice@example.com' }] });
      expect(await stores.users.search(tenant.id, { filter: undefined, sortBy: undefined, descending: false, offset: 0, limit: 0 })).toEqual({ users: [], total: 4 });
    });

    it('updates a user at its revision only: the revision and the tenant revision move on, the audit event is written with it', async () => {
      const tenant = await newTenant();
      const [user] = await insert([newUser(tenant.id, 'mover')]);
      const revisionBefore = (await stores.tenants.get(tenant.id))!.usersRevision;
      const change = { email: 'moved@example.com', emailKey: 'moved@example.com', department: 'R&D', updatedAt: at() };
      const event = auditOf(tenant.id, 'user.updated', user!.id);
      const result = await stores.users.update(tenant.id, user!.id, 1, change, event);
      expect(result).toMatchObject({ status: 'updated', user: { email: 'moved@example.com', department: 'R&D', revision: 2, updatedAt: change.updatedAt } });
      expect((await stores.tenants.get(tenant.id))!.usersRevision).toBe(revisionBefore + 1);
      expect((await audit.list(tenant.id, { limit: 10 })).map((e) => e.id)).toEqual([event.id]);

      // The revision it was read at is gone: nothing is written, no event recorded.
      expect(await stores.users.update(tenant.id, user!.id, 1, { department: 'Lost', updatedAt: at() }, auditOf(tenant.id, 'user.updated', user!.id))).toEqual({ status: 'stale' });
      expect(await stores.users.update(tenant.id, uuid(), 1, { department: 'Lost', updatedAt: at() })).toEqual({ status: 'not-found' });
      expect(await stores.users.get(tenant.id, user!.id)).toMatchObject({ department: 'R&D', revision: 2 });
      expect(await audit.list(tenant.id, { limit: 10 })).toHaveLength(1);
    });

    it('answers duplicate with the code of the unique index that refused an update', async () => {
      const tenant = await newTenant();
      const [first, second] = await insert([newUser(tenant.id, 'first', { externalId: 'ext-a' }), newUser(tenant.id, 'second')]);
      const update = (change: object) => stores.users.update(tenant.id, second!.id, 1, { ...change, updatedAt: at() }, auditOf(tenant.id, 'user.updated', second!.id));
      expect(await update({ email: 'FIRST@example.com', emailKey: identityKey('FIRST@example.com') })).toEqual({ status: 'duplicate', code: 'DUPLICATE_EMAIL' });
      expect(await update({ userName: first!.userName, userNameKey: first!.userNameKey })).toEqual({ status: 'duplicate', code: 'DUPLICATE_USERNAME' });
      expect(await update({ externalId: 'ext-a' })).toEqual({ status: 'duplicate', code: 'CONFLICT' });
      expect(await stores.users.get(tenant.id, second!.id)).toMatchObject({ email: 'second@example.com', revision: 1, externalId: null });
      expect(await audit.list(tenant.id, { limit: 10 })).toEqual([]);
    });

    it('deletes a user and gives its seat back, at its revision when one is given', async () => {
      const tenant = await newTenant();
      const [a, b] = await insert([newUser(tenant.id, 'a'), newUser(tenant.id, 'b')]);
      expect(await stores.users.delete(tenant.id, a!.id, undefined, 2)).toBe(false);
      expect(await stores.users.delete(tenant.id, a!.id, auditOf(tenant.id, 'user.deleted', a!.id), 1)).toBe(true);
      expect(await stores.users.delete(tenant.id, a!.id)).toBe(false);
      expect(await stores.users.delete(tenant.id, b!.id)).toBe(true);
      expect(await stores.tenants.get(tenant.id)).toMatchObject({ userCount: 0 });
      expect((await audit.list(tenant.id, { limit: 10 })).map((e) => e.action)).toEqual(['user.deleted']);
    });
  });

  describe('the catalog store: roles', () => {
    it('inserts a role once: a taken name is refused and nothing is recorded for it', async () => {
      const tenant = await newTenant();
      const role = newRole(tenant.id, 'Editors', { description: 'Edit things', externalId: 'grp-1' });
      expect(await stores.catalogs.insertRole(role, auditOf(tenant.id, 'role.created', role.id))).toBe(true);
      expect(await stores.catalogs.insertRole(newRole(tenant.id, 'Editors'), auditOf(tenant.id, 'role.created', 'again'))).toBe(false);
      await stores.catalogs.insertRole(newRole(tenant.id, 'Admins', { admin: true }));
      expect(await stores.catalogs.findRoleById(tenant.id, role.id)).toEqual(role);
      expect((await stores.catalogs.listRoles(tenant.id)).map((r) => r.name)).toEqual(['Admins', 'Editors']);
      expect((await stores.catalogs.findRoles(tenant.id, ['Editors', 'Nobody'])).map((r) => r.id)).toEqual([role.id]);
      expect(await stores.catalogs.findRoles(tenant.id, [])).toEqual([]);
      expect((await audit.list(tenant.id, { limit: 10 })).map((e) => e.resourceId)).toEqual([role.id]);
    });

    it('renames a role at its revision, keeping its id and holders, whose revisions move on', async () => {
      const tenant = await newTenant();
      const role = newRole(tenant.id, 'Old');
      await stores.catalogs.insertRole(role);
      await stores.catalogs.insertRole(newRole(tenant.id, 'Taken'));
      const [holder, bystander] = await insert([newUser(tenant.id, 'holder', { roles: ['Old'] }), newUser(tenant.id, 'bystander')]);
      const renamedAt = at();
      const result = await stores.catalogs.updateRole(tenant.id, role.id, 1, { name: 'New' }, renamedAt);
      expect(result).toMatchObject({ status: 'updated', role: { id: role.id, name: 'New', revision: 2, updatedAt: renamedAt } });
      expect(await stores.users.get(tenant.id, holder!.id)).toMatchObject({ roles: ['New'], revision: 2, updatedAt: renamedAt });
      expect(await stores.users.get(tenant.id, bystander!.id)).toMatchObject({ revision: 1 });
      expect(await stores.catalogs.updateRole(tenant.id, role.id, 1, { name: 'Newer' }, at())).toEqual({ status: 'stale' });
      expect(await stores.catalogs.updateRole(tenant.id, role.id, 2, { name: 'Taken' }, at())).toEqual({ status: 'conflict' });
      expect(await stores.catalogs.updateRole(tenant.id, uuid(), 1, { name: 'Any' }, at())).toEqual({ status: 'missing' });
    });

    it('deletes a role its holders lose, telling the check how many hold it; a throwing check writes nothing', async () => {
      const tenant = await newTenant();
      await stores.catalogs.insertRole(newRole(tenant.id, 'Doomed'));
      const [h1, h2] = await insert([newUser(tenant.id, 'h1', { roles: ['Doomed'] }), newUser(tenant.id, 'h2', { roles: ['Doomed'] })]);
      const refused = stores.catalogs.deleteRole(tenant.id, 'Doomed', () => {
        throw new Abandon('not this one');
      });
      await expect(refused).rejects.toBeInstanceOf(Abandon);
      expect(await stores.catalogs.findRoles(tenant.id, ['Doomed'])).toHaveLength(1);
      expect(await stores.users.get(tenant.id, h1!.id)).toMatchObject({ roles: ['Doomed'], revision: 1 });

      let seen: number | undefined;
      const deletedAt = at();
      const deleted = await stores.catalogs.deleteRole(tenant.id, 'Doomed', (role, holders) => ((seen = holders), [auditOf(tenant.id, 'role.deleted', role.id)]), deletedAt);
      expect(deleted).toBe(true);
      expect(seen).toBe(2);
      for (const holder of [h1!, h2!]) expect(await stores.users.get(tenant.id, holder.id)).toMatchObject({ roles: [], revision: 2, updatedAt: deletedAt });
      expect(await stores.catalogs.listRoles(tenant.id)).toEqual([]);
      expect(await stores.catalogs.deleteRole(tenant.id, 'Doomed', undefined, at())).toBe(false);
      expect((await audit.list(tenant.id, { limit: 10 })).map((e) => e.action)).toEqual(['role.deleted']);
    });

    it('replaces a role by putRole keeping its id, and moves its holders on when its admin flag changes', async () => {
      const tenant = await newTenant();
      const role = newRole(tenant.id, 'Leads');
      expect(await stores.catalogs.putRole(role)).toBe(true);
      const [holder] = await insert([newUser(tenant.id, 'lead', { roles: ['Leads'] })]);
      expect(await stores.catalogs.putRole(newRole(tenant.id, 'Leads', { description: 'Same flag' }))).toBe(false);
      expect(await stores.users.get(tenant.id, holder!.id)).toMatchObject({ revision: 1 });
      expect(await stores.catalogs.putRole(newRole(tenant.id, 'Leads', { admin: true }))).toBe(false);
      expect(await stores.catalogs.findRoleById(tenant.id, role.id)).toMatchObject({ name: 'Leads', admin: true, revision: 3 });
      expect(await stores.users.get(tenant.id, holder!.id)).toMatchObject({ revision: 2 });
      expect(await stores.users.adminRolesOf(tenant.id, [holder!.id, uuid()])).toEqual(new Map([[holder!.id, ['Leads']]]));
    });
  });

  describe('the tenant store', () => {
    it('inserts a tenant once, finds it by id and app key, lists it, and updates its settings with an audit event', async () => {
      const tenant = await newTenant({ seatLimit: 10, emailDomains: { allow: ['example.com'], block: [] } });
      expect(await stores.tenants.insert({ ...tenant, name: 'Again' }, auditOf(tenant.id, 'tenant.created', tenant.id))).toBe(false);
      expect(await stores.tenants.get(tenant.id)).toEqual(tenant);
      expect(await stores.tenants.getByAppKey(tenant.appKey)).toEqual(tenant);
      expect(await stores.tenants.getByAppKey('no-such-key')).toBeUndefined();
      expect((await stores.tenants.list()).map((t) => t.id)).toContain(tenant.id);
      const updatedAt = at();
      const updated = await stores.tenants.update(tenant.id, { name: 'Renamed', seatLimit: null }, updatedAt, auditOf(tenant.id, 'tenant.updated', tenant.id));
      expect(updated).toEqual({ ...tenant, name: 'Renamed', seatLimit: null, updatedAt });
      expect(await stores.tenants.update('no-such-tenant', { name: 'X' }, at())).toBeUndefined();
      expect((await audit.list(tenant.id, { limit: 10 })).map((e) => e.action)).toEqual(['tenant.updated']);
    });

    it('records a creation event with the tenant, in one transaction', async () => {
      const id = `contract-created-${next()}`;
      const now = at();
      const tenant: Tenant = { id, name: 'Audited', seatLimit: null, emailDomains: { allow: [], block: [] }, passwordPolicy: DEFAULT_PASSWORD_POLICY, appKey: `app-${id}`, userCount: 0, usersRevision: 0, createdAt: now, updatedAt: now };
      expect(await stores.tenants.insert(tenant, auditOf(id, 'tenant.created', id))).toBe(true);
      expect((await audit.list(id, { limit: 10 })).map((e) => e.action)).toEqual(['tenant.created']);
    });
  });

  describe('the API key store', () => {
    it("stores a tenant's keys and the global keys apart, and revokes a key once", async () => {
      const tenant = await newTenant();
      const key = (tenantId: string | null, name: string): ApiKeyRecord => ({ id: `key-${next()}`, tenantId, name, role: tenantId ? 'tenant-admin' : 'global-admin', tokenHash: `sha-${next()}`, createdAt: at(), revokedAt: null });
      const mine = key(tenant.id, 'mine');
      const global = key(null, 'global');
      await stores.keys.insert(mine, auditOf(tenant.id, 'api-key.issued', mine.id));
      await stores.keys.insert(global);
      expect(await stores.keys.get(mine.id)).toEqual(mine);
      expect(await stores.keys.list(tenant.id)).toEqual([mine]);
      expect((await stores.keys.list(null)).map((k) => k.id)).toContain(global.id);
      expect((await stores.keys.list(null)).map((k) => k.id)).not.toContain(mine.id);
      const revokedAt = at();
      expect(await stores.keys.revoke(mine.id, revokedAt, auditOf(tenant.id, 'api-key.revoked', mine.id))).toBe(true);
      expect(await stores.keys.revoke(mine.id, at(), auditOf(tenant.id, 'api-key.revoked', mine.id))).toBe(false);
      expect(await stores.keys.revoke('no-such-key', at())).toBe(false);
      expect(await stores.keys.get(mine.id)).toEqual({ ...mine, revokedAt });
      expect((await audit.list(tenant.id, { limit: 10 })).map((e) => e.action)).toEqual(['api-key.revoked', 'api-key.issued']);
    });
  });

  describe('tenant isolation', () => {
    it("shows nothing of one tenant's users, roles, keys, messages and events from another, and lets each hold the same keys", async () => {
      const a = await newTenant();
      const b = await newTenant();
      await stores.catalogs.insertRole(newRole(a.id, 'Shared'));
      const roleA = newRole(a.id, 'OnlyA');
      await stores.catalogs.insertRole(roleA);
      const userA = newUser(a.id, 'same', { roles: ['OnlyA'], externalId: 'ext-same' });
      await stores.users.transaction(async (tx) => {
        await tx.insertUsers([userA]);
        await tx.addUsers(a.id, 1);
        await tx.insertEmails(emailsFor(userA, `token-${a.id}`));
        await tx.recordAudit([auditOf(a.id, 'user.created', userA.id)]);
        return commit(undefined);
      });
      await stores.keys.insert({ id: `key-${next()}`, tenantId: a.id, name: 'a', role: 'reader', tokenHash: `sha-${next()}`, createdAt: at(), revokedAt: null });

      // Tenant B sees none of it.
      expect(await stores.users.get(b.id, userA.id)).toBeUndefined();
      expect(await stores.users.list(b.id, { limit: 10 })).toEqual([]);
      expect(await stores.users.list(b.id, { emailKey: userA.emailKey, limit: 10 })).toEqual([]);
      expect(await stores.users.search(b.id, { filter: undefined, sortBy: undefined, descending: false, offset: 0, limit: 10 })).toEqual({ users: [], total: 0 });
      expect(await stores.users.findTaken(b.id, [userA.emailKey], [userA.userNameKey], ['ext-same'])).toMatchObject({ emailKeys: new Set(), userNameKeys: new Set(), externalIds: new Set() });
      expect(await stores.users.adminRolesOf(b.id, [userA.id])).toEqual(new Map());
      expect(await stores.users.listRoleMembers(b.id, 'OnlyA', { limit: 10 })).toEqual([]);
      expect(await stores.catalogs.findRoleById(b.id, roleA.id)).toBeUndefined();
      expect(await stores.catalogs.listRoles(b.id)).toEqual([]);
      expect(await stores.catalogs.findRoles(b.id, ['OnlyA', 'Shared'])).toEqual([]);
      expect(await stores.keys.list(b.id)).toEqual([]);
      expect((await outbox.list(b.id, { limit: 10 })).messages).toEqual([]);
      expect(await audit.list(b.id, { limit: 10 })).toEqual([]);

      // Nor can it change any of it.
      expect(await stores.users.update(b.id, userA.id, 1, { department: 'Hijacked', updatedAt: at() })).toEqual({ status: 'not-found' });
      expect(await stores.users.delete(b.id, userA.id)).toBe(false);
      await stores.users.transaction(async (tx) => commit(await tx.deleteUsers(b.id, [userA.id])));
      expect(await stores.catalogs.deleteRole(b.id, 'OnlyA', undefined, at())).toBe(false);
      expect(await stores.catalogs.updateRole(b.id, roleA.id, 1, { name: 'Hijacked' }, at())).toEqual({ status: 'missing' });
      expect(await stores.users.get(a.id, userA.id)).toMatchObject({ department: null, revision: 1, roles: ['OnlyA'] });
      expect(await stores.catalogs.findRoleById(a.id, roleA.id)).toEqual(roleA);
      expect(await stores.tenants.get(b.id)).toMatchObject({ userCount: 0, usersRevision: 0 });

      // The unique indexes are per tenant: B takes the same email, user name, external id and role name.
      await stores.catalogs.insertRole(newRole(b.id, 'Shared'));
      const userB = newUser(b.id, 'same', { roles: ['Shared'], externalId: 'ext-same' });
      expect([...(await stores.users.transaction(async (tx) => commit(await tx.insertUsers([userB])))).keys()]).toEqual([userB.id]);
      expect((await stores.users.list(a.id, { limit: 10 })).map((u) => u.id)).toEqual([userA.id]);
      expect((await stores.users.listRoleMembers(a.id, 'Shared', { limit: 10 }))).toEqual([]);
    });
  });
});
