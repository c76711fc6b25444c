import type { CredentialStore } from '../core/ports.js';
import type { Db } from './database.js';

/** Password lookups for verification; the only reader of `users.password_hash` besides the writers. */
export function createCredentialStore(db: Db): CredentialStore {
  const k = db.kysely;
  return {
    async findByLogin(tenantId, loginKey) {
      // Both unique indexes are used; a user whose user name is the login wins over another whose email is.
      const rows = await k
        .selectFrom('users')
        .select(['id', 'user_name_key', 'password_hash', 'locked_out', 'approved'])
        .where('tenant_id', '=', tenantId)
        .where((eb) => eb.or([eb('user_name_key', '=', loginKey), eb('email_key', '=', loginKey)]))
        .limit(2)
        .execute();
      const row = rows.find((r) => r.user_name_key === loginKey) ?? rows[0];
      if (!row) return undefined;
      return { userId: row.id, passwordHash: row.password_hash, lockedOut: Number(row.locked_out) === 1, approved: Number(row.approved) === 1 };
    },
    async replacePasswordHash(tenantId, userId, expected, replacement) {
      const result = await k
        .updateTable('users')
        .set({ password_hash: replacement })
        .where('tenant_id', '=', tenantId)
        .where('id', '=', userId)
        .where('password_hash', '=', expected)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
  };
}
