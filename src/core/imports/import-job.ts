/**
 * Import jobs: a large set of users uploaded once, stored, and created in chunks through
 * the same create path as every other API. The types here and the ImportStore port are what
 * the core needs from storage; the use cases are in the files beside this one.
 */
import type { Actor } from '../credentials/actor.js';
import type { ErrorCode, FieldError } from '../errors.js';
import type { UserWriteTx } from '../ports.js';

/** Rows created in one transaction: the batch limit of the create path. */
export const IMPORT_CHUNK_SIZE = 1000;
/** Rows written to the staging table per statement while an upload streams in. */
export const STAGE_BATCH_SIZE = 1000;
/** How often a chunk may fail for an unexpected reason before its job is marked failed. */
export const MAX_CHUNK_ATTEMPTS = 3;
/**
 * How often a chunk may be claimed before its job is marked failed. A worker that renews its
 * lease keeps its chunk however long hashing takes; a chunk claimed this often kept losing its
 * worker (killed, or starved past its lease) and would otherwise be claimed again forever.
 * A chunk given back on shutdown does not count.
 */
export const MAX_CHUNK_CLAIMS = 5;

/** The states a job shows. (An upload still streaming in, or refused half-way, is not a job yet.) */
export const IMPORT_STATES = ['queued', 'running', 'completed', 'cancelled', 'failed'] as const;
export type ImportState = (typeof IMPORT_STATES)[number];
/** States after which nothing changes any more. */
export const FINAL_STATES: readonly ImportState[] = ['completed', 'cancelled', 'failed'];

