import type SQLite from 'better-sqlite3';
import { PostgresAdapter, sql, type Insertable, type Kysely, type RawBuilder } from 'kysely';
import { yieldIfBusy } from '../core/event-loop.js';
import type { Database } from './schema.js';

type Table = keyof Database & string;

/** Rows per `unnest` insert on PostgreSQL (bounded only to keep one statement's memory small). */
export const BULK_INSERT_ROWS = 5000;

/** Each table's column types on PostgreSQL (udt names: text, int8, bool…), read once per process. */
const columnTypes = new Map<string, Promise<Map<string, string>>>();

function typesOf(k: Kysely<Database>, table: Table): Promise<Map<string, string>> {
  let types = columnTypes.get(table);
  if (types === undefined) {
    types = sql<{ column_name: string; udt_name: string }>`select column_name, udt_name from information_schema.columns where table_schema = current_schema() and table_name = ${table}`
      .execute(k)
      .then((result) => new Map(result.rows.map((r) => [r.column_name, r.udt_name])));
    types.catch(() => columnTypes.delete(table));
    columnTypes.set(table, types);
  }
  return types;
}

export function isPostgres(k: Kysely<Database>): boolean {
  return k.getExecutor().adapter instanceof PostgresAdapter;
}

/**
 * On PostgreSQL, the rows to insert as one array parameter per column, for
 * `INSERT INTO t (columns) SELECT * FROM unnest($1::text[], $2::int8[], …)`: a few parameters
 * instead of one per value, so that a 1000-row insert is parsed and planned in a fraction of
 * the time a 1000-row VALUES list takes. Every row must have the same keys (undefined is NULL).
 */
export async function unnestRows(k: Kysely<Database>, table: Table, rows: readonly Record<string, unknown>[]): Promise<{ columns: string[]; select: RawBuilder<unknown> }> {
  const types = await typesOf(k, table);
  const columns = Object.keys(rows[0] ?? {});
  const arrays = columns.map((column) => {
    const type = types.get(column);
    if (type === undefined) throw new Error(`${table}.${column} is not a column`);
    const values = rows.map((row) => row[column] ?? null);
    return sql`${values}::${sql.raw(`${type}[]`)}`;
  });
  return { columns, select: sql`select * from unnest(${sql.join(arrays)})` };
}

/** Parameters of one multi-row SQLite insert: well under SQLite's limit, and enough rows for a statement to pay off. */
const MAX_SQLITE_PARAMETERS = 400;

/** The SQLite connection behind each write transaction's Kysely handle (see `inSqliteTransaction`). */
const sqliteConnections = new WeakMap<Kysely<Database>, SqliteRows>();

/**
 * Marks `trx` as a write transaction on this better-sqlite3 connection, so that bulk writes
 * through it can run prepared single-row statements on the connection directly. SQLite has a
 * single connection, which the transaction holds until it ends: statements run on it are
 * part of the transaction.
 */
export function inSqliteTransaction(trx: Kysely<Database>, rows: SqliteRows): void {
  sqliteConnections.set(trx, rows);
}

/**
 * Row inserts on one SQLite connection. In SQLite a prepared single-row INSERT run once per
 * row is the fastest way to write many rows: nothing to parse or plan after the first time,
 * no parameter limit, and no per-row round trip since the database runs in this process.
 */
export class SqliteRows {
  readonly #statements = new Map<string, SQLite.Statement>();

  constructor(private readonly database: SQLite.Database) {}

  #statement(sqlText: string): SQLite.Statement {
    let statement = this.#statements.get(sqlText);
    if (statement === undefined) this.#statements.set(sqlText, (statement = this.database.prepare(sqlText)));
    return statement;
  }

  /**
   * Inserts the rows with prepared statements: several rows to a statement when nothing is to
   * be read back per row, else one statement run per row. With `rowids`, returns each row's
   * rowid (for an INTEGER PRIMARY KEY, that column's value), or undefined when
   * `ON CONFLICT DO NOTHING` skipped it — read from the statement's own result, as a
   * RETURNING clause costs as much again as the insert. Yields to the event loop between rows
   * once the loop has been held past its budget (the connection stays held).
   */
  async insert(table: Table, rows: readonly Record<string, unknown>[], options: { onConflictDoNothing?: boolean; rowids?: boolean } = {}): Promise<(number | undefined)[]> {
    const columns = Object.keys(rows[0] ?? {});
    const quoted = (name: string) => `"${name}"`;
    const text =
      `insert into ${quoted(table)} (${columns.map(quoted).join(', ')}) values (${columns.map(() => '?').join(', ')})` +
      (options.onConflictDoNothing ? ' on conflict do nothing' : '');
    const statement = this.#statement(text);
    const rowids: (number | undefined)[] = [];
    let r = 0;
    if (!options.rowids && !options.onConflictDoNothing) {
      // Without rowids to read back, rows go several to a statement: each run has a fixed cost
      // (binding, stepping, resetting) that a statement of many rows pays once.
      const perStatement = Math.floor(MAX_SQLITE_PARAMETERS / Math.max(1, columns.length));
      if (perStatement >= 2 && rows.length >= perStatement) {
        const many = this.#statement(`insert into ${quoted(table)} (${columns.map(quoted).join(', ')}) values ${Array.from({ length: perStatement }, () => `(${columns.map(() => '?').join(', ')})`).join(', ')}`);
        const values: unknown[] = new Array(perStatement * columns.length);
        for (; r + perStatement <= rows.length; r += perStatement) {
          for (let i = 0; i < perStatement; i++) {
            const row = rows[r + i]!;
            for (let c = 0; c < columns.length; c++) values[i * columns.length + c] = row[columns[c]!] ?? null;
          }
          many.run(values);
          await yieldIfBusy();
        }
      }
    }
    const values: unknown[] = new Array(columns.length);
    for (; r < rows.length; r++) {
      const row = rows[r]!;
      for (let c = 0; c < columns.length; c++) values[c] = row[columns[c]!] ?? null;
      const result = statement.run(values);
      if (options.rowids) rowids.push(result.changes === 1 ? Number(result.lastInsertRowid) : undefined);
      if (r % 16 === 15) await yieldIfBusy();
    }
    return rowids;
  }
}

/** The SQLite row writer of a write transaction, if `k` is one. */
export function sqliteRowsOf(k: Kysely<Database>): SqliteRows | undefined {
  return sqliteConnections.get(k);
}

/** A plain multi-row insert: `unnest` arrays on PostgreSQL, prepared row inserts on SQLite. */
export async function insertRows<T extends Table>(k: Kysely<Database>, table: T, rows: readonly Insertable<Database[T]>[]): Promise<void> {
  if (rows.length === 0) return;
  const sqliteRows = sqliteRowsOf(k);
  if (sqliteRows) {
    await sqliteRows.insert(table, rows as readonly Record<string, unknown>[]);
  } else if (isPostgres(k)) {
    const { columns, select } = await unnestRows(k, table, rows as readonly Record<string, unknown>[]);
    await k.insertInto(table).columns(columns as never).expression(select).execute();
  } else {
    await k.insertInto(table).values(rows as never).execute();
  }
}
