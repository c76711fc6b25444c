import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from 'node:crypto';
import { sql, type Kysely, type Selectable } from 'kysely';
import type { KeyRole } from '../core/credentials/actor.js';
import type { ErrorCode } from '../core/errors.js';
import { IMPORT_CHUNK_SIZE, type ClaimedChunk, type ImportChunkTx, type ImportJob, type ImportStore, type OnConflict, type RowSource, type StagedRow } from '../core/imports/import-job.js';
import { isStorageFull, uniqueViolation, type Db } from './database.js';
import { DomainError } from '../core/errors.js';
import type { Database, ImportJobsTable } from './schema.js';
import { withoutNul } from '../core/nul-characters.js';
import { openSealKeyring, type SealKeyring } from './seal-keys.js';
import { userWritesIn } from './user-store.js';

/** Rows per INSERT of error rows: 500 × 7 parameters stays under both databases' limits. */
const ERROR_INSERT_CHUNK = 500;
const CHUNK_INSERT_CHUNK = 500;

/** The states the API shows; `uploading` and `abandoned` are internal. */
const VISIBLE_STATES = ['queued', 'running', 'completed', 'cancelled', 'failed'] as const;
const ACTIVE_STATES = ['queued', 'running'] as const;
const ENDED_STATES = ['completed', 'cancelled', 'failed', 'abandoned'] as const;

/**
 * Fields of a staged draft that are secrets: a row carrying one waits in the staging table
 * encrypted. A `passwordHash` is not among them: it is stored as given in the user's row a
 * moment later, so sealing it on the way would protect nothing (and cost a cipher per row).
 */
const SECRET_FIELDS = ['password', 'confirmPassword'];
const SEALED = 'sealed:';

function hasSecrets(draft: unknown): boolean {
  return typeof draft === 'object' && draft !== null && SECRET_FIELDS.some((f) => f in draft);
}

/** AES-256-GCM with the job's own key: iv, tag and ciphertext, base64, behind a marker. `iv`: 12 random bytes, never reused. */
function seal(key: Buffer, text: string, iv: Buffer = randomBytes(12)): string {
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
  return SEALED + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
}

function unseal(key: Buffer, sealed: string): string {
  const raw = Buffer.from(sealed.slice(SEALED.length), 'base64');
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
  decipher.setAuthTag(raw.subarray(12, 28));
  return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
}

function toJob(row: Selectable<ImportJobsTable>): ImportJob {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    state: row.state as ImportJob['state'],
    format: row.format as ImportJob['format'],
    options: { dryRun: row.dry_run === 1, notify: row.notify === 1, onConflict: row.on_conflict as OnConflict },
    total: Number(row.total),
    processed: Number(row.processed),
    created: Number(row.created),
    failed: Number(row.failed),
    skipped: Number(row.skipped),
    updated: Number(row.updated),
    actor: { keyId: row.actor_key_id, role: row.actor_role as KeyRole, tenantId: row.actor_tenant_id },
    idempotencyKey: row.idempotency_key,
    error: row.error,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
  };
}

/** Chunks claimed from a job staged row by row in `import_rows` (before migration 0012). */
const stagedByRow = new WeakSet<ClaimedChunk>();

/** Staged blocks deleted per statement when a refused upload is cleared: a block holds up to a chunk of rows, as many as a delete took before. */
const BLOCKS_PER_DELETE = 1;

/**
 * Characters of one staged block at most: a batch of very long rows (up to MAX_ROW_BYTES each)
 * is split into several blocks, so that no block is a string too long to build or to store.
 */
const MAX_BLOCK_CHARS = 4 * 1024 * 1024;

interface StagedBlock {
  firstRow: number;
  lastRow: number;
  data: string;
}

/**
 * A batch of staged rows as blocks: each block a JSON array of StagedRow, sealed whole (one
 * cipher call) when any of its rows carries a password. A batch makes one block unless its
 * rows are very long.
 */
