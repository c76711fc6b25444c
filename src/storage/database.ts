import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, sql, SqliteDialect } from 'kysely';
import pg from 'pg';
import type { TxDecision } from '../core/ports.js';
import type { Database } from './schema.js';
import { inSqliteTransaction, SqliteRows } from './bulk-insert.js';
import { SERVING_WAL_AUTOCHECKPOINT_PAGES, startCheckpointer, withStatementCache, YieldToEventLoopPlugin } from './sqlite-tuning.js';

export type DialectName = 'sqlite' | 'postgres';

export interface Db {
  kysely: Kysely<Database>;
  dialect: DialectName;
  /**
   * Runs `work` in a write transaction. On SQLite it begins IMMEDIATE, taking the write lock
   * at once so that two processes sharing a file serialise instead of failing on upgrade.
   */
  write<T>(work: (trx: Kysely<Database>) => Promise<T>): Promise<T>;
  /**
   * As `write`, but `work` decides how the transaction ends: with `commit` it commits, with
   * `rollback` it rolls back, nothing thrown; either way its `value` is returned. Throwing still
   * rolls back and rejects. A retried transaction runs `work` again, as `write` does.
   */
  writeOrRollback<T>(work: (trx: Kysely<Database>) => Promise<TxDecision<T>>): Promise<T>;
  close(): Promise<void>;
  /**
   * SQLite only: after a redaction, makes sure no earlier version of the rewritten pages stays
   * in the write-ahead log (freed and rewritten space in the database file is zeroed by
   * `secure_delete`). Returns at once; the log is cut back in the background.
   */
  scrubLog?(): void;
  /** SQLite only: the database file's path (`:memory:` for a database in memory). */
  file?: string;
  /** PostgreSQL only: the connection pool under `kysely`, for stores that take a `pg` pool (the shared rate limits) and for pool metrics. */
  pool?: pg.Pool;
}

const INT8_OID = 20;

/** How many times a write transaction is tried when the database asks for a retry (deadlock, serialization failure, busy file). */
export const WRITE_ATTEMPTS = 5;

/**
 * Whether the database refused a transaction in a way that a new attempt can cure:
 * PostgreSQL's deadlock (40P01) and serialization failure (40001), SQLite's busy or locked file.
 */
export function isRetryableWriteError(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return code === '40P01' || code === '40001' || code === 'SQLITE_BUSY' || code === 'SQLITE_BUSY_SNAPSHOT' || code === 'SQLITE_LOCKED';
}

/**
 * Runs `attempt` until it succeeds, or fails with an error that is not retryable, or has
 * failed WRITE_ATTEMPTS times; waits a short random while between attempts so that the two
 * transactions that deadlocked do not meet again in step. `attempt` must start a new
 * transaction each time, so that nothing of a failed one remains.
 */
export async function withWriteRetries<T>(attempt: () => Promise<T>): Promise<T> {
  for (let tries = 1; ; tries++) {
    try {
      return await attempt();
    } catch (error) {
      if (tries >= WRITE_ATTEMPTS || !isRetryableWriteError(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * tries));
    }
  }
}

