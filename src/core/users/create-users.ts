import { auditEvent } from '../audit/audit.js';
import type { Actor } from '../credentials/actor.js';
import { DomainError, fieldError, itemErrorFrom, type FieldError, type ItemError } from '../errors.js';
import type { CoreDeps, HashPriority, TakenKeys, UserWriteTx } from '../ports.js';
import { loadTenant } from '../tenants/load-tenant.js';
import { prepareUserEmails, type CreatedUser } from '../email/compose-user-emails.js';
import { checkReferences } from './check-references.js';
import type { NewUser, User } from './user.js';
import { checkDraft, type CheckedDraft } from './validate-draft.js';

/** The most users one request may create; larger sets go through an import job. */
export const MAX_BATCH_SIZE = 1000;

export interface CreateUsersOptions {
  /** Run every check, uniqueness and seats included, and write nothing. */
  dryRun?: boolean;
  /** Create all the users or none of them. */
  atomic?: boolean;
  /** Send the users their welcome or invitation email (default true). */
  notify?: boolean;
  /**
   * Create only if the tenant's users revision is still this one: checked again inside the
   * write transaction with the tenant row locked, so two requests holding the same revision
   * cannot both write. A stale revision fails every item with PRECONDITION_FAILED and writes nothing.
   */
  expectedUsersRevision?: number;
  /**
   * The caller's own writes, run last inside the write transaction with every draft's outcome
   * as it will be reported: they commit with the users or roll back with them, and throwing
   * rolls the users back too (an import job records its progress here). Not called for a dry
   * run or a refused atomic batch, which write nothing.
   */
  beforeCommit?: (outcomes: readonly UserOutcome[]) => Promise<void>;
  /**
   * How the passwords are hashed: `interactive` (default) is refused at once with
   * SERVICE_BUSY when the hashing queue is full; `background` (import jobs) waits and only
   * uses capacity that interactive requests leave.
   */
  priority?: HashPriority;
}

export type UserOutcome =
  | { index: number; status: 'created'; user: User }
  | { index: number; status: 'valid' }
  | { index: number; status: 'failed'; error: ItemError };

export interface CreateUsersResult {
  outcomes: UserOutcome[];
  dryRun: boolean;
  atomic: boolean;
  /** False when an atomic batch was refused (nothing was written) or for a dry run. */
  committed: boolean;
  /** The tenant's users revision after this call: after the write when one was committed, else as last read. */
  usersRevision?: number;
}

/** Thrown inside the transaction when the tenant's users revision is not the expected one; never leaves this module. */
class StaleUsersRevision extends Error {
  constructor(readonly current: number) {
    super('users revision is stale');
  }
}

/** Every item refused with PRECONDITION_FAILED: the request named a users revision that is no longer current. */
function preconditionFailed(count: number, dryRun: boolean, atomic: boolean, current: number): CreateUsersResult {
  const error = fieldError('', 'PRECONDITION_FAILED', `The users revision has changed; it is now ${current}.`);
  const failures = new Map<number, FieldError[]>();
  for (let index = 0; index < count; index++) failures.set(index, [error]);
  return { ...report(count, failures, new Map(), dryRun, atomic, false), usersRevision: current };
}

/** Thrown inside the transaction to roll an atomic batch back; never leaves this module. */
class AtomicRollback extends Error {
  constructor(readonly failures: Map<number, FieldError[]>) {
    super('atomic batch rolled back');
  }
}

interface Candidate {
  index: number;
  draft: CheckedDraft;
}

export function assertBatchSize(count: number): void {
  if (count > MAX_BATCH_SIZE) {
    throw new DomainError('BATCH_TOO_LARGE', `A batch may hold at most ${MAX_BATCH_SIZE} users; this one has ${count}. Use an import job for more.`);
  }
}

function duplicateOf(draft: CheckedDraft, taken: TakenKeys, where: string): FieldError | undefined {
  if (taken.emailKeys.has(draft.emailKey)) return fieldError('email', 'DUPLICATE_EMAIL', `This email address is already used ${where}.`);
  if (taken.userNameKeys.has(draft.userNameKey)) return fieldError('userName', 'DUPLICATE_USERNAME', `This user name is already used ${where}.`);
  if (draft.externalId !== null && taken.externalIds?.has(draft.externalId)) return fieldError('externalId', 'CONFLICT', `This externalId is already used ${where}.`);
  return undefined;
}

/** The external ids the candidates carry (most users have none). */
function externalIdsOf(candidates: readonly Candidate[]): string[] {
  return candidates.flatMap((c) => (c.draft.externalId === null ? [] : [c.draft.externalId]));
}

/**
 * The one path by which users come to exist, for every API: single create is a batch of one.
 * Returns one outcome per draft, in input order. Uniqueness is decided by the database's
 * unique indexes inside the write transaction; the reads before it only make the report
 * friendlier and make dry runs complete.
 */
