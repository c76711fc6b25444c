import type { Kysely, Selectable } from 'kysely';
import type { AuditAction, AuditDetail, AuditEvent, AuditResourceType } from '../core/audit/audit.js';
import type { AuditStore } from '../core/ports.js';
import type { Db } from './database.js';
import type { AuditEventsTable, Database } from './schema.js';
import { BULK_INSERT_ROWS, insertRows, isPostgres } from './bulk-insert.js';

/** Rows per INSERT: 500 events × 11 columns stays well under both databases' parameter limits. */
const INSERT_CHUNK = 500;

/** Writes audit events with the connection of the caller's transaction, so they commit or roll back with the change. */
export async function insertAuditEvents(k: Kysely<Database>, events: readonly AuditEvent[]): Promise<void> {
  // PostgreSQL takes each column as one array parameter: no parameter limit to stay under.
  const rowsPerInsert = isPostgres(k) ? BULK_INSERT_ROWS : INSERT_CHUNK;
  for (let start = 0; start < events.length; start += rowsPerInsert) {
    await insertRows(
      k,
      'audit_events',
      events.slice(start, start + rowsPerInsert).map((e) => ({
        id: e.id,
        tenant_id: e.tenantId,
        action: e.action,
        resource_type: e.resourceType,
        resource_id: e.resourceId,
        actor_key_id: e.actorKeyId,
        actor_role: e.actorRole,
        dialect: e.dialect,
        request_id: e.requestId,
        detail: JSON.stringify(e.detail),
        at: e.at,
      })),
    );
  }
}

function toEvent(row: Selectable<AuditEventsTable>): AuditEvent & { seq: number } {
  return {
    seq: Number(row.seq),
    id: row.id,
    tenantId: row.tenant_id,
    action: row.action as AuditAction,
    resourceType: row.resource_type as AuditResourceType,
    resourceId: row.resource_id,
    actorKeyId: row.actor_key_id,
    actorRole: row.actor_role,
    dialect: row.dialect,
    requestId: row.request_id,
    detail: JSON.parse(row.detail) as AuditDetail,
    at: row.at,
  };
}

export function createAuditStore(db: Db): AuditStore {
  const k = db.kysely;
  return {
    async list(tenantId, query) {
      let q = k.selectFrom('audit_events').selectAll().where('tenant_id', '=', tenantId);
      if (query.action !== undefined) q = q.where('action', '=', query.action);
      if (query.actorKeyId !== undefined) q = q.where('actor_key_id', '=', query.actorKeyId);
      if (query.resourceId !== undefined) q = q.where('resource_id', '=', query.resourceId);
      if (query.since !== undefined) q = q.where('at', '>=', query.since);
      if (query.until !== undefined) q = q.where('at', '<', query.until);
      if (query.beforeSeq !== undefined) q = q.where('seq', '<', query.beforeSeq);
      const rows = await q.orderBy('seq', 'desc').limit(query.limit).execute();
      return rows.map(toEvent);
    },
  };
}
