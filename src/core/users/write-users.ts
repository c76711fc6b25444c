import { auditEvent } from '../audit/audit.js';
import type { Actor } from '../credentials/actor.js';
import type { EmailBatch } from '../email/email.js';
import type { CreatedUser, UserEmailComposer } from '../email/compose-user-emails.js';
import { fieldError, type FieldError } from '../errors.js';
import type { CoreDeps, UserStore, UserWriteTx } from '../ports.js';
import { duplicateOf, externalIdsOf, seatError, type PlannedUser } from './plan-creates.js';
import type { NewUser, User } from './user.js';

/** One call's share of a write: its planned rows, and what it knew of its drafts before writing. */
export interface WritePart {
  actor: Actor;
  /** The drafts to write, each with its index in the call; `rows[i]` is the row of `candidates[i]`. */
  candidates: readonly PlannedUser[];
  rows: readonly NewUser[];
  /** The failures known before writing, by draft index. The writer never changes them. */
  failures: ReadonlyMap<number, FieldError[]>;
  /** All the part's rows or none: any refused row rolls the whole transaction back. */
  atomic: boolean;
  /** Write only if the tenant's users revision is still this one (checked with the tenant row locked). */
  expectedRevision: number | undefined;
  mail: UserEmailComposer | undefined;
  /** When the rows were made, for their audit events. */
  now: string;
  /**
   * The caller's own writes, run last inside the transaction with the part as it will be
   * reported: throwing rolls everything back. Not called when the write is refused.
   */
  beforeCommit: ((written: PartWritten) => Promise<void>) | undefined;
}

/** What the write made of one part. */
export interface PartWritten {
  /** The part's failures: those known before writing, and those the write added. */
  failures: ReadonlyMap<number, FieldError[]>;
  /** The ids of the rows kept, with their user numbers. */
  inserted: ReadonlyMap<string, number>;
}

/**
 * How a write ended, with each part's outcome in the order the parts were given.
 * - `commit`: the rows kept are written; `usersRevision` is the tenant's after the write (undefined when nothing was written).
 * - `rollback`: nothing is written. `staleRevision` says the part's expected revision was not
 *   the tenant's (this one is); otherwise an atomic part had a failure, which `parts` name.
 */
export type WriteResult =
  | { decision: 'commit'; usersRevision: number | undefined; parts: PartWritten[] }
  | { decision: 'rollback'; staleRevision: number | undefined; parts: PartWritten[] };

/**
 * Writes parts of one tenant. Resolves with a result for each part (a refusal is a result, not
 * an error); rejects when the database or a part's `beforeCommit` fails, having written nothing.
 */
export interface UsersWriter {
  write(tenantId: string, parts: readonly WritePart[]): Promise<WriteResult>;
}

/** What the writer needs besides the transaction: the clock and ids of the audit events. */
export type WritePorts = Pick<CoreDeps, 'clock' | 'ids'>;

/** A writer that writes each call in a transaction of its own, opened on the users store. */
export function transactionWriter(ports: WritePorts & { users: Pick<UserStore, 'transaction'> }): UsersWriter {
  return {
    write: (tenantId, parts) =>
      ports.users.transaction(async (tx) => {
        const result = await writeUsers(ports, tx, tenantId, parts);
        return { decision: result.decision, value: result };
      }),
  };
}

/**
 * The write of a create, inside an open transaction: insert, learn which rows the unique
 * indexes refused, take seats, then the messages and audit events of the users kept, then each
 * part's `beforeCommit`. Returns the decision with each part's outcome; the transaction's owner
 * commits or rolls back on it. Only a part written alone may be atomic, name an expected
 * revision or bring writes of its own.
 *
 * The parts are not changed: a transaction the database runs again (after a deadlock) calls
 * this again, which starts from the same plan, so that no failure is reported twice.
 */