function encodeBlocks(key: Buffer | undefined, rows: readonly StagedRow[]): StagedBlock[] {
  const blocks: StagedBlock[] = [];
  let parts: string[] = [];
  let chars = 0;
  let secret = false;
  let firstRow = 0;
  const flush = (lastRow: number) => {
    const json = `[${parts.join(',')}]`;
    blocks.push({ firstRow, lastRow, data: key && secret ? seal(key, json) : json });
    parts = [];
    chars = 0;
    secret = false;
  };
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    let stored: StagedRow = row;
    if ('draft' in row) {
      if (hasSecrets(row.draft)) secret = true;
      if (row.draft === undefined) stored = { ...row, draft: null };
    }
    const json = JSON.stringify(stored);
    if (parts.length > 0 && chars + json.length > MAX_BLOCK_CHARS) flush(rows[i - 1]!.row);
    if (parts.length === 0) firstRow = row.row;
    parts.push(json);
    chars += json.length + 1;
  }
  if (parts.length > 0) flush(rows[rows.length - 1]!.row);
  return blocks;
}

function decodeBlock(key: Buffer | undefined, jobId: string, data: string): StagedRow[] {
  if (!data.startsWith(SEALED)) return JSON.parse(data) as StagedRow[];
  if (!key) throw new Error(`the rows of import job ${jobId} are sealed and its key is gone`);
  return JSON.parse(unseal(key, data)) as StagedRow[];
}

function chunkWrites(k: Kysely<Database>): ImportChunkTx {
  return {
    async completeChunk(chunk, counts, errors, at) {
      const released = await k
        .deleteFrom('import_chunks')
        .where('job_id', '=', chunk.job.id)
        .where('chunk_no', '=', chunk.chunkNo)
        .where('lease_owner', '=', chunk.claim)
        .executeTakeFirst();
      if (Number(released.numDeletedRows) !== 1) return false;
      const n = counts.processed;
      const progressed = await k
        .updateTable('import_jobs')
        .set({
          processed: sql`processed + ${n}`,
          created: sql`created + ${counts.created}`,
          failed: sql`failed + ${counts.failed}`,
          skipped: sql`skipped + ${counts.skipped}`,
          updated: sql`updated + ${counts.updated}`,
          state: sql`case when processed + ${n} >= total then 'completed' else state end`,
          finished_at: sql`case when processed + ${n} >= total then ${at} else finished_at end`,
          seal_key: sql`case when processed + ${n} >= total then null else seal_key end`,
          updated_at: at,
        })
        .where('id', '=', chunk.job.id)
        .where('state', '=', 'running')
        .executeTakeFirst();
      if (Number(progressed.numUpdatedRows) !== 1) return false;
      const seqOf = new Map<number, number>();
      const errorRows = errors.map((e) => {
        const seq = seqOf.get(e.row) ?? 0;
        seqOf.set(e.row, seq + 1);
        // A refused row may quote a NUL its client sent, which PostgreSQL cannot store: it is shown as U+FFFD.
        const source = e.source === null ? null : withoutNul(JSON.stringify(e.source));
        return { job_id: chunk.job.id, row_number: e.row, seq, email: withoutNul(e.email), code: e.code, field: withoutNul(e.field), message: withoutNul(e.message), source };
      });
      for (let i = 0; i < errorRows.length; i += ERROR_INSERT_CHUNK) {
        await k.insertInto('import_errors').values(errorRows.slice(i, i + ERROR_INSERT_CHUNK)).execute();
      }
      // The chunk's staged block goes in one row (see stageRows); a job staged row by row before
      // blocks existed has its rows deleted instead.
      await k.deleteFrom('import_row_blocks').where('job_id', '=', chunk.job.id).where('first_row', '>=', chunk.firstRow).where('last_row', '<=', chunk.lastRow).execute();
      if (stagedByRow.has(chunk)) {
        await k.deleteFrom('import_rows').where('job_id', '=', chunk.job.id).where('row_number', '>=', chunk.firstRow).where('row_number', '<=', chunk.lastRow).execute();
      }
      return true;
    },
  };
}

/**
 * `sealKeys` wraps each job's own key before it is stored (see seal-keys.ts); without it, the
 * database's default keyring (its key file) is opened when an import first needs it.
 */