export const IMPORT_FORMATS = ['csv', 'ndjson', 'json'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

/**
 * What a row whose email or user name is already taken does: `fail` reports it, `skip` counts
 * it as skipped, `update` changes that existing user with the row's fields (with the checks,
 * the privilege rule and the audit of a PATCH).
 */
export const ON_CONFLICT = ['fail', 'skip', 'update'] as const;
export type OnConflict = (typeof ON_CONFLICT)[number];

export interface ImportOptions {
  /** Check every row, create nothing, send nothing. */
  dryRun: boolean;
  /** Send the created users their welcome or invitation email. */
  notify: boolean;
  /** A row whose email or user name is already taken: `fail`, `skip` it, or `update` that user. */
  onConflict: OnConflict;
}

export interface ImportCounts {
  /** Rows done (created, failed or skipped). */
  processed: number;
  /** Users created; in a dry run, the rows that would create a user. */
  created: number;
  failed: number;
  skipped: number;
  /** Existing users changed under onConflict=update; in a dry run, the rows that would change one. */
  updated: number;
}

export interface ImportJob extends ImportCounts {
  id: string;
  tenantId: string;
  state: ImportState;
  format: ImportFormat;
  options: ImportOptions;
  /** Rows in the upload. */
  total: number;
  /** The credential that started the job: every chunk is created with its authority. */
  actor: Actor;
  idempotencyKey: string | null;
  /** Why a failed job stopped; null otherwise. */
  error: string | null;
  createdAt: string;
  updatedAt: string;
  /** When the first chunk was claimed. */
  startedAt: string | null;
  finishedAt: string | null;
}

/**
 * One uploaded row: the draft to create, or the reason it could not even be read as one
 * (a CSV row with too many fields, an NDJSON line that is not JSON). `row` is 1-based and
 * counts data rows only (a CSV header is not a row).
 */
export type StagedRow = { row: number; draft: unknown; source?: RowSource | undefined } | { row: number; problem: FieldError; email?: string | undefined; source?: RowSource | undefined };

/**
 * A row as it was uploaded, for the errors report: a CSV row's cells by column name, or a JSON
 * row's object. Password fields are never part of it.
 */
export type RowSource = Record<string, unknown>;

/** One problem of one failed row, as the errors report lists it. */
export interface ImportRowError {
  row: number;
  /** The row's email as given, when it had one: it helps find the row in the source. */
  email: string | null;
  code: ErrorCode;
  field: string;
  message: string;
  /** The row as uploaded (see RowSource), or null when it could not be read at all. */
  source: RowSource | null;
}

/** A chunk this process has claimed until `leaseUntil`, with its rows. */
export interface ClaimedChunk {
  job: ImportJob;
  chunkNo: number;
  firstRow: number;
  lastRow: number;
  /** Names this claim; the chunk commits only while the claim is still this one. */
  claim: string;
  /** How many times the chunk has been claimed, this time included. */
  attempts: number;
  rows: StagedRow[];
}

/** A job as it is first written, before its rows stream in. */
export interface NewImportJob {
  id: string;
  tenantId: string;
  format: ImportFormat;
  options: ImportOptions;
  actor: Actor;
  idempotencyKey: string | null;
  createdAt: string;
  /** Until when the upload counts as alive; it is extended as rows arrive. */
  uploadLeaseUntil: string;
}

/** What an idempotency key already names in a tenant. */
export type KeyedUpload =
  | { kind: 'job'; job: ImportJob; bodySha256: string | null }
  /** An upload with this key is streaming in now (its lease runs until `leaseUntil`). */
  | { kind: 'uploading'; jobId: string; leaseUntil: string };

/** The writes of a chunk that commit in the transaction that creates its users. */
export interface ImportChunkTx {
  /**
   * Records a processed chunk: releases its claim, adds `counts` to the job (completing it
   * when its last row is done), stores `errors` and removes the chunk's staged rows. Returns
   * false — and must then not be committed — when the claim is no longer this one (another
   * process took the chunk over after the lease ran out) or the job was cancelled meanwhile.
   */
  completeChunk(chunk: ClaimedChunk, counts: ImportCounts, errors: readonly ImportRowError[], at: string): Promise<boolean>;
}

export interface ImportListQuery {
  idempotencyKey?: string | undefined;
  limit: number;
}

export interface ImportErrorPage {
  errors: ImportRowError[];
  /** Pass back as `after` for the next page; null after the last one. */
  next: { row: number; seq: number } | null;
}

export interface ImportStore {
  /** Writes a new job in its uploading state; false (and nothing written) when its idempotency key is taken. */
  beginUpload(job: NewImportJob): Promise<boolean>;
  /** What the key names in the tenant, if anything. */
  findByIdempotencyKey(tenantId: string, key: string): Promise<KeyedUpload | undefined>;
  /** Stores uploaded rows durably and extends the upload's lease. */
  stageRows(jobId: string, rows: readonly StagedRow[], leaseUntil: string): Promise<void>;
  /**
   * A tenant's uploads as they stand: how many are streaming in now (their lease not run out),
   * and the bytes staged by those and by its queued and running jobs.
   */
  tenantUploads(tenantId: string, now: string): Promise<{ streaming: number; stagedBytes: number }>;
  /** Deletes an abandoned upload's staged rows and the upload itself at once (to give back the space it took). */
  discardUpload(jobId: string): Promise<void>;
  /**
   * Ends an upload: splits its `total` rows into chunks of `chunkSize` and queues the job (or
   * completes it at once when it has no rows). Returns the job as it now is.
   */
  finishUpload(jobId: string, total: number, bodySha256: string, chunkSize: number, at: string): Promise<ImportJob>;
  /** Drops an upload that did not complete; its staged rows are removed in the background. */
  abandonUpload(jobId: string, at: string): Promise<void>;
  /** The job, or undefined when the tenant has none with this id (an upload still streaming in is none yet). */
  get(tenantId: string, id: string): Promise<ImportJob | undefined>;
  /** The tenant's jobs, newest first. */
  list(tenantId: string, query: ImportListQuery): Promise<ImportJob[]>;
  /**
   * Cancels a job that is queued or running: no chunk commits after this returns. Returns
   * the job after the change, the unchanged job when it had already ended, or undefined.
   */
  cancel(tenantId: string, id: string, at: string): Promise<ImportJob | undefined>;
  /**
   * Claims the next chunk that is due — one nobody holds, or one whose holder's lease ran
   * out — for `owner` until `leaseUntil`, and marks its job running. Two processes never
   * hold one chunk at once (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite: the write lock).
   */
  claimChunk(owner: string, now: string, leaseUntil: string): Promise<ClaimedChunk | undefined>;
  /**
   * Gives a claimed chunk back to be tried again at once; false when the claim is no longer this
   * one. With `uncounted` (a worker stopping on shutdown) this claim does not count as an attempt.
   */
  releaseChunk(chunk: ClaimedChunk, options?: { uncounted?: boolean }): Promise<boolean>;
  /** Extends this claim's lease to `leaseUntil`; false when the claim is no longer this one (taken over, or the job ended). */
  renewChunk(chunk: ClaimedChunk, leaseUntil: string): Promise<boolean>;
  /** Stops a job for good with a reason; its remaining rows are left undone. */
  failJob(jobId: string, reason: string, at: string): Promise<void>;
  /**
   * Runs `work` in one transaction in which the chunk's users (through `users`) and the
   * job's progress (through `imports`) commit together or not at all.
   */
  chunkTransaction<T>(work: (users: UserWriteTx, imports: ImportChunkTx) => Promise<T>): Promise<T>;
  /** One page of a job's row errors in row order, after `after` when given. */
  errors(jobId: string, after: { row: number; seq: number } | undefined, limit: number): Promise<ImportErrorPage>;
  /**
   * Housekeeping, a bounded amount at a time: uploads whose lease ran out are abandoned,
   * and staged rows and chunks of ended or abandoned jobs are deleted. True when more is left.
   */
  cleanUp(now: string, limit: number): Promise<boolean>;
}
