import { isDomainError, type FieldError } from '../errors.js';
import type { CoreDeps, UserStore } from '../ports.js';
import { createUsers, writePlan, type UserOutcome } from '../users/create-users.js';
import { planCreates, type PlanPorts } from '../users/plan-creates.js';
import type { UpdateUserPorts } from '../users/update-user.js';
import { identityKey } from '../users/normalise.js';
import { updateExistingUsers, type UpdateOutcome } from './update-existing.js';
import { MAX_CHUNK_ATTEMPTS, MAX_CHUNK_CLAIMS, type ClaimedChunk, type ImportChunkTx, type ImportCounts, type ImportRowError, type OnConflict, type RowSource } from './import-job.js';

/** What running import jobs needs: the create path's ports (planning, and updates under onConflict=update) and the import store. */
export type ImportRunDeps = PlanPorts & UpdateUserPorts & Pick<CoreDeps, 'imports' | 'userWrites'> & { users: Pick<UserStore, 'list' | 'findTaken' | 'get' | 'update'> };

/** What one round of the runner did. */
export type ChunkReport =
  | { status: 'idle' }
  | { status: 'done'; jobId: string; chunkNo: number; counts: ImportCounts }
  /** Another process took the chunk over, or the job was cancelled: nothing of it was committed here. */
  | { status: 'lost'; jobId: string; chunkNo: number }
  /** The job cannot go on (its tenant is gone, say): it is marked failed. */
  | { status: 'job-failed'; jobId: string; chunkNo: number; reason: string }
  /** An unexpected error; the chunk is given back to be tried again (or the job failed after too many tries). */
  | { status: 'error'; jobId: string; chunkNo: number; error: unknown }
  /** The runner is stopping: the chunk was given back uncommitted, for any process to take at once. */
  | { status: 'stopped'; jobId: string; chunkNo: number };

export interface ChunkRunOptions {
  /** Aborted when the runner stops: the chunk's work ends at the next step and its lease is given back. */
  stop?: AbortSignal;
  /** Claims of one chunk after which its job fails (default MAX_CHUNK_CLAIMS). */
  maxClaims?: number;
  /** How often the lease is renewed while the chunk is worked on (default a third of the lease). */
  renewEveryMs?: number;
}

/** Passwords hashed per step of a chunk: between two steps the worker checks that the chunk is still its own. */
const HASH_STEP = 32;

/** Thrown inside a chunk's transaction when its claim is no longer this one's, to roll the chunk back. */
class ClaimLost extends Error {
  constructor() {
    super('the chunk claim was lost');
  }
}

const MAX_EMAIL_IN_REPORT = 320;

function emailOf(draft: unknown): string | null {
  const email = (draft as { email?: unknown } | null)?.email;
  return typeof email === 'string' ? email.slice(0, MAX_EMAIL_IN_REPORT) : null;
}

/** Whether a row was refused only because its email, user name or external id is someone's already. */
function isTaken(errors: readonly FieldError[]): boolean {
  return errors.length > 0 && errors.every((e) => e.code === 'DUPLICATE_EMAIL' || e.code === 'DUPLICATE_USERNAME' || (e.code === 'CONFLICT' && e.field === 'externalId'));
}

/** A readable row of a chunk: its number, its draft and, for a CSV row, its cells as uploaded. */
interface DraftRow {
  row: number;
  draft: unknown;
  source?: RowSource | undefined;
}

/** Fields a row's source never shows. */
const SECRET_FIELDS = ['password', 'confirmPassword', 'passwordHash'];

/** A row as the errors report shows it: the CSV cells as uploaded, or the JSON row without its passwords. */
function sourceOf(row: DraftRow): RowSource {
  if (row.source !== undefined) return row.source;
  if (typeof row.draft !== 'object' || row.draft === null || Array.isArray(row.draft)) return { value: row.draft };
  return Object.fromEntries(Object.entries(row.draft).filter(([key]) => !SECRET_FIELDS.includes(key)));
}

const DUPLICATE_FIELDS: Partial<Record<string, { field: string; what: string }>> = {
  DUPLICATE_EMAIL: { field: 'email', what: 'email address' },
  DUPLICATE_USERNAME: { field: 'userName', what: 'user name' },
};

/**
 * An error as the report shows it. A duplicate within the upload names the row it duplicates:
 * the create path reports "an earlier record of this batch", and the earlier row of this chunk
 * with the same identity (email, or user name, which defaults to the email) is found here.
 */