export async function createUsers(
  deps: CoreDeps,
  tenantId: string,
  actor: Actor,
  drafts: readonly unknown[],
  options: CreateUsersOptions = {},
): Promise<CreateUsersResult> {
  const dryRun = options.dryRun === true;
  const atomic = options.atomic === true;
  assertBatchSize(drafts.length);
  const tenant = await loadTenant(deps.tenants, actor, 'users:write', tenantId);
  // A stale revision refuses the request before its content is looked at (RFC 9110 §13.2.2).
  const expectedRevision = options.expectedUsersRevision;
  if (expectedRevision !== undefined && tenant.usersRevision !== expectedRevision) {
    return preconditionFailed(drafts.length, dryRun, atomic, tenant.usersRevision);
  }
  let usersRevision = tenant.usersRevision;

  const failures = new Map<number, FieldError[]>();
  const fail = (index: number, errors: FieldError[]) => failures.set(index, [...(failures.get(index) ?? []), ...errors]);

  // 1. Each draft alone: shape, characters, email domain, password policy.
  let candidates: Candidate[] = [];
  drafts.forEach((input, index) => {
    const checked = checkDraft(tenant, input);
    if (checked.ok) candidates.push({ index, draft: checked.draft });
    else fail(index, checked.errors);
  });

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
  const referenceProblems = await checkReferences(deps.catalogs, tenant.id, actor, candidates.map((c) => c.draft));
  candidates = candidates.filter(({ index }, i) => {
    const problems = referenceProblems[i] ?? [];
    if (problems.length > 0) fail(index, problems);
    return problems.length === 0;
  });

  // 4. Already taken in the tenant (a friendly pre-check; the unique index decides later).
  if (candidates.length > 0) {
    const taken = await deps.users.findTaken(tenant.id, candidates.map((c) => c.draft.emailKey), candidates.map((c) => c.draft.userNameKey), externalIdsOf(candidates));
    candidates = candidates.filter(({ index, draft }) => {
      const duplicate = duplicateOf(draft, taken, 'in this tenant');
      if (duplicate) fail(index, [duplicate]);
      return !duplicate;
    });
  }

  // 5. Seats, as far as they can be known before writing.
  const seatsLeft = tenant.seatLimit === null ? Infinity : Math.max(0, tenant.seatLimit - tenant.userCount);
  if (candidates.length > seatsLeft) {
    for (const { index } of candidates.slice(seatsLeft)) fail(index, [seatError()]);
    candidates = candidates.slice(0, seatsLeft);
  }

  if (dryRun || (atomic && failures.size > 0)) {
    return { ...report(drafts.length, failures, new Map(), dryRun, atomic, false), usersRevision };
  }

  // Templates are read now; the messages are composed inside the transaction (step 8).
  const mail = options.notify === false ? undefined : await prepareUserEmails(deps, tenant);

  // 6. Hash outside the transaction: it is the slow part and needs no lock.
  // All the batch's hashes are admitted together or refused together (SERVICE_BUSY); a
  // pre-hashed password is stored as given.
  const now = deps.clock.now().toISOString();
  const secrets = candidates.map(({ draft }) => (draft.passwordHash !== undefined ? undefined : draft.generatePassword ? deps.ids.secret(24) : draft.password));
  const hashes = await deps.hasher.hashAll(secrets, options.priority ?? 'interactive');
  const rows: NewUser[] = candidates.map(({ draft }, i) => {
    return {
      id: deps.ids.uuid(),
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
      employeeNumber: draft.employeeNumber,
      department: draft.department,
      passwordHash: draft.passwordHash ?? hashes[i] ?? null,
      createdAt: now,
      updatedAt: now,
      revision: 1,
    };
  });

  // 7. One transaction: insert, learn which rows the unique indexes refused, take seats.
  try {
    let revisionAfterWrite: number | undefined;
    // The store may run the transaction more than once (after a deadlock): each attempt starts
    // again from the failures known before it, so that none is reported twice.
    const failuresBefore = new Map([...failures].map(([index, errors]) => [index, [...errors]]));
    const withBeforeCommit = (work: (tx: UserWriteTx) => Promise<Map<string, number>>) => async (tx: UserWriteTx) => {
      const inserted = await work(tx);
      if (options.beforeCommit) await options.beforeCommit(report(drafts.length, failures, createdByIndexOf(candidates, rows, inserted), false, atomic, true).outcomes);
      return inserted;
    };
    const created = await deps.users.transaction(withBeforeCommit(async (tx) => {
      failures.clear();
      for (const [index, errors] of failuresBefore) failures.set(index, [...errors]);
      if (expectedRevision !== undefined) {
        // The authoritative check: the tenant row stays locked until this transaction ends.
        usersRevision = await tx.lockUsersRevision(tenant.id);
        if (usersRevision !== expectedRevision) throw new StaleUsersRevision(usersRevision);
      }
      const inserted = rows.length > 0 ? await tx.insertUsers(rows) : new Map<string, number>();
      const refused = candidates.filter((_, i) => !inserted.has(rows[i]!.id));
      if (refused.length > 0) {
        const taken = await tx.findTaken(tenant.id, refused.map((c) => c.draft.emailKey), refused.map((c) => c.draft.userNameKey), externalIdsOf(refused));
        for (const { index, draft } of refused) {
          fail(index, [duplicateOf(draft, taken, 'in this tenant') ?? fieldError('email', 'DUPLICATE_EMAIL', 'This email address is already used in this tenant.')]);
        }
        if (atomic) throw new AtomicRollback(failures);
      }
      if (inserted.size === 0) return inserted;
      const seats = await tx.addUsers(tenant.id, inserted.size);
      revisionAfterWrite = seats.usersRevision;
      const excess = seats.seatLimit === null ? 0 : seats.userCount - seats.seatLimit;
      if (excess > 0) {
        // Another request took the seats first: the users last in this batch give theirs back.
        const losers = candidates.filter((_, i) => inserted.has(rows[i]!.id)).slice(-excess);
        for (const { index } of losers) fail(index, [seatError()]);
        if (atomic) throw new AtomicRollback(failures);
        const loserIds = losers.map((c) => rows[candidates.indexOf(c)]!.id);
        await tx.deleteUsers(tenant.id, loserIds);
        revisionAfterWrite = (await tx.addUsers(tenant.id, -excess)).usersRevision;
        for (const id of loserIds) inserted.delete(id);
      }
      // 8. The users finally kept get their welcome or invitation in the same transaction:
      // no user without its message, no message for a user rolled back.
      if (mail) await tx.insertEmails(mail.compose(createdUsers(candidates, rows, inserted)));
      // 9. One audit event per user kept, in the same transaction: a rolled-back batch records nothing.
      await tx.recordAudit(rows.flatMap((row) => (inserted.has(row.id) ? [auditEvent(deps, actor, tenant.id, 'user.created', row.id, { number: inserted.get(row.id)! }, now)] : [])));
      return inserted;
    }));
    const createdByIndex = new Map<number, User>();
    candidates.forEach(({ index }, i) => {
      const row = rows[i]!;
      const number = created.get(row.id);
      if (number !== undefined) createdByIndex.set(index, toUser(row, number));
    });
    return { ...report(drafts.length, failures, createdByIndex, false, atomic, true), usersRevision: revisionAfterWrite ?? usersRevision };
  } catch (error) {
    if (error instanceof StaleUsersRevision) return preconditionFailed(drafts.length, false, atomic, error.current);
    if (error instanceof AtomicRollback) return { ...report(drafts.length, error.failures, new Map(), false, true, false), usersRevision };
    throw error;
  }
}

