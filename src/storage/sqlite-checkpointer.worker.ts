/**
 * The body of the checkpointer thread (see startCheckpointer in sqlite-tuning.ts): its own
 * connection to the database file, copying the write-ahead log into it on a timer so that no
 * commit of the serving connection has to.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

/** What startCheckpointer hands the thread. */
export interface CheckpointerData {
  path: string;
  intervalMs: number;
}

/** What the thread understands: the next checkpoint truncates the log, or the thread ends. */
export type CheckpointerMessage = 'scrub' | 'close';

/** The part of `wal_checkpoint`'s result row this thread reads: 1 when another connection kept it from finishing. */
interface CheckpointResult {
  busy: number;
}

if (!parentPort) throw new Error('sqlite-checkpointer.worker runs as a worker thread, started by startCheckpointer');
const port = parentPort;
const { path, intervalMs } = workerData as CheckpointerData;

const db = new Database(path);
// A checkpoint that would wait for a lock is simply tried again at the next tick.
db.pragma('busy_timeout = 0');
let scrub = false;

const timer = setInterval(() => {
  try {
    if (!scrub) {
      db.pragma('wal_checkpoint(PASSIVE)');
      return;
    }
    const [result] = db.pragma('wal_checkpoint(TRUNCATE)') as CheckpointResult[];
    if (result?.busy === 0) scrub = false;
  } catch {
    // SQLITE_BUSY or a file being closed under it: the next tick tries again.
  }
}, intervalMs);

port.on('message', (message: CheckpointerMessage) => {
  if (message === 'scrub') {
    scrub = true;
    return;
  }
  clearInterval(timer);
  db.close();
  port.close();
});
