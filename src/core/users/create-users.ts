import { auditEvent } from '../audit/audit.js';
import { yieldIfBusy } from '../event-loop.js';
import type { EmailBatch } from '../email/email.js';
import type { Actor } from '../credentials/actor.js';
import { DomainError, fieldError, itemErrorFrom, type FieldError, type ItemError } from '../errors.js';
import type { CoreDeps, HashPriority, TakenKeys, UserWriteTx } from '../ports.js';
import { loadTenant } from '../tenants/load-tenant.js';
import { prepareUserEmails, type CreatedUser, type UserEmailComposer } from '../email/compose-user-emails.js';
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
  const referenceProblems = await checkReferences(deps.catalogs, tenant.id, actor, candidates.map((c) => c.draft));
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
    const taken = await deps.users.findTaken(tenant.id, candidates.map((c) => c.draft.emailKey), candidates.map((c) => c.draft.userNameKey), externalIdsOf(candidates));
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
      displayName: draft.displayName,
      employeeNumber: draft.employeeNumber,
      department: draft.department,
      passwordHash: draft.passwordHash ?? hashes[i] ?? null,
      createdAt: now,
      updatedAt: now,
      revision: 1,
    };
  });

  const part: WritePart = { actor, count: drafts.length, candidates, rows, failures, atomic, expectedRevision, beforeCommit: options.beforeCommit, mail, now };
  // Calls that need nothing of the transaction but its writes share one with the calls of the
  // same tenant that arrive while another is being written (group commit); the others run alone.
  const groupable = !atomic && expectedRevision === undefined && options.beforeCommit === undefined;
  try {
    const revisionAfterWrite = groupable ? await writeGroups(deps).submit(tenant.id, part) : await writeParts(deps, tenant.id, [part]);
    return { ...report(drafts.length, failures, createdByIndexOf(candidates, rows, part.inserted), false, atomic, true), usersRevision: revisionAfterWrite ?? usersRevision };
  } catch (error) {
    if (error instanceof StaleUsersRevision) return preconditionFailed(drafts.length, false, atomic, error.current);
    if (error instanceof AtomicRollback) return { ...report(drafts.length, error.failures, new Map(), false, true, false), usersRevision };
    throw error;
  }
}

/** One call's share of a write transaction: its checked rows, and where its outcomes go. */
interface WritePart {
  actor: Actor;
  count: number;
  candidates: Candidate[];
  rows: NewUser[];
  /** The call's failures: those known before writing, and those the write adds. */
  failures: Map<number, FieldError[]>;
  atomic: boolean;
  expectedRevision: number | undefined;
  beforeCommit: CreateUsersOptions['beforeCommit'];
  mail: UserEmailComposer | undefined;
  now: string;
  /** Filled by the write: the ids of the rows kept, with their user numbers. */
  inserted?: Map<string, number>;
}

/** The most rows one group commit writes; the calls past it wait for the next. */
const MAX_GROUP_ROWS = MAX_BATCH_SIZE;

interface Waiting {
  part: WritePart;
  resolve: (usersRevision: number | undefined) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit, per tenant: a call arriving while one of the same tenant is being written
 * waits, and all those waiting are then written together in one transaction — one insert, one
 * seat count, one audit insert, one commit — instead of one transaction each, which on
 * PostgreSQL would also queue on the tenant row's lock. Each call still gets its own outcomes.
 */
class WriteGroups {
  readonly #waiting = new Map<string, Waiting[]>();
  readonly #writing = new Set<string>();

  constructor(private readonly deps: CoreDeps) {}