export function createImportStore(db: Db, sealKeys?: SealKeyring): ImportStore {
  const k = db.kysely;
  let keyring = sealKeys;
  const keys = (): SealKeyring => (keyring ??= openSealKeyring(db));
  /** Seal keys of the uploads this process is receiving, so that staging needs no read per batch. */
  const uploadKeys = new Map<string, Buffer>();

  async function sealKeyOf(jobId: string): Promise<Buffer | undefined> {
    const cached = uploadKeys.get(jobId);
    if (cached) return cached;
    const row = await k.selectFrom('import_jobs').select('seal_key').where('id', '=', jobId).executeTakeFirst();
    return row?.seal_key ? keys().unwrap(jobId, row.seal_key) : undefined;
  }

  function readRow(key: Buffer | undefined, row: { row_number: number; data: string | null; problem: string | null; source: string | null }): StagedRow {
    const number = Number(row.row_number);
    const source = row.source === null ? undefined : (JSON.parse(row.source) as RowSource);
    if (row.data === null) {
      const { email, ...problem } = JSON.parse(row.problem ?? '{}') as { field: string; code: ErrorCode; message: string; email?: string };
      return { row: number, problem, ...(email !== undefined && { email }), source };
    }
    if (row.data.startsWith(SEALED)) {
      if (!key) throw new Error('the rows of import job are sealed and its key is gone');
      return { row: number, draft: JSON.parse(unseal(key, row.data)), source };
    }
    return { row: number, draft: JSON.parse(row.data), source };
  }

  /**
   * Deletes up to `blocks` staged blocks of a job, and up to `rows` of its rows staged one by one
   * (a job staged before blocks existed). True when either limit was reached: more may be left.
   */
  async function deleteStaged(jobId: string, blocks: number, rows: number): Promise<boolean> {
    const someBlocks = k.selectFrom('import_row_blocks').select('first_row').where('job_id', '=', jobId).orderBy('first_row').limit(blocks);
    const goneBlocks = await k.deleteFrom('import_row_blocks').where('job_id', '=', jobId).where('first_row', 'in', someBlocks).executeTakeFirst();
    const someRows = k.selectFrom('import_rows').select('row_number').where('job_id', '=', jobId).orderBy('row_number').limit(rows);
    const goneRows = await k.deleteFrom('import_rows').where('job_id', '=', jobId).where('row_number', 'in', someRows).executeTakeFirst();
    return Number(goneBlocks.numDeletedRows) >= blocks || Number(goneRows.numDeletedRows) >= rows;
  }

  const visible = () => k.selectFrom('import_jobs').selectAll().where('state', 'in', [...VISIBLE_STATES]);

  return {
    async beginUpload(job) {
      const key = randomBytes(32);
      try {
        await k
          .insertInto('import_jobs')
          .values({
            id: job.id,
            tenant_id: job.tenantId,
            state: 'uploading',
            format: job.format,
            dry_run: job.options.dryRun ? 1 : 0,
            notify: job.options.notify ? 1 : 0,
            on_conflict: job.options.onConflict,
            actor_key_id: job.actor.keyId,
            actor_role: job.actor.role,
            actor_tenant_id: job.actor.tenantId,
            idempotency_key: job.idempotencyKey,
            seal_key: keys().wrap(job.id, key),
            upload_lease_until: job.uploadLeaseUntil,
            created_at: job.createdAt,
            updated_at: job.createdAt,
          })
          .execute();
      } catch (error) {
        if (uniqueViolation(error)) return false;
        throw error;
      }
      uploadKeys.set(job.id, key);
      return true;
    },

    async findByIdempotencyKey(tenantId, key) {
      const row = await k.selectFrom('import_jobs').selectAll().where('tenant_id', '=', tenantId).where('idempotency_key', '=', key).executeTakeFirst();
      if (!row || row.state === 'abandoned') return undefined;
      if (row.state === 'uploading') return { kind: 'uploading', jobId: row.id, leaseUntil: row.upload_lease_until ?? '' };
      return { kind: 'job', job: toJob(row), bodySha256: row.body_sha256 };
    },

    async stageRows(jobId, rows, leaseUntil) {
      if (rows.length === 0) return;
      const key = await sealKeyOf(jobId);
      // The batch is one block (several when its rows are very long): one row to write now, to
      // read when its chunk runs, and to delete when the chunk commits. A CSV row keeps its cells as uploaded (no password cells) for the
      // errors report; a JSON row is its own source.
      const blocks = encodeBlocks(key, rows);
      let bytes = 16 * rows.length;
      for (const block of blocks) bytes += block.data.length;
      await db
        .write(async (trx) => {
          for (const block of blocks) await trx.insertInto('import_row_blocks').values({ job_id: jobId, first_row: block.firstRow, last_row: block.lastRow, data: block.data }).execute();
          await trx.updateTable('import_jobs').set({ upload_lease_until: leaseUntil, staged_bytes: sql`staged_bytes + ${bytes}` }).where('id', '=', jobId).execute();
        })
        .catch((error: unknown) => {
          if (isStorageFull(error)) throw new DomainError('INSUFFICIENT_STORAGE', 'The database has no room left for this upload; nothing of it was kept. Try again once space has been freed.');
          throw error;
        });
    },

    async tenantUploads(tenantId, now) {
      const row = await k
        .selectFrom('import_jobs')
        .select([
          (eb) => eb.fn.sum<number>(sql`case when state = 'uploading' and upload_lease_until > ${now} then 1 else 0 end`).as('streaming'),
          (eb) => eb.fn.sum<number>(sql`case when state = 'uploading' and upload_lease_until <= ${now} then 0 else staged_bytes end`).as('staged'),
        ])
        .where('tenant_id', '=', tenantId)
        .where('state', 'in', ['uploading', 'queued', 'running'])
        .executeTakeFirst();
      return { streaming: Number(row?.streaming ?? 0), stagedBytes: Number(row?.staged ?? 0) };
    },

    async discardUpload(jobId) {
      uploadKeys.delete(jobId);
      // Small deletes: each needs little room in the log, which a full disk may not have.
      while (await deleteStaged(jobId, BLOCKS_PER_DELETE, 1000));
      await k.deleteFrom('import_jobs').where('id', '=', jobId).where('state', '=', 'abandoned').execute();
    },

    async finishUpload(jobId, total, bodySha256, chunkSize, at) {
      const row = await db.write(async (trx) => {
        const done = total === 0;
        const job = await trx
          .updateTable('import_jobs')
          .set({
            state: done ? 'completed' : 'queued',
            total,
            body_sha256: bodySha256,
            upload_lease_until: null,
            updated_at: at,
            ...(done && { started_at: at, finished_at: at, seal_key: null }),
          })
          .where('id', '=', jobId)
          .where('state', '=', 'uploading')
          .returningAll()
          .executeTakeFirst();
        if (!job) throw new Error('the upload was abandoned before it ended');
        const chunks = [];
        for (let first = 1, no = 0; first <= total; first += chunkSize, no++) {
          chunks.push({ job_id: jobId, chunk_no: no, first_row: first, last_row: Math.min(total, first + chunkSize - 1) });
        }
        for (let i = 0; i < chunks.length; i += CHUNK_INSERT_CHUNK) {
          await trx.insertInto('import_chunks').values(chunks.slice(i, i + CHUNK_INSERT_CHUNK)).execute();
        }
        return job;
      });
      uploadKeys.delete(jobId);
      return toJob(row);
    },

    async abandonUpload(jobId, at) {
      uploadKeys.delete(jobId);
      await k
        .updateTable('import_jobs')
        .set({ state: 'abandoned', idempotency_key: null, seal_key: null, updated_at: at, finished_at: at })
        .where('id', '=', jobId)
        .where('state', '=', 'uploading')
        .execute();
    },

    async get(tenantId, id) {
      const row = await visible().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
      return row ? toJob(row) : undefined;
    },

    async list(tenantId, query) {
      let q = visible().where('tenant_id', '=', tenantId);
      if (query.idempotencyKey !== undefined) q = q.where('idempotency_key', '=', query.idempotencyKey);
      const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(query.limit).execute();
      return rows.map(toJob);
    },

    async cancel(tenantId, id, at) {
      const row = await db.write(async (trx) => {
        const cancelled = await trx
          .updateTable('import_jobs')
          .set({ state: 'cancelled', finished_at: at, updated_at: at, seal_key: null })
          .where('tenant_id', '=', tenantId)
          .where('id', '=', id)
          .where('state', 'in', [...ACTIVE_STATES])
          .returningAll()
          .executeTakeFirst();
        // With its chunks gone, a chunk being processed now cannot commit (its claim is gone too).
        if (cancelled) await trx.deleteFrom('import_chunks').where('job_id', '=', id).execute();
        return cancelled ?? (await trx.selectFrom('import_jobs').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).where('state', 'in', [...VISIBLE_STATES]).executeTakeFirst());
      });
      return row ? toJob(row) : undefined;
    },

    async claimChunk(owner, now, leaseUntil) {
      const claim = `${owner}/${randomUUID()}`;
      const claimed = await db.write(async (trx) => {
        let due = trx
          .selectFrom('import_chunks')
          .select('seq')
          .where('job_id', 'in', trx.selectFrom('import_jobs').select('id').where('state', 'in', [...ACTIVE_STATES]))
          .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', now)]))
          .orderBy('seq')
          .limit(1);
        // PostgreSQL: a chunk another process is claiming right now is skipped, not waited for.
        // SQLite: BEGIN IMMEDIATE already serialises claims.
        if (db.dialect === 'postgres') due = due.forUpdate().skipLocked();
        const chunk = await trx
          .updateTable('import_chunks')
          .set((eb) => ({ lease_owner: claim, lease_until: leaseUntil, attempts: eb('attempts', '+', 1) }))
          .where('seq', '=', due)
          .returningAll()
          .executeTakeFirst();
        if (!chunk) return undefined;
        const job = await trx
          .updateTable('import_jobs')
          .set({ state: 'running', started_at: sql`coalesce(started_at, ${now})`, updated_at: now })
          .where('id', '=', chunk.job_id)
          .returningAll()
          .executeTakeFirstOrThrow();
        return { chunk, job };
      });
      if (!claimed) return undefined;
      const { chunk, job } = claimed;
      let key: Buffer | undefined;
      try {
        key = job.seal_key ? keys().unwrap(job.id, job.seal_key) : undefined;
      } catch {
        // Its rows cannot be read without that key: the job stops with the reason, instead of
        // its chunk being claimed again and again.
        const reason = 'The key that wrapped this import\'s seal key is not configured (MUSTER_IMPORT_KEY or the import key file); its rows cannot be read.';
        await db.write(async (trx) => {
          await trx.updateTable('import_jobs').set({ state: 'failed', error: reason, finished_at: now, updated_at: now, seal_key: null }).where('id', '=', job.id).execute();
          await trx.deleteFrom('import_chunks').where('job_id', '=', job.id).execute();
        });
        return undefined;
      }
      const first = Number(chunk.first_row);
      const last = Number(chunk.last_row);
      const blocks = await k
        .selectFrom('import_row_blocks')
        .select('data')
        .where('job_id', '=', chunk.job_id)
        .where('first_row', '<=', last)
        .where('last_row', '>=', first)
        .orderBy('first_row')
        .execute();
      let rows: StagedRow[] = [];
      for (const block of blocks) {
        for (const row of decodeBlock(key, job.id, block.data)) if (row.row >= first && row.row <= last) rows.push(row);
      }
      // A job staged before blocks existed has its rows in import_rows, one per row.
      const byRow =
        rows.length < last - first + 1
          ? await k
              .selectFrom('import_rows')
              .select(['row_number', 'data', 'problem', 'source'])
              .where('job_id', '=', chunk.job_id)
              .where('row_number', '>=', first)
              .where('row_number', '<=', last)
              .orderBy('row_number')
              .execute()
          : [];
      if (byRow.length > 0) rows = [...rows, ...byRow.map((r) => readRow(key, r))].sort((a, b) => a.row - b.row);
      const result: ClaimedChunk = {
        job: toJob(job),
        chunkNo: Number(chunk.chunk_no),
        firstRow: Number(chunk.first_row),
        lastRow: Number(chunk.last_row),
        claim,
        attempts: Number(chunk.attempts),
        rows,
      };
      if (byRow.length > 0) stagedByRow.add(result);
      return result;
    },

    async releaseChunk(chunk, options) {
      const result = await k
        .updateTable('import_chunks')
        .set((eb) => ({ lease_owner: null, lease_until: null, ...(options?.uncounted && { attempts: eb('attempts', '-', 1) }) }))
        .where('job_id', '=', chunk.job.id)
        .where('chunk_no', '=', chunk.chunkNo)
        .where('lease_owner', '=', chunk.claim)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    async renewChunk(chunk, leaseUntil) {
      const result = await k
        .updateTable('import_chunks')
        .set({ lease_until: leaseUntil })
        .where('job_id', '=', chunk.job.id)
        .where('chunk_no', '=', chunk.chunkNo)
        .where('lease_owner', '=', chunk.claim)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    async failJob(jobId, reason, at) {
      await db.write(async (trx) => {
        const failed = await trx
          .updateTable('import_jobs')
          .set({ state: 'failed', error: reason, finished_at: at, updated_at: at, seal_key: null })
          .where('id', '=', jobId)
          .where('state', 'in', [...ACTIVE_STATES])
          .executeTakeFirst();
        if (Number(failed.numUpdatedRows) > 0) await trx.deleteFrom('import_chunks').where('job_id', '=', jobId).execute();
      });
    },

    chunkTransaction: (work) => db.write((trx) => work(userWritesIn(trx, db.dialect), chunkWrites(trx))),

    async errors(jobId, after, limit) {
      let q = k.selectFrom('import_errors').select(['row_number', 'seq', 'email', 'code', 'field', 'message', 'source']).where('job_id', '=', jobId);
      if (after) {
        q = q.where((eb) => eb.or([eb('row_number', '>', after.row), eb.and([eb('row_number', '=', after.row), eb('seq', '>', after.seq)])]));
      }
      const rows = await q.orderBy('row_number').orderBy('seq').limit(limit).execute();
      const last = rows.at(-1);
      return {
        errors: rows.map((r) => ({ row: Number(r.row_number), email: r.email, code: r.code as ErrorCode, field: r.field, message: r.message, source: r.source === null ? null : (JSON.parse(r.source) as RowSource) })),
        next: rows.length === limit && last ? { row: Number(last.row_number), seq: Number(last.seq) } : null,
      };
    },

    async cleanUp(now, limit) {
      await k
        .updateTable('import_jobs')
        .set({ state: 'abandoned', idempotency_key: null, seal_key: null, updated_at: now, finished_at: now })
        .where('state', '=', 'uploading')
        .where('upload_lease_until', '<', now)
        .execute();
      const job = await k.selectFrom('import_jobs').select(['id', 'state']).where('state', 'in', [...ENDED_STATES]).where('cleaned', '=', 0).orderBy('updated_at').limit(1).executeTakeFirst();
      if (!job) return false;
      // `limit` counts staged rows: a block holds up to a chunk of them.
      const blocks = Math.max(1, Math.ceil(limit / IMPORT_CHUNK_SIZE));
      if (!(await deleteStaged(job.id, blocks, limit))) {
        await db.write(async (trx) => {
          await trx.deleteFrom('import_chunks').where('job_id', '=', job.id).execute();
          // An abandoned upload was never a job anyone saw: it goes entirely.
          if (job.state === 'abandoned') await trx.deleteFrom('import_jobs').where('id', '=', job.id).execute();
          else await trx.updateTable('import_jobs').set({ cleaned: 1 }).where('id', '=', job.id).execute();
        });
      }
      return true;
    },
  };
}
