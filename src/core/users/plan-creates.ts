import { yieldIfBusy } from '../event-loop.js';
import type { Actor } from '../credentials/actor.js';
import { DomainError, fieldError, type FieldError } from '../errors.js';
import type { CoreDeps, HashPriority, PasswordHasher, TakenKeys, UserStore } from '../ports.js';
import { loadTenant } from '../tenants/load-tenant.js';
import { prepareUserEmails } from '../email/compose-user-emails.js';
import { checkReferences } from './check-references.js';
import type { NewUser } from './user.js';
import { checkDraft, type CheckedDraft } from './validate-draft.js';
import type { WritePart } from './write-users.js';

/** The most users one request may create; larger sets go through an import job. */
export const MAX_BATCH_SIZE = 1000;

export function assertBatchSize(count: number): void {
  if (count > MAX_BATCH_SIZE) {
    throw new DomainError('BATCH_TOO_LARGE', `A batch may hold at most ${MAX_BATCH_SIZE} users; this one has ${count}. Use an import job for more.`);
  }
}

/** What planning a create needs to know of the call; how it is written is the writer's business. */
export interface PlanOptions {
  /** Run every check, uniqueness and seats included, and write nothing. */
  dryRun?: boolean;
  /** Create all the users or none of them. */
  atomic?: boolean;
  /** Send the users their welcome or invitation email (default true). */
  notify?: boolean;
  /** Refuse the call unless the tenant's users revision is still this one (checked again by the writer). */
  expectedUsersRevision?: number;
  /** How the passwords are hashed (default `interactive`). */
  priority?: HashPriority;
}

/** The ports planning reads: the tenant, its catalogs, its taken keys, the hasher, the email templates. */
export type PlanPorts = Pick<CoreDeps, 'tenants' | 'catalogs' | 'clock' | 'ids' | 'email'> & {
  users: Pick<UserStore, 'findTaken'>;
  hasher: Pick<PasswordHasher, 'hashAll'>;
};

/** A draft that passed every check before writing, with its index in the call. */
export interface PlannedUser {
  index: number;
  draft: CheckedDraft;
}

interface PlanCommon {
  tenantId: string;
  /** How many drafts the call brought. */
  count: number;
  dryRun: boolean;
  atomic: boolean;
}

/**
 * A create, planned: everything decided before the write transaction.
 * - `stale`: the call named a users revision that is no longer current; its drafts were not looked at.
 * - `checked`: nothing is to be written (a dry run, or an atomic batch with a failure); `failures` is final.
 * - `write`: `part` is what the writer writes; its failures are those known before writing.
 */
export type CreatePlan =
  | (PlanCommon & { kind: 'stale'; usersRevision: number })
  | (PlanCommon & { kind: 'checked'; usersRevision: number; failures: ReadonlyMap<number, FieldError[]> })
  | (PlanCommon & { kind: 'write'; usersRevision: number; part: WritePart });

export function duplicateOf(draft: CheckedDraft, taken: TakenKeys, where: string): FieldError | undefined {
  if (taken.emailKeys.has(draft.emailKey)) return fieldError('email', 'DUPLICATE_EMAIL', `This email address is already used ${where}.`);
  if (taken.userNameKeys.has(draft.userNameKey)) return fieldError('userName', 'DUPLICATE_USERNAME', `This user name is already used ${where}.`);
  if (draft.externalId !== null && taken.externalIds?.has(draft.externalId)) return fieldError('externalId', 'CONFLICT', `This externalId is already used ${where}.`);
  return undefined;
}

/** The external ids the users carry (most users have none). */
export function externalIdsOf(users: readonly PlannedUser[]): string[] {
  return users.flatMap((c) => (c.draft.externalId === null ? [] : [c.draft.externalId]));
}

export function seatError(): FieldError {
  return fieldError('', 'SEAT_LIMIT_EXCEEDED', 'No seats are left in this tenant.');
}

/**
 * Plans a create: the actor's right on the tenant, then each draft alone, duplicates within the
 * call, references, what is already taken in the tenant (only when that changes something),
 * the seats as far as they can be known, the passwords hashed and the rows built. Reads, never
 * writes; uniqueness is decided by the database's unique indexes when the plan is written.
 */
