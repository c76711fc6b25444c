/**
 * `muster import FILE --tenant T`: uploads a CSV, NDJSON or JSON file as an import job,
 * follows it with a progress bar, and ends with a summary and an errors file. Interrupted,
 * the same command resumes: the upload carries an idempotency key saved before it starts,
 * so a repeated upload never makes a second job, and a job already accepted is followed
 * where it is (the server goes on with it whether the CLI watches or not).
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream, realpathSync, statSync } from 'node:fs';
import { basename, extname, resolve } from 'node:path';
import { finished } from 'node:stream/promises';
import cliProgress from 'cli-progress';
import { ApiError, apiError, callApi, download, expectApi, uploadFile, type ServerTarget } from './http-client.js';
import { clearState, defaultStateDir, readState, stateFileFor, writeState } from './import-state.js';

export interface ImportCommandOptions {
  tenant?: string;
  format?: string;
  map: string[];
  dryRun?: boolean;
  notify: boolean;
  onConflict: string;
  errorsFile?: string;
  progress: boolean;
  resume?: string;
  cancel?: string;
  new?: boolean;
  stateDir?: string;
  /** Milliseconds between two looks at the job. */
  pollInterval?: number;
}

/** Exit codes: every row imported; the command failed (or the job failed or was cancelled); the job completed with failed rows. */
export const EXIT = { ok: 0, error: 1, rowsFailed: 3, interrupted: 130 } as const;

const FORMATS: Record<string, { format: string; contentType: string }> = {
  '.csv': { format: 'csv', contentType: 'text/csv' },
  '.ndjson': { format: 'ndjson', contentType: 'application/x-ndjson' },
  '.jsonl': { format: 'ndjson', contentType: 'application/x-ndjson' },
  '.json': { format: 'json', contentType: 'application/json' },
};
const CONTENT_TYPES: Record<string, string> = { csv: 'text/csv', ndjson: 'application/x-ndjson', json: 'application/json' };
const ENDED = ['completed', 'cancelled', 'failed'];

interface Job {
  id: string;
  state: string;
  total: number;
  processed: number;
  created: number;
  failed: number;
  skipped: number;
  /** Existing users changed (onConflict=update); absent from servers that predate it. */
  updated?: number;
  rate: number | null;
  etaSeconds: number | null;
  error: string | null;
  options: { dryRun: boolean; onConflict?: string };
  startedAt: string | null;
  finishedAt: string | null;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (line: string) => process.stderr.write(`${line}\n`);

function formatSeconds(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '?';
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
}

/** Draws progress on a terminal, or prints a line every few seconds elsewhere (logs, CI). */
class Progress {
  private bar: cliProgress.SingleBar | undefined;
  private lastLine = 0;
  private readonly tty: boolean;

  constructor(private readonly enabled: boolean) {
    this.tty = enabled && process.stderr.isTTY === true;
  }

  uploading(total: number): (sent: number) => void {
    if (!this.enabled) return () => {};
    const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
    const started = Date.now();
    if (this.tty) {
      this.bar = new cliProgress.SingleBar(
        { format: 'Uploading |{bar}| {percentage}% | {sentMb}/{totalMb} MB | {speed} MB/s', hideCursor: true, stream: process.stderr },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(total, 0, { sentMb: mb(0), totalMb: mb(total), speed: '0.0' });
    }
    return (sent) => {
      const speed = mb(sent / Math.max(0.001, (Date.now() - started) / 1000));
      if (this.bar) this.bar.update(sent, { sentMb: mb(sent), totalMb: mb(total), speed });
      else this.line(`Uploading: ${mb(sent)}/${mb(total)} MB (${speed} MB/s)`, sent === total);
    };
  }

  job(job: Job): void {
    if (!this.enabled) return;
    const rate = job.rate === null ? '?' : Math.round(job.rate).toString();
    const counts = `${job.created} created, ${job.failed} failed, ${job.skipped} skipped`;
    if (this.tty) {
      if (!this.bar || this.bar.getTotal() !== job.total || !this.isRowsBar) {
        this.bar?.stop();
        this.bar = new cliProgress.SingleBar(
          { format: 'Importing |{bar}| {percentage}% | {value}/{total} rows | {rate} rows/s | ETA {etaText} | {counts}', hideCursor: true, stream: process.stderr },
          cliProgress.Presets.shades_classic,
        );
        this.bar.start(Math.max(job.total, 1), 0, { rate, etaText: '?', counts });
        this.isRowsBar = true;
      }
      this.bar.update(job.processed, { rate, etaText: formatSeconds(job.etaSeconds), counts });
    } else {
      this.line(`Importing: ${job.processed}/${job.total} rows (${job.state}), ${rate} rows/s, ETA ${formatSeconds(job.etaSeconds)}; ${counts}`, ENDED.includes(job.state));
    }
  }

  private isRowsBar = false;

  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
    this.isRowsBar = false;
  }

