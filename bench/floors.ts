import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { SERVING_WAL_AUTOCHECKPOINT_PAGES } from '../src/storage/sqlite-tuning.js';

/**
 * Floors: what the database itself costs for the work a benchmark asks of Muster, measured in
 * the same run as the figure they divide, so that a ratio means the same on a fast machine and
 * on a slow one. Each floor writes rows shaped like Muster's users (the same columns, the same
 * unique keys per tenant: id, email key, user-name key, external id; the same (tenant, number)
 * index) into a scratch table, with nothing of Muster in between: no validation, no seats, no
 * audit events, no emails.
 *
 * - SQLite: better-sqlite3 on a file of its own with Muster's pragmas (WAL, synchronous=NORMAL,
 *   foreign keys, secure_delete, the same autocheckpoint), a prepared single-row insert run once
 *   per row inside one transaction (Muster's own way to write many rows there).
 * - PostgreSQL: `pg` on the bench's PostgreSQL (durable settings), a database of its own, one
 *   multi-row insert (`unnest`, one array per column) in one transaction.
 */
export interface RawInsertFloor {
  /**
   * A 1000-user batch's floor, in ms: parse the request body (the JSON text the server was
   * sent), insert its users in one transaction, serialise `report` (the server's answer to a
   * batch of the same size) to JSON.
   */
  batchMs(body: string, report: unknown): Promise<number>;
  /** An import's floor, in rows/s: `rows` users inserted in transactions of 1000 (the rows built beforehand, untimed). */
  importRowsPerSecond(rows: number): Promise<number>;
  close(): Promise<void>;
}

interface Draft {
  email: string;
  userName?: string;
  name?: { givenName?: string; familyName?: string };
}

/** The scratch table's columns, in insert order (those Muster's user insert sets; the rest keep their defaults). */
const COLUMNS = ['id', 'tenant_id', 'user_name', 'user_name_key', 'email', 'email_key', 'given_name', 'family_name', 'formatted_name', 'locked_out', 'approved', 'revision', 'created_at', 'updated_at'] as const;
type Row = unknown[];

function rowsOf(drafts: readonly Draft[], tenant: string): Row[] {
  const now = new Date().toISOString();
  return drafts.map((d) => {
    const userName = d.userName ?? d.email;
    const given = d.name?.givenName ?? null;
    const family = d.name?.familyName ?? null;
    return [randomUUID(), tenant, userName, userName.toLowerCase(), d.email, d.email.toLowerCase(), given, family, [given, family].filter(Boolean).join(' ') || null, 0, 1, 1, now, now];
  });
}

function importDrafts(count: number, run: string): Draft[] {
  return Array.from({ length: count }, (_, i) => ({ email: `user${i}.${run}@example.com`, name: { givenName: 'Import', familyName: `User ${i}` } }));
}

const runId = () => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;

function tableSql(kind: 'sqlite' | 'postgres'): string[] {
  const number = kind === 'sqlite' ? 'number integer primary key autoincrement' : 'number bigint primary key generated always as identity';
  return [
    `create table floor_users (${number}, id text not null unique, tenant_id text not null, user_name text not null, user_name_key text not null,
      email text not null, email_key text not null, given_name text, family_name text, formatted_name text, phone_number text,
      department_id text, location_id text, program_admin_role_id text, locked_out integer not null default 0, approved integer not null default 1,
      password_hash text, revision integer not null default 1, created_at text not null, updated_at text not null,
      external_id text, employee_number text, department text, display_name text,
      constraint floor_users_email unique (tenant_id, email_key), constraint floor_users_user_name unique (tenant_id, user_name_key))`,
    'create index floor_users_number on floor_users (tenant_id, number)',
    'create unique index floor_users_external_id on floor_users (tenant_id, external_id)',
  ];
}

/** The floors on a SQLite file of their own in a temporary directory. */
export function sqliteFloor(): RawInsertFloor {
  const dir = mkdtempSync(join(tmpdir(), 'muster-floor-'));
  const db = new SQLite(join(dir, 'floor.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('secure_delete = ON');
  db.pragma(`wal_autocheckpoint = ${SERVING_WAL_AUTOCHECKPOINT_PAGES}`);
  for (const statement of tableSql('sqlite')) db.exec(statement);
  const insert = db.prepare(`insert into floor_users (${COLUMNS.join(', ')}) values (${COLUMNS.map(() => '?').join(', ')})`);
  const insertAll = db.transaction((rows: Row[]) => {
    for (const row of rows) insert.run(row);
  });
  // Muster checkpoints its log from another thread; here the log is checkpointed between runs, untimed.
  const checkpoint = () => db.pragma('wal_checkpoint(TRUNCATE)');
  return {
    async batchMs(body, report) {
      checkpoint();
      const started = performance.now();
      const drafts = (JSON.parse(body) as { users: Draft[] }).users;
      insertAll(rowsOf(drafts, 'floor-batch'));
      JSON.stringify(report);
      return performance.now() - started;
    },
    async importRowsPerSecond(count) {
      checkpoint();
      const rows = rowsOf(importDrafts(count, runId()), 'floor-import');
      const started = performance.now();
      for (let i = 0; i < rows.length; i += 1000) insertAll(rows.slice(i, i + 1000));
      return count / ((performance.now() - started) / 1000);
    },
    async close() {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The floors in a database of their own on the bench's PostgreSQL server. */
export async function postgresFloor(adminUrl: string): Promise<RawInsertFloor> {
  const name = `floor_${Date.now()}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const client = new pg.Client({ connectionString: adminUrl.replace(/\/postgres$/, `/${name}`) });
  await client.connect();
  for (const statement of tableSql('postgres')) await client.query(statement);
  const types = ['uuid', 'text', 'text', 'text', 'text', 'text', 'text', 'text', 'text', 'int4', 'int4', 'int4', 'text', 'text'];
  const text = `insert into floor_users (${COLUMNS.join(', ')}) select * from unnest(${types.map((t, i) => `$${i + 1}::${t === 'uuid' ? 'text' : t}[]`).join(', ')})`;
  const insertAll = async (rows: Row[]) => {
    const arrays = COLUMNS.map((_, c) => rows.map((row) => row[c]));
    await client.query('begin');
    await client.query({ name: 'floor_insert', text, values: arrays });
    await client.query('commit');
  };
  return {
    async batchMs(body, report) {
      const started = performance.now();
      const drafts = (JSON.parse(body) as { users: Draft[] }).users;
      await insertAll(rowsOf(drafts, 'floor-batch'));
      JSON.stringify(report);
      return performance.now() - started;
    },
    async importRowsPerSecond(count) {
      const rows = rowsOf(importDrafts(count, runId()), 'floor-import');
      const started = performance.now();
      for (let i = 0; i < rows.length; i += 1000) await insertAll(rows.slice(i, i + 1000));
      return count / ((performance.now() - started) / 1000);
    },
    async close() {
      await client.end();
    },
  };
}