function reportedError(drafts: readonly DraftRow[], index: number, error: FieldError): FieldError {
  // `roles.N` counts in the row's roles as the core sorts them, not in its cell: the message names the role.
  if (/^roles\.\d+$/.test(error.field)) return { ...error, field: 'roles' };
  const duplicate = DUPLICATE_FIELDS[error.code];
  if (!duplicate || !/earlier record/.test(error.message)) return error;
  const keyOf = (draft: unknown): string | undefined => {
    const d = draft as Record<string, unknown> | null;
    const value = duplicate.field === 'userName' ? (d?.userName ?? d?.email) : d?.email;
    return typeof value === 'string' ? identityKey(value.trim()) : undefined;
  };
  const key = keyOf(drafts[index]!.draft);
  if (key === undefined) return error;
  for (let i = 0; i < index; i++) {
    if (keyOf(drafts[i]!.draft) === key) return { ...error, message: `This ${duplicate.what} is already used by row ${drafts[i]!.row} of this upload.` };
  }
  return error;
}

/**
 * Counts and row errors of a processed chunk. Under `onConflict=skip` a row refused only
 * because its email, user name or external id is taken (by an existing user or an earlier
 * row of the upload) is skipped, not failed; under `update`, the rows that changed existing
 * users (`updates`) count as updated. Every error carries its row as uploaded.
 */
function tally(
  chunk: ClaimedChunk,
  drafts: readonly DraftRow[],
  outcomes: readonly UserOutcome[],
  onConflict: OnConflict,
  updates: readonly (DraftRow & { outcome: UpdateOutcome })[] = [],
): { counts: ImportCounts; errors: ImportRowError[] } {
  const counts: ImportCounts = { processed: chunk.rows.length, created: 0, failed: 0, skipped: 0, updated: 0 };
  const errors: ImportRowError[] = [];
  for (const row of chunk.rows) {
    if ('problem' in row) {
      counts.failed++;
      errors.push({ row: row.row, email: row.email?.slice(0, MAX_EMAIL_IN_REPORT) ?? null, ...row.problem, source: row.source ?? null });
    }
  }
  for (const update of updates) {
    if (update.outcome.status === 'updated') {
      counts.updated++;
      continue;
    }
    counts.failed++;
    const source = sourceOf(update);
    for (const e of update.outcome.errors) errors.push({ row: update.row, email: emailOf(update.draft), code: e.code, field: e.field, message: e.message, source });
  }
  for (const outcome of outcomes) {
    const drafted = drafts[outcome.index]!;
    if (outcome.status !== 'failed') {
      counts.created++;
      continue;
    }
    if (onConflict === 'skip' && isTaken(outcome.error.errors)) {
      counts.skipped++;
      continue;
    }
    counts.failed++;
    const email = emailOf(drafted.draft);
    const source = sourceOf(drafted);
    for (const e of outcome.error.errors) {
      const named = reportedError(drafts, outcome.index, e);
      errors.push({ row: drafted.row, email, code: named.code, field: named.field, message: named.message, source });
    }
  }
  errors.sort((a, b) => a.row - b.row);
  return { counts, errors };
}

/**
 * Runs one chunk of one import job through the create path — the planner and the writer that
 * `createUsers` uses for every API, the chunk's transaction passed to the writer — and records the job's progress in the transaction that creates the chunk's
 * users, so that a crash leaves either both or neither: a restarted job goes on after its last
 * committed chunk, with no row lost and none created twice.
 */
export async function processImportChunk(deps: ImportRunDeps, chunk: ClaimedChunk, abandon?: AbortSignal): Promise<ImportCounts> {
  const { job } = chunk;
  const readable: DraftRow[] = chunk.rows.flatMap((r) => ('draft' in r ? [{ row: r.row, draft: r.draft, source: r.source }] : []));
  // onConflict=update: the rows naming existing users change them, through the PATCH use case
  // (see update-existing.ts); the other rows go on to the create path.
  const updateOutcomes =
    job.options.onConflict === 'update' && readable.length > 0 ? await updateExistingUsers(deps, job.tenantId, job.actor, readable.map((d) => d.draft), job.options.dryRun) : [];
  const updates = updateOutcomes.map((outcome) => ({ ...readable[outcome.index]!, outcome }));
  const handled = new Set(updateOutcomes.map((u) => u.index));
  const drafts = handled.size === 0 ? readable : readable.filter((_, i) => !handled.has(i));
  const at = () => deps.clock.now().toISOString();
  const record = async (imports: ImportChunkTx, outcomes: readonly UserOutcome[]) => {
    const result = tally(chunk, drafts, outcomes, job.options.onConflict, updates);
    if (!(await imports.completeChunk(chunk, result.counts, result.errors, at()))) throw new ClaimLost();
    return result.counts;
  };

  if (drafts.length === 0 || job.options.dryRun) {
    // Nothing is written for these users: only the job's progress needs a transaction.
    const outcomes = drafts.length === 0 ? [] : (await createUsers(deps, job.tenantId, job.actor, drafts.map((d) => d.draft), { dryRun: true, priority: 'background' })).outcomes;
    return deps.imports.chunkTransaction((_users, imports) => record(imports, outcomes));
  }

  const checkClaim = () => {
    if (abandon?.aborted) throw new ClaimLost();
  };
  // Hashing is most of a chunk's time: it goes in steps, and stops as soon as the chunk is no
  // longer this worker's (its lease lost, or the runner stopping).
  const hasher: ImportRunDeps['hasher'] = abandon
    ? {
        ...deps.hasher,
        hashAll: async (passwords, priority) => {
          const hashes: (string | undefined)[] = [];
          for (let i = 0; i < passwords.length; i += HASH_STEP) {
            checkClaim();
            hashes.push(...(await deps.hasher.hashAll(passwords.slice(i, i + HASH_STEP), priority)));
          }
          checkClaim();
          return hashes;
        },
      }
    : deps.hasher;
  const plan = await planCreates({ ...deps, hasher }, job.tenantId, job.actor, drafts.map((d) => d.draft), {
    notify: job.options.notify,
    // Hashing for an import waits for capacity that interactive requests leave.
    priority: 'background',
  });
  // The users are written in the chunk's own transaction: they and the job's progress commit together.
  return deps.imports.chunkTransaction(async (users, imports) => {
    checkClaim();
    const { outcomes } = await writePlan(deps, plan, { within: users });
    return record(imports, outcomes);
  });
}