function openSqlite(path: string): Db {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const database = new SQLite(path);
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma('foreign_keys = ON');
  database.pragma('busy_timeout = 5000');
  // Deleted and overwritten content is zeroed, not left in free space or free pages: a redacted
  // secret must not be readable from the file.
  database.pragma('secure_delete = ON');
  const checkpointer = path === ':memory:' ? undefined : startCheckpointer(path);
  if (path !== ':memory:') {
    database.pragma(`wal_autocheckpoint = ${SERVING_WAL_AUTOCHECKPOINT_PAGES}`);
    // After a large import the log is cut back to 64 MiB once it has been checkpointed.
    database.pragma('journal_size_limit = 67108864');
  }
  const kysely = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(database) }), plugins: [new YieldToEventLoopPlugin()] });
  const rows = new SqliteRows(database);
  // One connection, held for the whole transaction by Kysely's connection mutex. Another process
  // holding the file's write lock longer than busy_timeout makes BEGIN fail with SQLITE_BUSY: the
  // transaction is tried again rather than the request failing. The work's decision ends it.
  const writeOrRollback: Db['writeOrRollback'] = (work) =>
    withWriteRetries(() =>
      kysely.connection().execute(async (conn) => {
        await sql`begin immediate`.execute(conn);
        inSqliteTransaction(conn, rows);
        try {
          const { decision, value } = await work(conn);
          await (decision === 'commit' ? sql`commit` : sql`rollback`).execute(conn);
          return value;
        } catch (error) {
          if (database.inTransaction) await sql`rollback`.execute(conn);
          throw error;
        }
      }),
    );
  return {
    kysely,
    dialect: 'sqlite',
    file: path,
    write: (work) => writeOrRollback(committing(work)),
    writeOrRollback,
    scrubLog: () => checkpointer?.scrub(),
    close: async () => {
      await kysely.destroy();
      await checkpointer?.stop();
    },
  };
}

function openPostgres(url: string): Db {
  const pool = new pg.Pool({
    connectionString: url,
    max: 10,
    // bigint columns (user numbers, counts) fit in a double long before they matter.
    types: { getTypeParser: (oid: number, format?: string) => (oid === INT8_OID ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) } as pg.CustomTypesConfig,
  });
  // An idle pooled connection can be closed by the server (a restart, an administrator); the pool
  // drops it and opens another when needed. Without a listener that event would end the process.
  pool.on('error', () => {});
  const kysely = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  // Two transactions that lock the same rows in opposite orders deadlock; PostgreSQL aborts one
  // of them (40P01), which is then tried again instead of failing the request.
  const writeOrRollback: Db['writeOrRollback'] = (work) =>
    withWriteRetries(async () => {
      const trx = await kysely.startTransaction().execute();
      try {
        const { decision, value } = await work(trx);
        await (decision === 'commit' ? trx.commit() : trx.rollback()).execute();
        return value;
      } catch (error) {
        // Releases the connection even when the rollback itself fails (a broken connection).
        if (!trx.isCommitted && !trx.isRolledBack) await trx.rollback().execute().catch(() => {});
        throw error;
      }
    });
  return {
    kysely,
    dialect: 'postgres',
    pool,
    write: (work) => writeOrRollback(committing(work)),
    writeOrRollback,
    close: () => kysely.destroy(),
  };
}

/** Work that always commits, as `write` runs it: its result is the transaction's value. */
function committing<T>(work: (trx: Kysely<Database>) => Promise<T>): (trx: Kysely<Database>) => Promise<TxDecision<T>> {
  return async (trx) => ({ decision: 'commit', value: await work(trx) });
}

/** Opens `sqlite:PATH` (PATH may be `:memory:`) or a `postgres://` URL. */
export function openDatabase(url: string): Db {
  if (url.startsWith('sqlite:')) return openSqlite(url.slice('sqlite:'.length));
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) return openPostgres(url);
  throw new Error(`DATABASE_URL must start with sqlite: or postgres:// (got "${url.split(':')[0]}:…")`);
}

/** Whether the database refused a write for want of space: SQLite's SQLITE_FULL, PostgreSQL's disk_full (53100). */
export function isStorageFull(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return code === 'SQLITE_FULL' || code === '53100';
}

/** Which unique index a driver error is about, if it is a unique violation at all. */
export function uniqueViolation(error: unknown): 'email' | 'userName' | 'externalId' | 'other' | undefined {
  const e = error as { code?: string; constraint?: string; message?: string };
  const isUnique = e?.code === '23505' || e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
  if (!isUnique) return undefined;
  const where = `${e.constraint ?? ''} ${e.message ?? ''}`;
  if (where.includes('email_key')) return 'email';
  if (where.includes('user_name_key')) return 'userName';
  if (where.includes('external_id')) return 'externalId';
  return 'other';
}
