import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { inject } from 'vitest';
import { openDatabase, type Db, type DialectName } from '../../src/storage/database.js';

/** Both databases every API and storage suite runs on. */
export const DATABASES: DialectName[] = ['sqlite', 'postgres'];

export interface TestDatabase {
  url: string;
  kind: DialectName;
  /** Opens a fresh connection (pool) to this database. */
  open(): Db;
  /** Drops the database (PostgreSQL) or deletes the file (SQLite). */
  drop(): Promise<void>;
}

/** A new, empty database: a SQLite file in a temporary directory, or a new PostgreSQL database on the test server. */
export async function createTestDatabase(kind: DialectName): Promise<TestDatabase> {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'muster-sqlite-'));
    const url = `sqlite:${join(dir, 'muster.db')}`;
    return { url, kind, open: () => openDatabase(url), drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const adminUrl = inject('postgresAdminUrl');
  const name = `muster_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = adminUrl.replace(/\/postgres$/, `/${name}`);
  return {
    url,
    kind,
    open: () => openDatabase(url),
    drop: async () => {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}