/**
 * Claims the next due chunk of any job and processes it. A DomainError from the create
 * path (the tenant was deleted, say) fails the whole job; any other error gives the chunk
 * back to be tried again, and fails the job once a chunk has failed MAX_CHUNK_ATTEMPTS times.
 */
export async function runNextImportChunk(deps: ImportRunDeps, owner: string, leaseMs: number, options: ChunkRunOptions = {}): Promise<ChunkReport> {
  if (options.stop?.aborted) return { status: 'idle' };
  const now = deps.clock.now();
  const chunk = await deps.imports.claimChunk(owner, now.toISOString(), new Date(now.getTime() + leaseMs).toISOString());
  if (!chunk) return { status: 'idle' };
  const ids = { jobId: chunk.job.id, chunkNo: chunk.chunkNo };
  const maxClaims = options.maxClaims ?? MAX_CHUNK_CLAIMS;
  if (chunk.attempts > maxClaims) {
    const reason =
      `Rows ${chunk.firstRow} to ${chunk.lastRow} were claimed ${chunk.attempts} times without being committed ` +
      `(each worker stopped or lost its lease before it finished); the rows before them are committed.`;
    await deps.imports.failJob(chunk.job.id, reason, deps.clock.now().toISOString());
    return { status: 'job-failed', ...ids, reason };
  }

  // The lease is renewed while the chunk is worked on, however long hashing takes; once a
  // renewal finds the claim gone (another process took the chunk over after a stall, or the job
  // was cancelled), the work stops at its next step.
  const abandon = new AbortController();
  const onStop = () => abandon.abort('stopping');
  options.stop?.addEventListener('abort', onStop);
  let renewing: Promise<unknown> = Promise.resolve();
  const renewal = setInterval(
    () => {
      renewing = renewing.then(async () => {
        if (abandon.signal.aborted) return;
        try {
          const until = new Date(deps.clock.now().getTime() + leaseMs).toISOString();
          if (!(await deps.imports.renewChunk(chunk, until))) abandon.abort('lost');
        } catch {
          // The database did not answer this time; the next renewal tries again before the lease ends.
        }
      });
    },
    Math.max(20, options.renewEveryMs ?? Math.floor(leaseMs / 3)),
  );
  try {
    return { status: 'done', ...ids, counts: await processImportChunk(deps, chunk, abandon.signal) };
  } catch (error) {
    if (error instanceof ClaimLost) {
      if (abandon.signal.reason === 'stopping') {
        await deps.imports.releaseChunk(chunk, { uncounted: true });
        return { status: 'stopped', ...ids };
      }
      return { status: 'lost', ...ids };
    }
    if (isDomainError(error)) {
      const reason = `Stopped at row ${chunk.firstRow}: ${error.message}`;
      await deps.imports.failJob(chunk.job.id, reason, deps.clock.now().toISOString());
      return { status: 'job-failed', ...ids, reason };
    }
    if (chunk.attempts >= MAX_CHUNK_ATTEMPTS) {
      const reason = `Rows ${chunk.firstRow} to ${chunk.lastRow} could not be processed after ${chunk.attempts} attempts; the rows before them are committed.`;
      await deps.imports.failJob(chunk.job.id, reason, deps.clock.now().toISOString());
      return { status: 'job-failed', ...ids, reason };
    }
    await deps.imports.releaseChunk(chunk);
    return { status: 'error', ...ids, error };
  } finally {
    clearInterval(renewal);
    options.stop?.removeEventListener('abort', onStop);
    await renewing;
  }
}
