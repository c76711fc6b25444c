import type { IdempotencyRecord, IdempotencyStore, StoredResponse } from '../core/idempotency/idempotency.js';
import type { Db } from './database.js';

/**
 * Idempotency keys over either database. `claim` is one INSERT … ON CONFLICT DO NOTHING on the
 * primary key (scope, key_hash): of two concurrent requests with one key exactly one inserts.
 * Every later change names the owner of the claim, so a request that lost its claim (its
 * lease ended and another took over) cannot overwrite the new owner's record.
 */
export function createIdempotencyStore(db: Db): IdempotencyStore {
  const k = db.kysely;
  return {
    async claim(record) {
      const inserted = await k
        .insertInto('idempotency_keys')
        .values({
          scope: record.scope,
          key_hash: record.keyHash,
          request_hash: record.requestHash,
          owner: record.owner,
          state: 'processing',
          locked_until: record.lockedUntil,
          status_code: null,
          response_headers: null,
          response_body: null,
          created_at: record.createdAt,
          expires_at: record.expiresAt,
        })
        .onConflict((oc) => oc.columns(['scope', 'key_hash']).doNothing())
        .returning('scope')
        .executeTakeFirst();
      return inserted !== undefined;
    },
    async get(scope, keyHash) {
      const row = await k.selectFrom('idempotency_keys').selectAll().where('scope', '=', scope).where('key_hash', '=', keyHash).executeTakeFirst();
      if (!row) return undefined;
      const response: StoredResponse | null =
        row.state === 'completed' && row.status_code !== null
          ? { status: Number(row.status_code), headers: JSON.parse(row.response_headers ?? '{}') as Record<string, string>, body: row.response_body ?? '' }
          : null;
      const record: IdempotencyRecord = {
        scope: row.scope,
        keyHash: row.key_hash,
        requestHash: row.request_hash,
        owner: row.owner,
        state: row.state === 'completed' ? 'completed' : 'processing',
        lockedUntil: row.locked_until,
        response,
        createdAt: row.created_at,
        expiresAt: row.expires_at,
      };
      return record;
    },
    async takeOver(scope, keyHash, previousOwner, owner, lockedUntil) {
      const result = await k
        .updateTable('idempotency_keys')
        .set({ owner, locked_until: lockedUntil })
        .where('scope', '=', scope)
        .where('key_hash', '=', keyHash)
        .where('owner', '=', previousOwner)
        .where('state', '=', 'processing')
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async complete(scope, keyHash, owner, response) {
      const result = await k
        .updateTable('idempotency_keys')
        .set({ state: 'completed', status_code: response.status, response_headers: JSON.stringify(response.headers), response_body: response.body })
        .where('scope', '=', scope)
        .where('key_hash', '=', keyHash)
        .where('owner', '=', owner)
        .where('state', '=', 'processing')
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async release(scope, keyHash, owner) {
      await k.deleteFrom('idempotency_keys').where('scope', '=', scope).where('key_hash', '=', keyHash).where('owner', '=', owner).where('state', '=', 'processing').execute();
    },
    async deleteExpired(scope, keyHash, now) {
      await k.deleteFrom('idempotency_keys').where('scope', '=', scope).where('key_hash', '=', keyHash).where('expires_at', '<=', now).execute();
    },
    async purgeExpired(now) {
      const result = await k.deleteFrom('idempotency_keys').where('expires_at', '<=', now).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