  private line(text: string, force: boolean): void {
    const now = Date.now();
    if (!force && now - this.lastLine < 2000) return;
    this.lastLine = now;
    log(text);
  }
}

function base(tenant: string): string {
  return `/v1/tenants/${encodeURIComponent(tenant)}/imports`;
}

async function findByKey(target: ServerTarget, tenant: string, key: string): Promise<Job | undefined> {
  const res = await expectApi(target, 200, 'GET', `${base(tenant)}?idempotencyKey=${encodeURIComponent(key)}`);
  return (res.body.imports as Job[])[0];
}

/** Uploads once; a broken connection or a busy key is tried again with the same key, which can never make two jobs. */
async function uploadWithKey(target: ServerTarget, tenant: string, query: string, file: string, size: number, contentType: string, key: string, progress: Progress): Promise<Job> {
  for (let attempt = 1; ; attempt++) {
    const res = await uploadFile(target, { path: `${base(tenant)}${query}`, file, size, contentType, headers: { 'idempotency-key': key }, onProgress: progress.uploading(size) }).catch(
      (error: unknown) => error as ApiError,
    );
    progress.stop();
    if (!(res instanceof ApiError)) {
      if (res.status === 202) return res.body as Job;
      const error = apiError(res);
      // The same key is still streaming in from an attempt the server has not given up on yet.
      if (res.status === 409 && error.retryAfterSeconds !== undefined && attempt < 40) {
        log(`The server still holds an earlier upload of this file; trying again in ${error.retryAfterSeconds} s.`);
        await sleep(error.retryAfterSeconds * 1000);
        continue;
      }
      throw error;
    }
    if (res.status !== undefined || attempt >= 5) throw res;
    // The connection broke: the server may have stored the upload just before, so look before sending it again.
    log(`${res.message}; checking the server, then trying again.`);
    await sleep(1000 * attempt);
    const stored = await findByKey(target, tenant, key).catch(() => undefined);
    if (stored) return stored;
  }
}

/** Polls a job until it ends; Ctrl-C stops the watching (not the job) from the moment `started` is announced. */
async function follow(target: ServerTarget, tenant: string, jobId: string, progress: Progress, pollMs: number, started?: string): Promise<Job> {
  let interrupted = false;
  const onInterrupt = () => {
    interrupted = true;
  };
  process.once('SIGINT', onInterrupt);
  if (started) log(started);
  try {
    for (;;) {
      const res = await callApi(target, 'GET', `${base(tenant)}/${encodeURIComponent(jobId)}`);
      if (res.status !== 200) throw apiError(res);
      const job = res.body as Job;
      progress.job(job);
      if (ENDED.includes(job.state)) return job;
      if (interrupted) throw new Interrupted(job);
      await sleep(pollMs);
      if (interrupted) throw new Interrupted(job);
    }
  } finally {
    process.off('SIGINT', onInterrupt);
    progress.stop();
  }
}

class Interrupted extends Error {
  constructor(readonly job: Job) {
    super('interrupted');
  }
}

function formatOf(file: string, asked: string | undefined): { format: string; contentType: string } {
  if (asked) {
    const contentType = CONTENT_TYPES[asked];
    if (!contentType) throw new ApiError(`--format must be csv, ndjson or json (got "${asked}").`);
    return { format: asked, contentType };
  }
  const known = FORMATS[extname(file).toLowerCase()];
  if (!known) throw new ApiError(`Cannot tell the format of ${basename(file)} from its name; add --format csv, ndjson or json.`);
  return known;
}

async function writeErrors(target: ServerTarget, tenant: string, job: Job, path: string): Promise<void> {
  const sink = createWriteStream(path);
  await download(target, `${base(tenant)}/${encodeURIComponent(job.id)}/errors?format=csv`, 'text/csv', sink);
  sink.end();
  await finished(sink);
}

function summarise(job: Job, errorsPath: string): void {
  const seconds = job.startedAt && job.finishedAt ? (Date.parse(job.finishedAt) - Date.parse(job.startedAt)) / 1000 : null;
  const lines = [
    `Import ${job.id} ${job.state}${seconds !== null ? ` in ${formatSeconds(seconds)}` : ''}${job.options.dryRun ? ' (dry run: nothing was written)' : ''}.`,
    `  rows:     ${job.processed} of ${job.total}`,
    `  ${job.options.dryRun ? 'valid:  ' : 'created:'}  ${job.created}`,
    `  failed:   ${job.failed}`,
    `  skipped:  ${job.skipped}`,
  ];
  if (job.options.onConflict === 'update') lines.splice(3, 0, `  ${job.options.dryRun ? 'to update:' : 'updated:'}  ${job.updated ?? 0}`);
  if (job.rate !== null) lines.push(`  rate:     ${Math.round(job.rate)} rows/s`);
  if (job.error) lines.push(`  stopped:  ${job.error}`);
  lines.push(job.failed > 0 ? `Errors (${job.failed} ${job.failed === 1 ? 'row' : 'rows'}): ${errorsPath}` : `No row failed; the errors file is empty: ${errorsPath}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

export async function runImport(file: string | undefined, options: ImportCommandOptions, target: ServerTarget): Promise<number> {
  const tenant = options.tenant;
  if (!tenant) throw new ApiError('Name the tenant with --tenant.');
  const progress = new Progress(options.progress);
  const pollMs = options.pollInterval ?? 500;

  if (options.cancel) {
    const res = await expectApi(target, 200, 'DELETE', `${base(tenant)}/${encodeURIComponent(options.cancel)}`);
    const job = res.body as Job;
    process.stdout.write(`Import ${job.id} cancelled after ${job.processed} of ${job.total} rows (${job.created} created); the rest will not be imported.\n`);
    return EXIT.ok;
  }

  let jobId: string;
  let started: string | undefined;
  let statePath: string | undefined;
  let errorsPath: string;
  if (options.resume) {
    jobId = options.resume;
    errorsPath = resolve(options.errorsFile ?? `${jobId}.errors.csv`);
  } else {
    if (!file) throw new ApiError('Name the file to import, or follow a job with --resume JOB_ID.');
    const path = realpathSync(file);
    const { size, mtimeMs } = statSync(path);
    const { format, contentType } = formatOf(path, options.format);
    const query = new URLSearchParams({ format, notify: String(options.notify), onConflict: options.onConflict, dryRun: String(options.dryRun === true) });
    for (const entry of options.map) query.append('map', entry);
    errorsPath = resolve(options.errorsFile ?? `${basename(path, extname(path))}.errors.csv`);
    statePath = stateFileFor(options.stateDir ?? defaultStateDir(), { url: target.url, tenant, path, size, mtimeMs, query: query.toString() });
    const saved = options.new ? undefined : readState(statePath);
    if (saved?.jobId && saved.endedAt) {
      // The same file, tenant, server and options ran to its end before: a second job would only
      // fail every row as a duplicate (or create them twice under other options). Say so instead.
      const earlier = await callApi(target, 'GET', `${base(tenant)}/${encodeURIComponent(saved.jobId)}`);
      const job = earlier.status === 200 ? (earlier.body as Job) : undefined;
      const counts = job ? `: ${job.created} created${job.updated ? `, ${job.updated} updated` : ''}, ${job.failed} failed, ${job.skipped} skipped` : '';
      process.stdout.write(
        `This import of ${basename(path)} into ${tenant} already ${saved.finalState ?? 'ended'} (import ${saved.jobId}, ${saved.endedAt}${counts}).\n` +
          `Nothing was uploaded. Run the command again with --new to import the file again.\n`,
      );
      return EXIT.ok;
    }
    if (saved?.jobId) {
      log(`Resuming import ${saved.jobId} of ${basename(path)} (started ${saved.startedAt}); --new starts over.`);
      jobId = saved.jobId;
    } else {
      const key = saved?.idempotencyKey ?? `cli-${randomUUID()}`;
      const state = { idempotencyKey: key, file: path, startedAt: saved?.startedAt ?? new Date().toISOString() };
      writeState(statePath, state);
      const stored = saved ? await findByKey(target, tenant, key) : undefined;
      if (stored) log(`The upload of ${basename(path)} had reached the server before the interruption: following import ${stored.id}.`);
      const job = stored ?? (await uploadWithKey(target, tenant, `?${query}`, path, size, contentType, key, progress));
      jobId = job.id;
      writeState(statePath, { ...state, jobId });
      started = `Import ${jobId}: ${job.total} rows stored; creating users.`;
    }
  }

  let job: Job;
  try {
    job = await follow(target, tenant, jobId, progress, pollMs, started);
  } catch (error) {
    if (error instanceof Interrupted) {
      log(`\nStopped watching. Import ${jobId} goes on in the server (${error.job.processed}/${error.job.total} rows so far).`);
      log(`Run the same command again, or muster import --resume ${jobId} --tenant ${tenant}, to follow it; muster import --cancel ${jobId} --tenant ${tenant} stops it.`);
      return EXIT.interrupted;
    }
    if (error instanceof ApiError && error.status === 404 && statePath) clearState(statePath);
    throw error;
  }
  await writeErrors(target, tenant, job, errorsPath);
  // Remembered as ended: running the same command again says so instead of importing again.
  const state = statePath ? readState(statePath) : undefined;
  if (statePath && state) writeState(statePath, { ...state, jobId: job.id, endedAt: job.finishedAt ?? new Date().toISOString(), finalState: job.state });
  summarise(job, errorsPath);
  if (job.state !== 'completed') return EXIT.error;
  return job.failed > 0 ? EXIT.rowsFailed : EXIT.ok;
}
