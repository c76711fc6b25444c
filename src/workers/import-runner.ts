import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { createPoller, type Sleep } from './poller.js';
import { runNextImportChunk, type ChunkReport, type ImportRunDeps } from '../core/imports/process-import-chunk.js';

/** The part of a pino/Fastify logger the runner uses. */
export interface RunnerLog {
  debug(details: object, message: string): void;
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

export interface ImportRunnerOptions {
  deps: ImportRunDeps;
  log?: RunnerLog;
  /** How long a claimed chunk stays this process's; another process takes it over after that. */
  leaseMs?: number;
  /** The wait between two looks for work when there was none. */
  pollIntervalMs?: number;
  /** How often housekeeping (abandoned uploads, staged rows of ended jobs) runs. */
  cleanUpIntervalMs?: number;
  /** Names this runner in chunk claims; unique per process by default. */
  owner?: string;
  /**
   * Chunks processed at once (default 1). On PostgreSQL two overlap one chunk's validation
   * with another's database work; on SQLite, whose driver works on this thread, one is best.
   */
  concurrency?: number;
  /** Claims of one chunk after which its job fails as stuck (default MAX_CHUNK_CLAIMS). */
  maxClaims?: number;
  /** Told what each round did (for metrics). */
  onReport?: (report: ChunkReport) => void;
  /** The waits between rounds (the event loop's timers by default). */
  sleep?: Sleep;
}

export interface ImportRunner {
  /** Starts working through the queued jobs in the background. */
  start(): void;
  /**
   * Stops: a chunk still hashing stops at its next step and is given back (its lease released,
   * so another process takes it at once); a chunk already committing finishes its transaction.
   */
  stop(): Promise<void>;
  /** Chunks being worked on now. */
  active(): number;
  /** Looks for work at once instead of at the end of the current wait. */
  wake(): void;
  /** One chunk now, if one is due. */
  runOnce(): Promise<ChunkReport>;
  /** Chunks until none is due: every job that could run has run to its end. */
  drain(): Promise<void>;
}

const SILENT: RunnerLog = { debug() {}, info() {}, warn() {}, error() {} };
/** Staged rows deleted per housekeeping statement. */
const CLEAN_UP_BATCH = 5000;

/**
 * Runs import jobs from inside the server process, one chunk at a time. Several processes
 * over one PostgreSQL database each run one and share the work chunk by chunk; a chunk whose
 * process died is taken over when its lease runs out. Nothing is lost by a restart: the
 * staged rows and the progress are in the database, committed with each chunk's users.
 */
export function createImportRunner(options: ImportRunnerOptions): ImportRunner {
  const { deps } = options;
  const log = options.log ?? SILENT;
  const owner = options.owner ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const leaseMs = options.leaseMs ?? 60_000;
  const pollIntervalMs = options.pollIntervalMs ?? 1_000;
  const cleanUpIntervalMs = options.cleanUpIntervalMs ?? 10_000;
  const concurrency = Math.max(1, options.concurrency ?? 1);

  let stopping = new AbortController();
  let inFlight = 0;
  let lastCleanUp = 0;

  async function runOnce(): Promise<ChunkReport> {
    inFlight++;
    let report: ChunkReport;
    try {
      report = await runNextImportChunk(deps, owner, leaseMs, { stop: stopping.signal, maxClaims: options.maxClaims });
    } finally {
      inFlight--;
    }
    options.onReport?.(report);
    switch (report.status) {
      case 'done':
        log.debug({ importId: report.jobId, chunk: report.chunkNo, ...report.counts }, 'import chunk committed');
        break;
      case 'lost':
        log.warn({ importId: report.jobId, chunk: report.chunkNo }, 'import chunk not committed: the job was cancelled or another process took the chunk over');
        break;
      case 'job-failed':
        log.error({ importId: report.jobId, chunk: report.chunkNo, reason: report.reason }, 'import job failed');
        break;
      case 'error':
        log.error({ importId: report.jobId, chunk: report.chunkNo, err: report.error }, 'import chunk failed; it will be tried again');
        break;
      case 'stopped':
        log.info({ importId: report.jobId, chunk: report.chunkNo }, 'import chunk given back on shutdown');
        break;
      case 'idle':
        break;
    }
    return report;
  }

  async function cleanUp(force = false): Promise<void> {
    const now = Date.now();
    if (!force && now - lastCleanUp < cleanUpIntervalMs) return;
    lastCleanUp = now;
    await cleanUpRounds();
  }

  async function cleanUpRounds(): Promise<void> {
    // Bounded rounds: a large cancelled upload is cleared over several passes, between chunks.
    for (let round = 0; round < 20; round++) {
      if (!(await deps.imports.cleanUp(deps.clock.now().toISOString(), CLEAN_UP_BATCH))) return;
    }
  }

  const poller = createPoller({
    async round() {
      const report = await runOnce();
      await cleanUp();
      return report;
    },
    busy: (report) => report.status !== 'idle',
    intervalMs: pollIntervalMs,
    concurrency,
    onError: (error, retryInMs) => log.error({ err: error, retryInMs }, 'import round failed; retrying after a pause'),
    ...(options.sleep && { sleep: options.sleep }),
  });

  return {
    start() {
      if (poller.running()) return;
      stopping = new AbortController();
      poller.start();
    },
    async stop() {
      stopping.abort();
      await poller.stop();
      // Stopped, not dead: a later runOnce or drain (or start) works again.
      stopping = new AbortController();
    },
    wake: poller.wake,
    active: () => inFlight,
    runOnce,
    async drain() {
      while ((await runOnce()).status !== 'idle');
      await cleanUpRounds();
    },
  };
}
