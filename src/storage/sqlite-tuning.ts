import { Worker } from 'node:worker_threads';
import type SQLite from 'better-sqlite3';
import { yieldIfBusy } from '../core/event-loop.js';
import type { CheckpointerData, CheckpointerMessage } from './sqlite-checkpointer.worker.js';
import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs, QueryResult, RootOperationNode, SqliteDatabase, SqliteStatement, UnknownRow } from 'kysely';

/** Statements kept prepared per connection (least recently used dropped first). */
const STATEMENT_CACHE_SIZE = 200;

/**
 * better-sqlite3 for Kysely with its statements kept prepared: Kysely prepares every query
 * it runs, and preparing costs as much as running a small insert (and several milliseconds
 * for a 1000-row insert). A cached statement still being iterated (a streamed query) is not
 * handed out again; a fresh one is prepared instead.
 */
export function withStatementCache(database: SQLite.Database): SqliteDatabase {
  const cache = new Map<string, SQLite.Statement>();
  return {
    close: () => database.close(),
    prepare(sql: string): SqliteStatement {
      const cached = cache.get(sql);
      if (cached !== undefined) {
        if (cached.busy) return database.prepare(sql) as unknown as SqliteStatement;
        cache.delete(sql);
        cache.set(sql, cached);
        return cached as unknown as SqliteStatement;
      }
      const statement = database.prepare(sql);
      cache.set(sql, statement);
      if (cache.size > STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
      return statement as unknown as SqliteStatement;
    },
  };
}

/**
 * How often the background connection copies the write-ahead log into the database file. Each
 * checkpoint ends with a sync of the database file, during which the serving connection's own
 * writes to the log can wait on the disk: small, frequent checkpoints keep those waits short
 * (during a million-row import the longest event-loop stall was 30 ms at 50 ms, 55–70 ms at
 * 200 ms, 88 ms at 1 s).
 */
const CHECKPOINT_INTERVAL_MS = 50;
/** The serving connection checkpoints itself only past this many WAL pages (a safety net should the background one stop). */
export const SERVING_WAL_AUTOCHECKPOINT_PAGES = 20_000;

/**
 * Checkpoints the write-ahead log from a worker thread with its own connection. With the
 * default automatic checkpoint, the commit that crosses 1000 WAL pages copies them into the
 * database file and syncs it on the event loop (50–100 ms after a 1000-user batch); a PASSIVE
 * checkpoint on another connection does the same work without blocking readers or writers.
 */
export interface Checkpointer {
  /**
   * Asks for the next checkpoint to be a TRUNCATE one, tried every interval until it gets
   * through: the log is copied into the database file and cut to zero bytes, so that older
   * versions of rewritten pages (a redacted invitation code, say) no longer sit in it.
   */
  scrub(): void;
  stop(): Promise<void>;
}

/** Running from source (under tsx or the test runner) rather than from the build. */
const FROM_SOURCE = import.meta.url.endsWith('.ts');
/** The thread's module, beside this one: `.js` in the build, `.ts` in the source tree. */
const CHECKPOINTER_MODULE = new URL(`./sqlite-checkpointer.worker.${FROM_SOURCE ? 'ts' : 'js'}`, import.meta.url);

/**
 * A worker thread running `module`. From the build that is the file itself. From source the
 * thread needs tsx to load a `.ts` file, and Node 20 applies a `--import` given to a thread
 * only after resolving its entry (which it then refuses for its extension): there the thread's
 * entry is one line that imports the module through tsx's API.
 */
function startWorker(module: URL, workerData: unknown): Worker {
  if (!FROM_SOURCE) return new Worker(module, { workerData });
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = `import(${JSON.stringify(tsx)}).then((tsx) => tsx.tsImport(${JSON.stringify(module.href)}, ${JSON.stringify(module.href)}));`;
  return new Worker(entry, { eval: true, workerData });
}

export function startCheckpointer(path: string): Checkpointer {
  const workerData: CheckpointerData = { path, intervalMs: CHECKPOINT_INTERVAL_MS };
  const worker = startWorker(CHECKPOINTER_MODULE, workerData);
  worker.unref();
  worker.on('error', () => {}); // the serving connection's own automatic checkpoint takes over
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return {
    scrub: () => worker.postMessage('scrub' satisfies CheckpointerMessage),
    async stop() {
      worker.postMessage('close' satisfies CheckpointerMessage);
      const timeout = setTimeout(() => void worker.terminate(), 2000);
      await exited;
      clearTimeout(timeout);
    },
  };
}

/**
 * better-sqlite3 runs each statement synchronously, so a transaction of several large
 * statements would hold the event loop for its whole length. After a statement that ends
 * with the loop held past its budget, the result waits one setImmediate: other requests' I/O
 * runs in between (their queries still queue behind the transaction, which holds the only
 * connection).
 */
export class YieldToEventLoopPlugin implements KyselyPlugin {
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return args.node;
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    await yieldIfBusy();
    return args.result;
  }
}