/** The users inserted and kept, by the index of their draft. */
function createdByIndexOf(candidates: readonly Candidate[], rows: readonly NewUser[], inserted: ReadonlyMap<string, number>): Map<number, User> {
  const byIndex = new Map<number, User>();
  candidates.forEach(({ index }, i) => {
    const number = inserted.get(rows[i]!.id);
    if (number !== undefined) byIndex.set(index, toUser(rows[i]!, number));
  });
  return byIndex;
}

/** The users this call inserted and kept; those without a password of their own are invited to set one. */
function createdUsers(candidates: readonly Candidate[], rows: readonly NewUser[], inserted: ReadonlyMap<string, number>): CreatedUser[] {
  return candidates.flatMap(({ draft }, i) => {
    const row = rows[i]!;
    const number = inserted.get(row.id);
    return number === undefined ? [] : [{ user: toUser(row, number), invite: draft.password === undefined && draft.passwordHash === undefined }];
  });
}

function seatError(): FieldError {
  return fieldError('', 'SEAT_LIMIT_EXCEEDED', 'No seats are left in this tenant.');
}

function toUser(row: NewUser, number: number): User {
  const { userNameKey: _u, emailKey: _e, passwordHash, ...user } = row;
  return { ...user, number, hasPassword: passwordHash !== null };
}

function report(
  count: number,
  failures: Map<number, FieldError[]>,
  created: Map<number, User>,
  dryRun: boolean,
  atomic: boolean,
  committed: boolean,
): CreateUsersResult {
  const outcomes: UserOutcome[] = [];
  for (let index = 0; index < count; index++) {
    const errors = failures.get(index);
    const user = created.get(index);
    if (errors) outcomes.push({ index, status: 'failed', error: itemErrorFrom(errors) });
    else if (user) outcomes.push({ index, status: 'created', user });
    else outcomes.push({ index, status: 'valid' });
  }
  return { outcomes, dryRun, atomic, committed };
}
