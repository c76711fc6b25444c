/**
 * The key-encryption keys of import jobs. Each import job seals the plaintext passwords of its
 * staged rows with an AES-256 key of its own; that key is stored in `import_jobs.seal_key`
 * only wrapped (AES-256-GCM, bound to the job's id) by a key-encryption key that never enters
 * the database: whoever reads the database alone reads neither the job keys nor the passwords.
 *
 * Where the key-encryption keys come from:
 * - `MUSTER_IMPORT_KEY`: one or more keys (32 random bytes each, base64 or hex), separated by
 *   commas. The first wraps new job keys; all of them unwrap. Required for a fleet (every
 *   instance must hold the same keys).
 * - otherwise a key file, created with mode 0600 on first start: beside the SQLite file
 *   (`<database file>.import-key`), or `MUSTER_IMPORT_KEY_FILE` (default `./data/import.key`
 *   on PostgreSQL). One key per line, the first the current one.
 *
 * Rotation: put the new key first and keep the old ones after it, then restart. At start-up
 * every stored job key not wrapped by the current key is re-wrapped with it
 * (`rewrapSealKeys`), after which the old keys can be removed.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Db } from './database.js';

const FORMAT = 'kek1';
const KEY_BYTES = 32;

export interface SealKeyring {
  /** The stored form of a job's key: `kek1:<key id>:<base64 of iv, tag, wrapped key>`. */
  wrap(jobId: string, key: Buffer): string;
  /** The job's key from its stored form; throws when no key of this ring wrapped it. */
  unwrap(jobId: string, stored: string): Buffer;
  /** Whether `stored` is wrapped by the current key (nothing to re-wrap). */
  isCurrent(stored: string): boolean;
  /** The current key's id: the first 16 hex digits of its SHA-256 (names it, reveals nothing). */
  readonly currentId: string;
}

function keyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

/** Parses a list of keys (base64 or 64 hex digits each), separated by commas or new lines. */
export function parseKeys(text: string, source: string): Buffer[] {
  const keys = text
    .split(/[,\r\n]+/)
    .map((item) => item.trim())
    .filter((item) => item !== '' && !item.startsWith('#'))
    .map((item) => (/^[0-9a-f]{64}$/i.test(item) ? Buffer.from(item, 'hex') : Buffer.from(item, 'base64')));
  if (keys.length === 0) throw new Error(`${source} holds no key`);
  if (keys.some((k) => k.length !== KEY_BYTES)) throw new Error(`${source}: every key must be ${KEY_BYTES} bytes, written in base64 or hex (e.g. \`openssl rand -base64 32\`)`);
  return keys;
}

export function createSealKeyring(keys: readonly Buffer[]): SealKeyring {
  if (keys.length === 0) throw new Error('a seal keyring needs a key');
  const byId = new Map(keys.map((k) => [keyId(k), k]));
  const current = keys[0]!;
  const currentId = keyId(current);
  const prefix = `${FORMAT}:${currentId}:`;
  return {
    currentId,
    wrap(jobId, key) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', current, iv);
      cipher.setAAD(Buffer.from(jobId, 'utf8'));
      const body = Buffer.concat([cipher.update(key), cipher.final()]);
      return prefix + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
    },
    unwrap(jobId, stored) {
      if (!stored.startsWith(`${FORMAT}:`)) {
        // Written before job keys were wrapped: the key itself, in base64. Re-wrapped at start-up.
        const legacy = Buffer.from(stored, 'base64');
        if (legacy.length !== KEY_BYTES) throw new Error('an import job key is neither wrapped nor a key');
        return legacy;
      }
      const [, id, data] = stored.split(':');
      const kek = byId.get(id ?? '');
      if (!kek) throw new Error(`import job key wrapped by key ${id}, which is not configured (MUSTER_IMPORT_KEY or the key file)`);
      const raw = Buffer.from(data ?? '', 'base64');
      const decipher = createDecipheriv('aes-256-gcm', kek, raw.subarray(0, 12));
      decipher.setAAD(Buffer.from(jobId, 'utf8'));
      decipher.setAuthTag(raw.subarray(12, 28));
      return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]);
    },
    isCurrent: (stored) => stored.startsWith(prefix),
  };
}

/**
 * Reads the key file, or creates it with one new random key (mode 0600, in a directory made
 * 0700 if missing). Of processes starting at once, one creates it (an atomic link) and the
 * others read that one.
 */
export function loadKeyFile(path: string): Buffer[] {
  try {
    return parseKeys(readFileSync(path, 'utf8'), path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(temporary, `${randomBytes(KEY_BYTES).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(temporary, 0o600);
  try {
    linkSync(temporary, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    rmSync(temporary, { force: true });
  }
  return parseKeys(readFileSync(path, 'utf8'), path);
}

/** Where the key file is by default: beside a SQLite file; under ./data for PostgreSQL. */
export function defaultKeyFile(db: Db): string | undefined {
  if (db.dialect === 'sqlite') return db.file === undefined || db.file === ':memory:' ? undefined : `${db.file}.import-key`;
  return './data/import.key';
}

/** The keyring for a database: configured keys, else the key file (created on first use). */
export function openSealKeyring(db: Db, options: { keys?: string | undefined; file?: string | undefined } = {}): SealKeyring {
  if (options.keys !== undefined && options.keys !== '') return createSealKeyring(parseKeys(options.keys, 'MUSTER_IMPORT_KEY'));
  const file = options.file ?? defaultKeyFile(db);
  // An in-memory database keeps nothing past the process; neither does its key.
  return createSealKeyring(file === undefined ? [randomBytes(KEY_BYTES)] : loadKeyFile(file));
}

/**
 * Re-wraps with the current key every stored job key that is not wrapped by it: keys of
 * jobs written before wrapping existed, and keys wrapped by a key being rotated out. Returns
 * how many were re-wrapped. A key that cannot be unwrapped is left as it is (its job fails
 * with a clear reason when it runs).
 */
export async function rewrapSealKeys(db: Db, keyring: SealKeyring): Promise<number> {
  const rows = await db.kysely.selectFrom('import_jobs').select(['id', 'seal_key']).where('seal_key', 'is not', null).execute();
  let rewrapped = 0;
  for (const row of rows) {
    const stored = row.seal_key!;
    if (keyring.isCurrent(stored)) continue;
    let key: Buffer;
    try {
      key = keyring.unwrap(row.id, stored);
    } catch {
      continue;
    }
    const updated = await db.kysely
      .updateTable('import_jobs')
      .set({ seal_key: keyring.wrap(row.id, key) })
      .where('id', '=', row.id)
      .where('seal_key', '=', stored)
      .executeTakeFirst();
    rewrapped += Number(updated.numUpdatedRows);
  }
  return rewrapped;
}
