import type { Selectable } from 'kysely';
import type { KeyRole } from '../core/credentials/actor.js';
import type { ApiKeyStore } from '../core/ports.js';
import type { ApiKeyRecord } from '../core/credentials/api-key-record.js';
import { insertAuditEvents } from './audit-store.js';
import type { Db } from './database.js';
import type { ApiKeysTable } from './schema.js';

function toKey(row: Selectable<ApiKeysTable>): ApiKeyRecord {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    name: row.name,
    role: row.role as KeyRole,
    tokenHash: row.token_hash,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
  };
}

export function createApiKeyStore(db: Db): ApiKeyStore {
  const k = db.kysely;
  return {
    async insert(key, audit) {
      await db.write(async (trx) => {
        await trx
          .insertInto('api_keys')
          .values({
            id: key.id,
            tenant_id: key.tenantId,
            name: key.name,
            role: key.role,
            token_hash: key.tokenHash,
            created_at: key.createdAt,
            revoked_at: key.revokedAt,
          })
          .execute();
        if (audit) await insertAuditEvents(trx, [audit]);
      });
    },
    async get(id) {
      const row = await k.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toKey(row);
    },
    async list(tenantId) {
      const query = k.selectFrom('api_keys').selectAll().orderBy('created_at').orderBy('id');
      const rows = await (tenantId === null ? query.where('tenant_id', 'is', null) : query.where('tenant_id', '=', tenantId)).execute();
      return rows.map(toKey);
    },
    async revoke(id, at, audit) {
      return db.write(async (trx) => {
        const result = await trx.updateTable('api_keys').set({ revoked_at: at }).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
        const revoked = Number(result.numUpdatedRows) > 0;
        if (revoked && audit) await insertAuditEvents(trx, [audit]);
        return revoked;
      });
    },
  };
}