export async function planCreates(ports: PlanPorts, tenantId: string, actor: Actor, drafts: readonly unknown[], options: PlanOptions = {}): Promise<CreatePlan> {
  const dryRun = options.dryRun === true;
  const atomic = options.atomic === true;
  assertBatchSize(drafts.length);
  const tenant = await loadTenant(ports.tenants, actor, 'users:write', tenantId);
  const common: PlanCommon = { tenantId: tenant.id, count: drafts.length, dryRun, atomic };
  // A stale revision refuses the request before its content is looked at (RFC 9110 §13.2.2).
  const expectedRevision = options.expectedUsersRevision;
  if (expectedRevision !== undefined && tenant.usersRevision !== expectedRevision) {
    return { ...common, kind: 'stale', usersRevision: tenant.usersRevision };
  }

  const failures = new Map<number, FieldError[]>();
  const fail = (index: number, errors: FieldError[]) => failures.set(index, [...(failures.get(index) ?? []), ...errors]);

  // 1. Each draft alone: shape, characters, email domain, password policy.
  let candidates: PlannedUser[] = [];
  for (let index = 0; index < drafts.length; index++) {
    const checked = checkDraft(tenant, drafts[index]);
    if (checked.ok) candidates.push({ index, draft: checked.draft });
    else fail(index, checked.errors);
    if (index % 64 === 63) await yieldIfBusy();
  }

  // 2. Duplicates within the batch: the first occurrence wins.
  const batchKeys: TakenKeys = { emailKeys: new Set(), userNameKeys: new Set(), externalIds: new Set() };
  candidates = candidates.filter(({ index, draft }) => {
    const duplicate = duplicateOf(draft, batchKeys, 'by an earlier record of this batch');
    batchKeys.emailKeys.add(draft.emailKey);
    batchKeys.userNameKeys.add(draft.userNameKey);
    if (draft.externalId !== null) batchKeys.externalIds?.add(draft.externalId);
    if (duplicate) fail(index, [duplicate]);
    return !duplicate;
  });

  // 3. Roles and catalog codes exist; admin roles only from a global admin.
  const referenceProblems = await checkReferences(ports.catalogs, tenant.id, actor, candidates.map((c) => c.draft));
  candidates = candidates.filter(({ index }, i) => {
    const problems = referenceProblems[i] ?? [];
    if (problems.length > 0) fail(index, problems);
    return problems.length === 0;
  });

  // 4. Already taken in the tenant: a pre-check, as the unique indexes decide inside the write
  // transaction. It is what a dry run reports, it spares the hashing of a password for a user
  // who cannot be created, and it keeps would-be duplicates from counting against the seats
  // left; when none of that applies, the write finds the duplicates by itself.
  const seatsBefore = tenant.seatLimit === null ? Infinity : Math.max(0, tenant.seatLimit - tenant.userCount);
  const needsHashing = candidates.some(({ draft }) => draft.passwordHash === undefined && (draft.generatePassword || draft.password !== undefined));
  if (candidates.length > 0 && (dryRun || atomic || needsHashing || candidates.length > seatsBefore)) {
    const taken = await ports.users.findTaken(tenant.id, candidates.map((c) => c.draft.emailKey), candidates.map((c) => c.draft.userNameKey), externalIdsOf(candidates));
    candidates = candidates.filter(({ index, draft }) => {
      const duplicate = duplicateOf(draft, taken, 'in this tenant');
      if (duplicate) fail(index, [duplicate]);
      return !duplicate;
    });
  }

  // 5. Seats, as far as they can be known before writing.
  if (candidates.length > seatsBefore) {
    for (const { index } of candidates.slice(seatsBefore)) fail(index, [seatError()]);
    candidates = candidates.slice(0, seatsBefore);
  }

  if (dryRun || (atomic && failures.size > 0)) return { ...common, kind: 'checked', usersRevision: tenant.usersRevision, failures };

  // Templates are read now; the messages are composed inside the transaction, by the writer.
  const mail = options.notify === false ? undefined : await prepareUserEmails(ports, tenant);

  // 6. Hash outside the transaction: it is the slow part and needs no lock.
  // All the batch's hashes are admitted together or refused together (SERVICE_BUSY); a
  // pre-hashed password is stored as given.
  const now = ports.clock.now().toISOString();
  const secrets = candidates.map(({ draft }) => (draft.passwordHash !== undefined ? undefined : draft.generatePassword ? ports.ids.secret(24) : draft.password));
  const hashes = await ports.hasher.hashAll(secrets, options.priority ?? 'interactive');
  const rows: NewUser[] = candidates.map(({ draft }, i) => {
    return {
      id: ports.ids.uuid(),
      tenantId: tenant.id,
      userName: draft.userName,
      userNameKey: draft.userNameKey,
      email: draft.email,
      emailKey: draft.emailKey,
      name: draft.name,
      phoneNumber: draft.phoneNumber,
      roles: draft.roles,
      access: draft.access,
      lockedOut: draft.lockedOut,
      approved: draft.approved,
      externalId: draft.externalId,
      displayName: draft.displayName,
      employeeNumber: draft.employeeNumber,
      department: draft.department,
      passwordHash: draft.passwordHash ?? hashes[i] ?? null,
      createdAt: now,
      updatedAt: now,
      revision: 1,
    };
  });

  const part: WritePart = { actor, candidates, rows, failures, atomic, expectedRevision, mail, now, beforeCommit: undefined };
  return { ...common, kind: 'write', usersRevision: tenant.usersRevision, part };
}
