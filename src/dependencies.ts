import { randomFillSync } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import { createArgon2Hasher } from './core/passwords/argon2-hasher.js';
import { DEFAULT_EMAIL_SETTINGS, type EmailSettings } from './core/email/email.js';
import type { Clock, CoreDeps, Ids, PasswordHasher } from './core/ports.js';
import { ensureDefaultTenant } from './core/tenants/create-tenant.js';
import { groupCommit } from './core/users/group-commit.js';
import { transactionWriter, type UsersWriter } from './core/users/write-users.js';
import type { Db } from './storage/database.js';
import { createEmailTemplateStore, createInvitationStore, createOutboxReader } from './storage/email-store.js';
import { migrateToLatest } from './storage/migrate.js';
import type { SealKeyring } from './storage/seal-keys.js';
import { createStores } from './storage/stores.js';

/**
 * Random bytes drawn from the system's generator a few kilobytes at a time: one call per few
 * hundred ids instead of one per id (the cost of a 1000-user batch's ids and invitation
 * tokens was mostly the calls). Each byte is handed out once.
 */
class RandomPool {
  #pool = Buffer.alloc(0);
  #offset = 0;

  take(bytes: number): Buffer {
    if (bytes > 1024) return randomFillSync(Buffer.alloc(bytes));
    if (this.#offset + bytes > this.#pool.length) {
      // A fresh buffer each time: what was handed out is never overwritten.
      this.#pool = randomFillSync(Buffer.allocUnsafe(8192));
      this.#offset = 0;
    }
    const taken = this.#pool.subarray(this.#offset, this.#offset + bytes);
    this.#offset += bytes;
    return taken;
  }
}

const randomPool = new RandomPool();

/** The real dependencies of the core over an open database: stores, argon2id, the system clock. */
export function createDependencies(db: Db, overrides: { sealKeys?: SealKeyring; hasher?: PasswordHasher; email?: Partial<EmailSettings> } = {}): CoreDeps {
  // Ids are UUIDv7: their time-ordered start makes every insert into an id index an append,
  // where a random UUIDv4 lands on a different page of the index each time.
  const ids: Ids = { uuid: () => uuidv7({ random: randomPool.take(16) }), secret: (bytes) => randomPool.take(bytes).toString('base64url') };
  const clock: Clock = { now: () => new Date() };
  const stores = createStores(db, { ...(overrides.sealKeys && { sealKeys: overrides.sealKeys }) });
  return {
    ...stores,
    userWrites: createUserWrites({ users: stores.users, clock, ids }),
    email: {
      templates: createEmailTemplateStore(db),
      outbox: createOutboxReader(db),
      invitations: createInvitationStore(db),
      settings: { ...DEFAULT_EMAIL_SETTINGS, ...overrides.email },
    },
    hasher: overrides.hasher ?? createArgon2Hasher(),
    clock,
    ids,
  };
}

/**
 * The writer of the API's creates over a users store: each call's transaction, shared by the
 * calls of one tenant that arrive together (group commit). Whoever puts another users store in
 * the core builds its writer with this too.
 */
export function createUserWrites(ports: Pick<CoreDeps, 'users' | 'clock' | 'ids'>): UsersWriter {
  return groupCommit(transactionWriter(ports));
}

/** Brings a database up to date and makes sure the default tenant exists. */
export async function prepareDatabase(db: Db, core: CoreDeps): Promise<void> {
  await migrateToLatest(db);
  await ensureDefaultTenant(core);
}