export async function writeUsers(ports: WritePorts, tx: UserWriteTx, tenantId: string, parts: readonly WritePart[]): Promise<WriteResult> {
  const alone = parts.length === 1 ? parts[0]! : undefined;
  const written = parts.map((part) => ({ failures: new Map(part.failures), inserted: new Map<string, number>() }));
  if (alone?.expectedRevision !== undefined) {
    // The authoritative check: the tenant row stays locked until this transaction ends.
    const current = await tx.lockUsersRevision(tenantId);
    if (current !== alone.expectedRevision) return { decision: 'rollback', staleRevision: current, parts: written };
  }
  const allRows = parts.length === 1 ? parts[0]!.rows : parts.flatMap((part) => part.rows);
  const inserted = allRows.length > 0 ? await tx.insertUsers(allRows) : new Map<string, number>();
  let usersRevision: number | undefined;
  const refused = parts.flatMap((part, p) => part.candidates.flatMap((candidate, i) => (inserted.has(part.rows[i]!.id) ? [] : [{ p, candidate }])));
  if (refused.length > 0) {
    const taken = await tx.findTaken(tenantId, refused.map((r) => r.candidate.draft.emailKey), refused.map((r) => r.candidate.draft.userNameKey), externalIdsOf(refused.map((r) => r.candidate)));
    for (const { p, candidate } of refused) {
      failOne(written[p]!.failures, candidate.index, duplicateOf(candidate.draft, taken, 'in this tenant') ?? fieldError('email', 'DUPLICATE_EMAIL', 'This email address is already used in this tenant.'));
    }
    if (alone?.atomic) return { decision: 'rollback', staleRevision: undefined, parts: written };
  }
  if (inserted.size > 0) {
    const seats = await tx.addUsers(tenantId, inserted.size);
    usersRevision = seats.usersRevision;
    const excess = seats.seatLimit === null ? 0 : seats.userCount - seats.seatLimit;
    if (excess > 0) {
      // Another request took the seats first: the users last written give theirs back.
      const kept = parts.flatMap((part, p) => part.candidates.flatMap((candidate, i) => (inserted.has(part.rows[i]!.id) ? [{ p, candidate, id: part.rows[i]!.id }] : [])));
      const losers = kept.slice(-excess);
      for (const { p, candidate } of losers) failOne(written[p]!.failures, candidate.index, seatError());
      if (alone?.atomic) return { decision: 'rollback', staleRevision: undefined, parts: written };
      await tx.deleteUsers(tenantId, losers.map((l) => l.id));
      usersRevision = (await tx.addUsers(tenantId, -excess)).usersRevision;
      for (const { id } of losers) inserted.delete(id);
    }
  }
  for (let p = 0; p < parts.length; p++) {
    const part = parts[p]!;
    const kept = written[p]!.inserted;
    for (const row of part.rows) {
      const number = inserted.get(row.id);
      if (number !== undefined) kept.set(row.id, number);
    }
  }
  if (inserted.size > 0) {
    // The users finally kept get their welcome or invitation in the same transaction:
    // no user without its message, no message for a user rolled back.
    const batches: EmailBatch[] = [];
    for (let p = 0; p < parts.length; p++) {
      const part = parts[p]!;
      const kept = written[p]!.inserted;
      if (part.mail && kept.size > 0) batches.push(await part.mail.compose(createdUsers(part.candidates, part.rows, kept)));
    }
    if (batches.length > 0) await tx.insertEmails(batches.length === 1 ? batches[0]! : { messages: batches.flatMap((b) => b.messages), invitations: batches.flatMap((b) => b.invitations) });
    // One audit event per user kept, in the same transaction: a rolled-back batch records nothing.
    await tx.recordAudit(
      parts.flatMap((part, p) => {
        const kept = written[p]!.inserted;
        return part.rows.flatMap((row) => {
          const number = kept.get(row.id);
          return number === undefined ? [] : [auditEvent(ports, part.actor, tenantId, 'user.created', row.id, { number }, part.now)];
        });
      }),
    );
  }
  if (alone?.beforeCommit) await alone.beforeCommit(written[0]!);
  return { decision: 'commit', usersRevision, parts: written };
}

function failOne(failures: Map<number, FieldError[]>, index: number, error: FieldError): void {
  failures.set(index, [...(failures.get(index) ?? []), error]);
}

/** The users this part inserted and kept; those without a password of their own are invited to set one. */
function createdUsers(candidates: readonly PlannedUser[], rows: readonly NewUser[], inserted: ReadonlyMap<string, number>): CreatedUser[] {
  return candidates.flatMap(({ draft }, i) => {
    const row = rows[i]!;
    const number = inserted.get(row.id);
    return number === undefined ? [] : [{ user: toUser(row, number), invite: draft.password === undefined && draft.passwordHash === undefined }];
  });
}

/** The user a row kept by the write became. */
export function toUser(row: NewUser, number: number): User {
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
