import type { Actor } from '../credentials/actor.js';
import { yieldIfBusy } from '../event-loop.js';
import { DomainError } from '../errors.js';
import type { Clock, Ids, TenantStore } from '../ports.js';
import { loadTenant } from '../tenants/load-tenant.js';
import { IMPORT_CHUNK_SIZE, STAGE_BATCH_SIZE, type ImportFormat, type ImportJob, type ImportOptions, type ImportStore, type StagedRow } from './import-job.js';

/** How long an upload stays alive without a new row before housekeeping abandons it. */
export const UPLOAD_LEASE_MS = 60_000;

export interface ImportDeps {
  tenants: TenantStore;
  imports: ImportStore;
  clock: Clock;
  ids: Ids;
}

/** An upload as the core reads it: rows parsed while the body streams in, and the body's digest. */
export interface UploadSource {
  /** The rows in upload order. Throws a DomainError when the body cannot be read any further (broken JSON, a bad CSV header). */
  rows(): AsyncIterable<StagedRow>;
  /** SHA-256 (hex) of the whole body; reads (without parsing) whatever of it is left. */
  digest(): Promise<string>;
}

/** What one tenant's uploads may take at once, whichever instance receives them. */
export interface UploadLimits {
  /** Uploads streaming in at once. */
  uploadsPerTenant: number;
  /** Bytes staged by its uploads and by its jobs not yet ended. */
  stagedBytesPerTenant: number;
}

export const DEFAULT_UPLOAD_LIMITS: UploadLimits = { uploadsPerTenant: 2, stagedBytesPerTenant: 4 * 1024 ** 3 };

/** Seconds a client refused for too many uploads at once is told to wait. */
const UPLOAD_RETRY_AFTER_SECONDS = 10;

export interface StartImport {
  format: ImportFormat;
  /** Per-tenant limits (DEFAULT_UPLOAD_LIMITS when absent). */
  limits?: UploadLimits | undefined;
  options?: Partial<ImportOptions>;
  /** Names this upload: repeating the request with the same key answers with the same job. */
  idempotencyKey?: string | undefined;
}

/**
 * Stores an upload as an import job and queues it. Every row is written to the database
 * before this returns, so an accepted job survives a crash; nothing is created yet (the job
 * runner does that, chunk by chunk). A request repeated with the same idempotency key and the
 * same body answers with the job it created before (`replayed`); with another body it is
 * IDEMPOTENCY_KEY_REUSED, and while the first upload is still streaming in, CONFLICT.
 */
export async function startImport(
  deps: ImportDeps,
  tenantId: string,
  actor: Actor,
  request: StartImport,
  upload: UploadSource,
): Promise<{ job: ImportJob; replayed: boolean }> {
  const tenant = await loadTenant(deps.tenants, actor, 'users:write', tenantId);
  const key = request.idempotencyKey;
  if (key !== undefined) {
    const earlier = await deps.imports.findByIdempotencyKey(tenant.id, key);
    if (earlier?.kind === 'job') {
      const digest = await upload.digest();
      if (earlier.bodySha256 !== digest) {
        throw new DomainError('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was already used for a different upload; use a new key for a new import.');
      }
      return { job: earlier.job, replayed: true };
    }
    if (earlier?.kind === 'uploading') {
      if (earlier.leaseUntil > deps.clock.now().toISOString()) {
        throw new DomainError('CONFLICT', 'An upload with this Idempotency-Key is still streaming in; wait for it to end, then repeat the request.', [], 5);
      }
      await deps.imports.abandonUpload(earlier.jobId, deps.clock.now().toISOString());
    }
  }

  const options: ImportOptions = {
    dryRun: request.options?.dryRun === true,
    notify: request.options?.notify !== false,
    onConflict: request.options?.onConflict ?? 'fail',
  };
  const id = `imp_${deps.ids.uuid().replaceAll('-', '')}`;
  const leaseUntil = () => new Date(deps.clock.now().getTime() + UPLOAD_LEASE_MS).toISOString();
  const begun = await deps.imports.beginUpload({
    id,
    tenantId: tenant.id,
    format: request.format,
    options,
    actor,
    idempotencyKey: key ?? null,
    createdAt: deps.clock.now().toISOString(),
    uploadLeaseUntil: leaseUntil(),
  });
  if (!begun) throw new DomainError('CONFLICT', 'An upload with this Idempotency-Key has just begun; repeat the request in a moment.', [], 5);
  const limits = request.limits ?? DEFAULT_UPLOAD_LIMITS;
  const overQuota = async (): Promise<DomainError | undefined> => {
    const mine = await deps.imports.tenantUploads(tenant.id, deps.clock.now().toISOString());
    if (mine.stagedBytes > limits.stagedBytesPerTenant) {
      return new DomainError(
        'PAYLOAD_TOO_LARGE',
        `This tenant's imports waiting to be processed take more than ${limits.stagedBytesPerTenant} bytes; nothing of this upload was kept. Upload it once earlier imports have ended, or in smaller parts.`,
      );
    }
    return undefined;
  };

  try {
    // Counted after this upload's own row is written: two uploads starting at once cannot both
    // slip under the limit (at worst both are refused and retried).
    const { streaming } = await deps.imports.tenantUploads(tenant.id, deps.clock.now().toISOString());
    if (streaming > limits.uploadsPerTenant) {
      throw new DomainError('RATE_LIMIT_EXCEEDED', `This tenant already has ${limits.uploadsPerTenant} uploads streaming in; wait for one to end.`, [], UPLOAD_RETRY_AFTER_SECONDS);
    }
    const refusal = await overQuota();
    if (refusal) throw refusal;
    let total = 0;
    let batch: StagedRow[] = [];
    for await (const row of upload.rows()) {
      batch.push(row);
      total++;
      // Rows already buffered are parsed without the event loop turning in between (each step
      // is a microtask): the loop is given a turn whenever parsing has held it too long.
      if (total % 64 === 0) await yieldIfBusy();
      if (batch.length >= STAGE_BATCH_SIZE) {
        await deps.imports.stageRows(id, batch, leaseUntil());
        batch = [];
        const refusal = await overQuota();
        if (refusal) throw refusal;
      }
    }
    if (batch.length > 0) await deps.imports.stageRows(id, batch, leaseUntil());
    const digest = await upload.digest();
    const job = await deps.imports.finishUpload(id, total, digest, IMPORT_CHUNK_SIZE, deps.clock.now().toISOString());
    return { job, replayed: false };
  } catch (error) {
    await deps.imports.abandonUpload(id, deps.clock.now().toISOString()).catch(() => undefined);
    // A refused upload gives its space back now rather than at the next housekeeping round: the
    // other tenants' writes need it (a full disk), and so do the tenant's next uploads.
    await deps.imports.discardUpload(id).catch(() => undefined);
    throw error;
  }
}
