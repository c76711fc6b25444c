import { PostgresAdapter, sql, type Insertable, type Kysely, type RawBuilder } from 'kysely';
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

/** A plain multi-row insert: `unnest` arrays on PostgreSQL, a VALUES list on SQLite. */
export async function insertRows<T extends Table>(k: Kysely<Database>, table: T, rows: readonly Insertable<Database[T]>[]): Promise<void> {
  if (rows.length === 0) return;
  if (isPostgres(k)) {
    const { columns, select } = await unnestRows(k, table, rows as readonly Record<string, unknown>[]);
    await k.insertInto(table).columns(columns as never).expression(select).execute();
  } else {
    await k.insertInto(table).values(rows as never).execute();
  }
}
