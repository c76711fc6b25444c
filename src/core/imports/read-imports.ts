import type { Actor } from '../credentials/actor.js';
import { DomainError } from '../errors.js';
import { loadTenant } from '../tenants/load-tenant.js';
import { FINAL_STATES, type ImportJob, type ImportRowError } from './import-job.js';
import type { ImportDeps } from './start-import.js';

/** The most jobs one list answer holds. */
export const MAX_IMPORT_LIST = 100;
/** Errors read from the database per round while a report streams out. */
const ERROR_PAGE = 1000;

export interface ImportProgress {
  /** Rows per second since the job started (over its whole run once it has ended); null before it starts. */
  rate: number | null;
  /** Seconds until the last row at the current rate; 0 once ended, null while unknown. */
  etaSeconds: number | null;
}

/** How fast a job goes and when it should end, as seen at `now`. */
export function importProgress(job: ImportJob, now: Date): ImportProgress {
  const ended = FINAL_STATES.includes(job.state);
  if (job.startedAt === null) return { rate: null, etaSeconds: ended ? 0 : null };
  const until = ended && job.finishedAt !== null ? Date.parse(job.finishedAt) : now.getTime();
  const seconds = Math.max(0.001, (until - Date.parse(job.startedAt)) / 1000);
  const rate = Math.round((job.processed / seconds) * 10) / 10;
  if (ended) return { rate, etaSeconds: 0 };
  return { rate, etaSeconds: rate > 0 ? Math.ceil((job.total - job.processed) / rate) : null };
}

export async function getImport(deps: ImportDeps, tenantId: string, actor: Actor, id: string): Promise<ImportJob> {
  const tenant = await loadTenant(deps.tenants, actor, 'users:read', tenantId);
  const job = await deps.imports.get(tenant.id, id);
  if (!job) throw new DomainError('NOT_FOUND', 'No such import job.');
  return job;
}

export async function listImports(deps: ImportDeps, tenantId: string, actor: Actor, query: { idempotencyKey?: string | undefined; limit?: number | undefined }): Promise<ImportJob[]> {
  const tenant = await loadTenant(deps.tenants, actor, 'users:read', tenantId);
  return deps.imports.list(tenant.id, { idempotencyKey: query.idempotencyKey, limit: Math.min(query.limit ?? 20, MAX_IMPORT_LIST) });
}

/**
 * Cancels a queued or running job: the chunks already committed stay (their users exist),
 * no later chunk commits. Cancelling a cancelled job changes nothing; a completed or failed
 * job cannot be cancelled (CONFLICT).
 */
export async function cancelImport(deps: ImportDeps, tenantId: string, actor: Actor, id: string): Promise<ImportJob> {
  const tenant = await loadTenant(deps.tenants, actor, 'users:write', tenantId);
  const job = await deps.imports.cancel(tenant.id, id, deps.clock.now().toISOString());
  if (!job) throw new DomainError('NOT_FOUND', 'No such import job.');
  if (job.state === 'completed' || job.state === 'failed') {
    throw new DomainError('CONFLICT', `This import job has already ${job.state === 'completed' ? 'completed' : 'failed'}; there is nothing left to cancel.`);
  }
  return job;
}

/**
 * The row errors of a job, in row order, read page by page so that a report of any size
 * streams out in bounded memory. Authorization happens before the first error is read.
 */
export async function importErrors(deps: ImportDeps, tenantId: string, actor: Actor, id: string): Promise<{ job: ImportJob; errors: AsyncIterable<ImportRowError> }> {
  const job = await getImport(deps, tenantId, actor, id);
  async function* pages(): AsyncGenerator<ImportRowError> {
    let after: { row: number; seq: number } | undefined;
    for (;;) {
      const page = await deps.imports.errors(job.id, after, ERROR_PAGE);
      yield* page.errors;
      if (page.next === null) return;
      after = page.next;
    }
  }
  return { job, errors: pages() };
}
