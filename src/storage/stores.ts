import type { CoreDeps } from '../core/ports.js';
import { createApiKeyStore } from './api-key-store.js';
import { createAuditStore } from './audit-store.js';
import { createCatalogStore } from './catalog-store.js';
import { createCredentialStore } from './credential-store.js';
import type { Db } from './database.js';
import { createIdempotencyStore } from './idempotency-store.js';
import { createImportStore } from './import-store.js';
import type { SealKeyring } from './seal-keys.js';
import { createTenantStore } from './tenant-store.js';
import { createUserStore } from './user-store.js';

/** Every store of the core, over one database. */
export function createStores(db: Db, options: { sealKeys?: SealKeyring } = {}): Pick<CoreDeps, 'tenants' | 'keys' | 'catalogs' | 'users' | 'audit' | 'credentials' | 'idempotency' | 'imports'> {
  return {
    tenants: createTenantStore(db),
    keys: createApiKeyStore(db),
    catalogs: createCatalogStore(db),
    users: createUserStore(db),
    audit: createAuditStore(db),
    credentials: createCredentialStore(db),
    idempotency: createIdempotencyStore(db),
    imports: createImportStore(db, options.sealKeys),
  };
}