  submit(tenantId: string, part: WritePart): Promise<number | undefined> {
    return new Promise((resolve, reject) => {
      const queue = this.#waiting.get(tenantId);
      if (queue) queue.push({ part, resolve, reject });
      else this.#waiting.set(tenantId, [{ part, resolve, reject }]);
      if (!this.#writing.has(tenantId)) {
        // The first to arrive waits one turn of the event loop, so that the requests already
        // read from their sockets in this turn join its group instead of forming the next one.
        this.#writing.add(tenantId);
        setImmediate(() => void this.#drain(tenantId));
      }
    });
  }

  async #drain(tenantId: string): Promise<void> {
    try {
      for (;;) {
        const queue = this.#waiting.get(tenantId);
        if (!queue || queue.length === 0) break;
        let rows = 0;
        let take = 0;
        while (take < queue.length && (take === 0 || rows + queue[take]!.part.rows.length <= MAX_GROUP_ROWS)) rows += queue[take++]!.part.rows.length;
        const group = queue.splice(0, take);
        if (queue.length === 0) this.#waiting.delete(tenantId);
        try {
          const usersRevision = await writeParts(this.deps, tenantId, group.map((w) => w.part));
          for (const w of group) w.resolve(usersRevision);
        } catch (error) {
          if (group.length === 1) group[0]!.reject(error);
          // One call's fault (a role deleted since its references were checked, a message that
          // cannot be composed) must not fail the calls grouped with it: the group wrote
          // nothing, so each call is written again alone and only those that fail alone fail.
          else for (const w of group) await writeParts(this.deps, tenantId, [w.part]).then(w.resolve, w.reject);
        }
      }
    } finally {
      this.#writing.delete(tenantId);
    }
  }
}

const groupsByStore = new WeakMap<object, WriteGroups>();

/** The group commits of one user store (one database). */
function writeGroups(deps: CoreDeps): WriteGroups {
  let groups = groupsByStore.get(deps.users);
  if (!groups) groupsByStore.set(deps.users, (groups = new WriteGroups(deps)));
  return groups;
}

/**
 * 7. One transaction for the parts: insert, learn which rows the unique indexes refused, take
 * seats, then the messages and audit events of the users kept. Returns the users revision
 * after the write, if anything was written. Only a part that runs alone may be atomic, name an
 * expected revision or bring writes of its own.
 */
async function writeParts(deps: CoreDeps, tenantId: string, parts: readonly WritePart[]): Promise<number | undefined> {
  let revisionAfterWrite: number | undefined;
  // The store may run the transaction more than once (after a deadlock): each attempt starts
  // again from the failures known before it, so that none is reported twice.
  const failuresBefore = parts.map((part) => new Map([...part.failures].map(([index, errors]) => [index, [...errors]])));
  const startAgain = () =>
    parts.forEach((part, p) => {
      part.failures.clear();
      for (const [index, errors] of failuresBefore[p]!) part.failures.set(index, [...errors]);
      part.inserted = new Map();
    });
  await deps.users.transaction(async (tx) => {
    revisionAfterWrite = undefined;
    startAgain();
    const alone = parts.length === 1 ? parts[0]! : undefined;
    if (alone?.expectedRevision !== undefined) {
      // The authoritative check: the tenant row stays locked until this transaction ends.
      const current = await tx.lockUsersRevision(tenantId);
      if (current !== alone.expectedRevision) throw new StaleUsersRevision(current);
    }
    const allRows = parts.flatMap((part) => part.rows);
    const inserted = allRows.length > 0 ? await tx.insertUsers(allRows) : new Map<string, number>();
    const refused = parts.flatMap((part) => part.candidates.flatMap((candidate, i) => (inserted.has(part.rows[i]!.id) ? [] : [{ part, candidate }])));
    if (refused.length > 0) {
      const taken = await tx.findTaken(tenantId, refused.map((r) => r.candidate.draft.emailKey), refused.map((r) => r.candidate.draft.userNameKey), externalIdsOf(refused.map((r) => r.candidate)));
      for (const { part, candidate } of refused) {
        failOne(part, candidate.index, duplicateOf(candidate.draft, taken, 'in this tenant') ?? fieldError('email', 'DUPLICATE_EMAIL', 'This email address is already used in this tenant.'));
      }
      if (alone?.atomic) throw new AtomicRollback(new Map(alone.failures));
    }
    if (inserted.size > 0) {
      const seats = await tx.addUsers(tenantId, inserted.size);
      revisionAfterWrite = seats.usersRevision;
      const excess = seats.seatLimit === null ? 0 : seats.userCount - seats.seatLimit;
      if (excess > 0) {
        // Another request took the seats first: the users last written give theirs back.
        const kept = parts.flatMap((part) => part.candidates.flatMap((candidate, i) => (inserted.has(part.rows[i]!.id) ? [{ part, candidate, id: part.rows[i]!.id }] : [])));
        const losers = kept.slice(-excess);
        for (const { part, candidate } of losers) failOne(part, candidate.index, seatError());
        if (alone?.atomic) throw new AtomicRollback(new Map(alone.failures));
        await tx.deleteUsers(tenantId, losers.map((l) => l.id));
        revisionAfterWrite = (await tx.addUsers(tenantId, -excess)).usersRevision;
        for (const { id } of losers) inserted.delete(id);
      }
    }
    for (const part of parts) {
      for (const row of part.rows) {
        const number = inserted.get(row.id);
        if (number !== undefined) part.inserted!.set(row.id, number);
      }
    }
    if (inserted.size > 0) {
      // 8. The users finally kept get their welcome or invitation in the same transaction:
      // no user without its message, no message for a user rolled back.
      const batches: EmailBatch[] = [];
      for (const part of parts) if (part.mail && part.inserted!.size > 0) batches.push(await part.mail.compose(createdUsers(part.candidates, part.rows, part.inserted!)));
      if (batches.length > 0) await tx.insertEmails(batches.length === 1 ? batches[0]! : { messages: batches.flatMap((b) => b.messages), invitations: batches.flatMap((b) => b.invitations) });
      // 9. One audit event per user kept, in the same transaction: a rolled-back batch records nothing.
      await tx.recordAudit(
        parts.flatMap((part) => part.rows.flatMap((row) => {
          const number = part.inserted!.get(row.id);
          return number === undefined ? [] : [auditEvent(deps, part.actor, tenantId, 'user.created', row.id, { number }, part.now)];
        })),
      );
    }
    if (alone?.beforeCommit) await alone.beforeCommit(report(alone.count, alone.failures, createdByIndexOf(alone.candidates, alone.rows, alone.inserted!), false, alone.atomic, true).outcomes);
  }).catch((error: unknown) => {
    // Nothing was written: the parts are left as they came, to be written again (alone).
    startAgain();
    throw error;
  });
  return revisionAfterWrite;
}

function failOne(part: WritePart, index: number, error: FieldError): void {
  part.failures.set(index, [...(part.failures.get(index) ?? []), error]);
}

/** The users inserted and kept, by the index of their draft. */
function createdByIndexOf(candidates: readonly Candidate[], rows: readonly NewUser[], inserted: ReadonlyMap<string, number> | undefined): Map<number, User> {
  const byIndex = new Map<number, User>();
  if (inserted === undefined) return byIndex;
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
  // Field by field: an object rest spread costs more than the rest of the row's handling.
  return {
    id: row.id,
    number,
    tenantId: row.tenantId,
    userName: row.userName,
    email: row.email,
    name: row.name,
    phoneNumber: row.phoneNumber,
    roles: row.roles,
    access: row.access,
    lockedOut: row.lockedOut,
    approved: row.approved,
    hasPassword: row.passwordHash !== null,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    revision: row.revision,
    externalId: row.externalId,
    displayName: row.displayName,
    employeeNumber: row.employeeNumber,
    department: row.department,
  };
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
