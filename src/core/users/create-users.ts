import type { Actor } from '../credentials/actor.js';
import { fieldError, itemErrorFrom, type FieldError, type ItemError } from '../errors.js';
import type { CoreDeps, UserWriteTx } from '../ports.js';
import { planCreates, type CreatePlan, type PlannedUser, type PlanOptions, type PlanPorts } from './plan-creates.js';
import type { NewUser, User } from './user.js';
import { toUser, writeUsers, type PartWritten, type WritePorts, type WriteResult } from './write-users.js';

export { assertBatchSize, MAX_BATCH_SIZE } from './plan-creates.js';

export interface CreateUsersOptions extends PlanOptions {
  /**
   * Create only if the tenant's users revision is still this one: checked again inside the
   * write transaction with the tenant row locked, so two requests holding the same revision
   * cannot both write. A stale revision fails every item with PRECONDITION_FAILED and writes nothing.
   */
  expectedUsersRevision?: number;
  /**
   * The caller's own writes, run last inside the write transaction with every draft's outcome
   * as it will be reported: they commit with the users or roll back with them, and throwing
   * rolls the users back too. Not called for a dry run or a refused atomic batch, which write nothing.
   */
  beforeCommit?: (outcomes: readonly UserOutcome[]) => Promise<void>;
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

/** What a create needs: planning's reads, and the writer (group-committed) of the API's creates. */
export type CreateUsersPorts = PlanPorts & Pick<CoreDeps, 'userWrites'>;

/**
 * The one path by which users come to exist, for every API: single create is a batch of one.
 * Plans the create (plan-creates.ts), writes the plan (write-users.ts, through the group commit
 * of group-commit.ts) and reports one outcome per draft, in input order. Uniqueness is decided by
 * the database's unique indexes inside the write transaction; the reads before it only make the
 * report friendlier and make dry runs complete.
 */
export async function createUsers(
  ports: CreateUsersPorts,
  tenantId: string,
  actor: Actor,
  drafts: readonly unknown[],
  options: CreateUsersOptions = {},
): Promise<CreateUsersResult> {
  const plan = await planCreates(ports, tenantId, actor, drafts, options);
  return writePlan(ports, plan, options.beforeCommit === undefined ? {} : { beforeCommit: options.beforeCommit });
}

export interface WritePlanOptions {
  /** As `CreateUsersOptions.beforeCommit`. */
  beforeCommit?: CreateUsersOptions['beforeCommit'];
  /**
   * The caller's own open transaction to write in (an import chunk's, which records the job's
   * progress with the users): the write commits or rolls back with it, and is not grouped with
   * others. Its plan must not be atomic nor name an expected revision, which need a transaction
   * of their own to roll back.
   */
  within?: UserWriteTx;
}

/**
 * Writes a plan of `planCreates` and reports it: nothing for a stale or checked plan, else
 * through `ports.userWrites` or, with `within`, in the caller's transaction. Writing the same
 * plan again (a transaction the database runs again) reports from the same start.
 */
export async function writePlan(ports: Pick<CoreDeps, 'userWrites'> & WritePorts, plan: CreatePlan, options: WritePlanOptions = {}): Promise<CreateUsersResult> {
  if (plan.kind === 'stale') return preconditionFailed(plan.count, plan.dryRun, plan.atomic, plan.usersRevision);
  if (plan.kind === 'checked') return { ...report(plan.count, plan.failures, new Map(), plan.dryRun, plan.atomic, false), usersRevision: plan.usersRevision };

  const { count, atomic } = plan;
  const { beforeCommit, within } = options;
  const part = beforeCommit === undefined ? plan.part : { ...plan.part, beforeCommit: (written: PartWritten) => beforeCommit(reportWritten(plan, written).outcomes) };
  let result: WriteResult;
  if (within === undefined) {
    result = await ports.userWrites.write(plan.tenantId, [part]);
  } else {
    if (part.atomic || part.expectedRevision !== undefined) throw new Error('an atomic or revision-checked create is written in a transaction of its own');
    result = await writeUsers(ports, within, plan.tenantId, [part]);
  }
  const written = result.parts[0]!;
  if (result.decision === 'commit') return { ...reportWritten(plan, written), usersRevision: result.usersRevision ?? plan.usersRevision };
  if (result.staleRevision !== undefined) return preconditionFailed(count, false, atomic, result.staleRevision);
  return { ...report(count, written.failures, new Map(), false, true, false), usersRevision: plan.usersRevision };
}

/** The report of a plan written and committed. */
function reportWritten(plan: CreatePlan & { kind: 'write' }, written: PartWritten): CreateUsersResult {
  return report(plan.count, written.failures, createdByIndexOf(plan.part.candidates, plan.part.rows, written.inserted), false, plan.atomic, true);
}

/** Every item refused with PRECONDITION_FAILED: the request named a users revision that is no longer current. */
function preconditionFailed(count: number, dryRun: boolean, atomic: boolean, current: number): CreateUsersResult {
  const error = fieldError('', 'PRECONDITION_FAILED', `The users revision has changed; it is now ${current}.`);
  const failures = new Map<number, FieldError[]>();
  for (let index = 0; index < count; index++) failures.set(index, [error]);
  return { ...report(count, failures, new Map(), dryRun, atomic, false), usersRevision: current };
}

/** The users inserted and kept, by the index of their draft. */
function createdByIndexOf(candidates: readonly PlannedUser[], rows: readonly NewUser[], inserted: ReadonlyMap<string, number>): Map<number, User> {
  const byIndex = new Map<number, User>();
  candidates.forEach(({ index }, i) => {
    const number = inserted.get(rows[i]!.id);
    if (number !== undefined) byIndex.set(index, toUser(rows[i]!, number));
  });
  return byIndex;
}

function report(
  count: number,
  failures: ReadonlyMap<number, FieldError[]>,
  created: ReadonlyMap<number, User>,
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
