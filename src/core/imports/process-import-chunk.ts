import { isDomainError, type FieldError } from '../errors.js';
import type { CoreDeps } from '../ports.js';
import { createUsers, type UserOutcome } from '../users/create-users.js';
import { MAX_CHUNK_ATTEMPTS, type ClaimedChunk, type ImportChunkTx, type ImportCounts, type ImportRowError, type OnConflict } from './import-job.js';

/** What running import jobs needs: the whole core (the create path) and its import store. */
export type ImportRunDeps = CoreDeps;

/** What one round of the runner did. */
export type ChunkReport =
  | { status: 'idle' }
  | { status: 'done'; jobId: string; chunkNo: number; counts: ImportCounts }
  /** Another process took the chunk over, or the job was cancelled: nothing of it was committed here. */
  | { status: 'lost'; jobId: string; chunkNo: number }
  /** The job cannot go on (its tenant is gone, say): it is marked failed. */
  | { status: 'job-failed'; jobId: string; chunkNo: number; reason: string }
  /** An unexpected error; the chunk is given back to be tried again (or the job failed after too many tries). */
  | { status: 'error'; jobId: string; chunkNo: number; error: unknown };

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

/**
 * Counts and row errors of a processed chunk. Under `onConflict=skip` a row refused only
 * because its email, user name or external id is taken (by an existing user or an earlier
 * row of the upload) is skipped, not failed.
 */
function tally(chunk: ClaimedChunk, drafts: { row: number; draft: unknown }[], outcomes: readonly UserOutcome[], onConflict: OnConflict): { counts: ImportCounts; errors: ImportRowError[] } {
  const counts: ImportCounts = { processed: chunk.rows.length, created: 0, failed: 0, skipped: 0 };
  const errors: ImportRowError[] = [];
  for (const row of chunk.rows) {
    if ('problem' in row) {
      counts.failed++;
      errors.push({ row: row.row, email: row.email?.slice(0, MAX_EMAIL_IN_REPORT) ?? null, ...row.problem });
    }
  }
  for (const outcome of outcomes) {
    const { row, draft } = drafts[outcome.index]!;
    if (outcome.status !== 'failed') {
      counts.created++;
      continue;
    }
    if (onConflict === 'skip' && isTaken(outcome.error.errors)) {
      counts.skipped++;
      continue;
    }
    counts.failed++;
    const email = emailOf(draft);
    for (const e of outcome.error.errors) errors.push({ row, email, code: e.code, field: e.field, message: e.message });
  }
  errors.sort((a, b) => a.row - b.row);
  return { counts, errors };
}

/**
 * Runs one chunk of one import job through the create path — the same `createUsers` every
 * API uses — and records the job's progress in the transaction that creates the chunk's
 * users, so that a crash leaves either both or neither: a restarted job goes on after its last
 * committed chunk, with no row lost and none created twice.
 */
export async function processImportChunk(deps: ImportRunDeps, chunk: ClaimedChunk): Promise<ImportCounts> {
  const { job } = chunk;
  const drafts = chunk.rows.flatMap((r) => ('draft' in r ? [{ row: r.row, draft: r.draft }] : []));
  const at = () => deps.clock.now().toISOString();
  const record = async (imports: ImportChunkTx, outcomes: readonly UserOutcome[]) => {
    const result = tally(chunk, drafts, outcomes, job.options.onConflict);
    if (!(await imports.completeChunk(chunk, result.counts, result.errors, at()))) throw new ClaimLost();
    return result.counts;
  };

  if (drafts.length === 0 || job.options.dryRun) {
    // Nothing is written for these users: only the job's progress needs a transaction.
    const outcomes = drafts.length === 0 ? [] : (await createUsers(deps, job.tenantId, job.actor, drafts.map((d) => d.draft), { dryRun: true, priority: 'background' })).outcomes;
    return deps.imports.chunkTransaction((_users, imports) => record(imports, outcomes));
  }

  let counts: ImportCounts | undefined;
  // The create path's transaction becomes the chunk's: the users and the job's progress commit together.
  let chunkWrites: ImportChunkTx | undefined;
  const inChunkTransaction: ImportRunDeps = {
    ...deps,
    users: {
      ...deps.users,
      transaction: (work) =>
        deps.imports.chunkTransaction((users, imports) => {
          chunkWrites = imports;
          return work(users);
        }),
    },
  };
  await createUsers(inChunkTransaction, job.tenantId, job.actor, drafts.map((d) => d.draft), {
    notify: job.options.notify,
    // Hashing for an import waits for capacity that interactive requests leave.
    priority: 'background',
    beforeCommit: async (outcomes) => {
      counts = await record(chunkWrites!, outcomes);
    },
  });
  return counts!;
}

/**
 * Claims the next due chunk of any job and processes it. A DomainError from the create
 * path (the tenant was deleted, say) fails the whole job; any other error gives the chunk
 * back to be tried again, and fails the job once a chunk has failed MAX_CHUNK_ATTEMPTS times.
 */
export async function runNextImportChunk(deps: ImportRunDeps, owner: string, leaseMs: number): Promise<ChunkReport> {
  const now = deps.clock.now();
  const chunk = await deps.imports.claimChunk(owner, now.toISOString(), new Date(now.getTime() + leaseMs).toISOString());
  if (!chunk) return { status: 'idle' };
  const ids = { jobId: chunk.job.id, chunkNo: chunk.chunkNo };
  try {
    return { status: 'done', ...ids, counts: await processImportChunk(deps, chunk) };
  } catch (error) {
    if (error instanceof ClaimLost) return { status: 'lost', ...ids };
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
  }
}
