/**
 * Opens the database named by its first argument, waits until the time (ms since the epoch)
 * in its second, applies the pending migrations and prints the names applied as JSON: how a
 * test makes several processes migrate one database at the same moment.
 */
import { openDatabase } from '../../src/storage/database.js';
import { migrateToLatest } from '../../src/storage/migrate.js';

const url = process.argv[2];
if (!url) throw new Error('usage: migrate-once <database url>');
const db = openDatabase(url);
const startAt = Number(process.argv[3] ?? 0);
await new Promise((resolve) => setTimeout(resolve, Math.max(0, startAt - Date.now())));
try {
  process.stdout.write(JSON.stringify(await migrateToLatest(db)));
} finally {
  await db.close();
}
