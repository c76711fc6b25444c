/**
 * Opens the database named by its first argument, says `ready` on stdout, waits for a line on
 * stdin, then applies the pending migrations and prints the names applied as JSON: how a test
 * makes several processes migrate one database at the same moment, however long each takes
 * to load.
 */
import { createInterface } from 'node:readline';
import { openDatabase } from '../../src/storage/database.js';
import { migrateToLatest } from '../../src/storage/migrate.js';

const url = process.argv[2];
if (!url) throw new Error('usage: migrate-once <database url>');
const db = openDatabase(url);
const lines = createInterface({ input: process.stdin });
const go = new Promise<void>((resolve) => lines.once('line', () => resolve()));
process.stdout.write('ready\n');
await go;
lines.close();
try {
  process.stdout.write(`${JSON.stringify(await migrateToLatest(db))}\n`);
} finally {
  await db.close();
}
