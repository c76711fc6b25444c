import { randomBytes, randomUUID } from 'node:crypto';
import { createArgon2Hasher } from './core/passwords/argon2-hasher.js';
import { DEFAULT_EMAIL_SETTINGS, type EmailSettings } from './core/email/email.js';
import type { CoreDeps, PasswordHasher } from './core/ports.js';
import { ensureDefaultTenant } from './core/tenants/create-tenant.js';
import type { Db } from './storage/database.js';
import { createEmailTemplateStore, createInvitationStore, createOutboxReader } from './storage/email-store.js';
import { migrateToLatest } from './storage/migrate.js';
import { createStores } from './storage/stores.js';

/** The real dependencies of the core over an open database: stores, argon2id, the system clock. */
export function createDependencies(db: Db, overrides: { hasher?: PasswordHasher; email?: Partial<EmailSettings> } = {}): CoreDeps {
  return {
    ...createStores(db),
    email: {
      templates: createEmailTemplateStore(db),
      outbox: createOutboxReader(db),
      invitations: createInvitationStore(db),
      settings: { ...DEFAULT_EMAIL_SETTINGS, ...overrides.email },
    },
    hasher: overrides.hasher ?? createArgon2Hasher(),
    clock: { now: () => new Date() },
    ids: { uuid: () => randomUUID(), secret: (bytes) => randomBytes(bytes).toString('base64url') },
  };
}

/** Brings a database up to date and makes sure the default tenant exists. */
export async function prepareDatabase(db: Db, core: CoreDeps): Promise<void> {
  await migrateToLatest(db);
  await ensureDefaultTenant(core);
}
