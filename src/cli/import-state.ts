/**
 * What `muster import` remembers between runs, so that running the same command again
 * after an interruption resumes instead of importing twice: the idempotency key of the
 * upload (sent before the server's answer is known), once answered, the job id, and once the
 * job has ended, when and how (the same command then says it already ran; `--new` imports again).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface ImportState {
  idempotencyKey: string;
  jobId?: string;
  file: string;
  startedAt: string;
  /** When the job ended (completed, failed or cancelled): the same command then says so instead of importing again. */
  endedAt?: string;
  /** The state the job ended in. */
  finalState?: string;
}

/** Where the states live: $MUSTER_STATE_DIR, else ~/.muster/imports. */
export function defaultStateDir(): string {
  return process.env.MUSTER_STATE_DIR || join(homedir(), '.muster', 'imports');
}

/** One saved state per import of one version of one file, to one tenant of one server, with the same options. */
export function stateFileFor(dir: string, identity: Record<string, unknown>): string {
  const name = createHash('sha256').update(JSON.stringify(identity)).digest('hex').slice(0, 32);
  return join(dir, `${name}.json`);
}

export function readState(path: string): ImportState | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as ImportState;
  } catch {
    return undefined;
  }
}

export function writeState(path: string, state: ImportState): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
}

export function clearState(path: string): void {
  rmSync(path, { force: true });
}
