import { randomUUID } from 'node:crypto';
import { sql, type Kysely, type Selectable } from 'kysely';
import type { ClaimedMessage, EmailBatch, EmailKind, EmailMessage, MessageStatus } from '../core/email/email.js';
import type { EmailTemplateStore, InvitationStore, OutboxQueue, OutboxReader } from '../core/ports.js';
import { insertAuditEvents } from './audit-store.js';
import type { Db } from './database.js';
import type { Database, EmailMessagesTable } from './schema.js';
import { BULK_INSERT_ROWS, insertRows, isPostgres } from './bulk-insert.js';

/** Rows per INSERT: 500 messages × 16 columns stays well under both databases' parameter limits. */
const INSERT_CHUNK = 500;

/**
 * Writes a batch of messages and invitations with the connection of the caller's transaction
 * (the user store's write transaction), so they commit or roll back with the users.
 */
export async function insertEmailBatch(k: Kysely<Database>, batch: EmailBatch): Promise<void> {
  // PostgreSQL takes each column as one array parameter: no parameter limit to stay under.
  const rowsPerInsert = isPostgres(k) ? BULK_INSERT_ROWS : INSERT_CHUNK;
  for (let start = 0; start < batch.invitations.length; start += rowsPerInsert) {
    const chunk = batch.invitations.slice(start, start + rowsPerInsert);
    await insertRows(
      k,
      'invitations',
      chunk.map((i) => ({ id: i.id, tenant_id: i.tenantId, user_id: i.userId, token_hash: i.tokenHash, expires_at: i.expiresAt, used_at: null, created_at: i.createdAt })),
    );
  }
  for (let start = 0; start < batch.messages.length; start += rowsPerInsert) {
    const chunk = batch.messages.slice(start, start + rowsPerInsert);
    await insertRows(
      k,
      'email_messages',
      chunk.map((m) => ({
        id: m.id,
        tenant_id: m.tenantId,
        user_id: m.userId,
        kind: m.kind,
        from_address: m.from,
        to_address: m.to,
        subject: m.subject,
        text_body: m.text,
        html_body: m.html,
        message_id: m.messageId,
        secret: m.secret,
        status: 'pending',
        attempts: 0,
        last_error: null,
        next_attempt_at: m.createdAt,
        lease_owner: null,
        lease_until: null,
        created_at: m.createdAt,
        sent_at: null,
      })),
    );
  }
}

/** What replaces a revoked invitation's code in the stored copy of a cancelled message. */
const REVOKED_CODE = '[invitation code revoked]';

/**
 * Revokes a user's pending invitations and cancels its unsent messages that carry an
 * invitation code or go to `cancelMessagesTo`, with the connection of the caller's transaction
 * (the change of the user that calls for it). A revoked invitation is deleted, so its code
 * names nothing; a cancelled message keeps its record with the code taken out, and no sender
 * claims it (a sender holding it already finds its claim gone when it reports back).
 */
export async function revokeInvitations(k: Kysely<Database>, tenantId: string, userId: string, cancelMessagesTo?: string): Promise<void> {
  await k.deleteFrom('invitations').where('tenant_id', '=', tenantId).where('user_id', '=', userId).where('used_at', 'is', null).execute();
  const hide = (column: 'subject' | 'text_body' | 'html_body') =>
    sql<string>`case when secret is null then ${sql.ref(column)} else replace(${sql.ref(column)}, secret, ${REVOKED_CODE}) end`;
  await k
    .updateTable('email_messages')
    .set({
      status: 'cancelled',
      subject: hide('subject'),
      text_body: hide('text_body'),
      html_body: hide('html_body'),
      secret: null,
      next_attempt_at: null,
      lease_owner: null,
      lease_until: null,
    })
    .where('tenant_id', '=', tenantId)
    .where('user_id', '=', userId)
    .where('status', 'in', ['pending', 'sending'])
    .where((eb) => (cancelMessagesTo === undefined ? eb('secret', 'is not', null) : eb.or([eb('secret', 'is not', null), eb('to_address', '=', cancelMessagesTo)])))
    .execute();
}

function toMessage(row: Selectable<EmailMessagesTable>): EmailMessage & { seq: number } {
  return {
    seq: Number(row.seq),
    id: row.id,
    tenantId: row.tenant_id,
    userId: row.user_id,
    kind: row.kind as EmailKind,
    from: row.from_address,
    to: row.to_address,
    subject: row.subject,
    text: row.text_body,
    html: row.html_body,
    messageId: row.message_id,
    status: row.status as MessageStatus,
    attempts: Number(row.attempts),
    lastError: row.last_error,
    nextAttemptAt: row.status === 'pending' ? row.next_attempt_at : null,
    createdAt: row.created_at,
    sentAt: row.sent_at,
  };
}

export function createOutboxReader(db: Db): OutboxReader {
  const k = db.kysely;
  return {
    async list(tenantId, query) {
      let q = k.selectFrom('email_messages').selectAll().where('tenant_id', '=', tenantId);
      if (query.status !== undefined) q = q.where('status', '=', query.status);
      if (query.userId !== undefined) q = q.where('user_id', '=', query.userId);
      if (query.beforeSeq !== undefined) q = q.where('seq', '<', query.beforeSeq);
      const rows = await q.orderBy('seq', 'desc').limit(query.limit).execute();
      return { messages: rows.map(toMessage) };
    },
  };
}

export function createOutboxQueue(db: Db): OutboxQueue {
  return {
    claim: (owner, now, leaseUntil, limit) =>
      db.write(async (trx) => {
        const nowIso = now.toISOString();
        const claim = `${owner}/${randomUUID()}`;
        let due = trx
          .selectFrom('email_messages')
          .select('id')
          .where((eb) =>
            eb.or([
              eb.and([eb('status', '=', 'pending'), eb('next_attempt_at', '<=', nowIso)]),
              // A sender that claimed these died (or hangs) past its lease: the outcome is unknown, try again.
              eb.and([eb('status', '=', 'sending'), eb('lease_until', '<=', nowIso)]),
            ]),
          )
          .orderBy('seq')
          .limit(limit);
        // PostgreSQL: rows another sender is claiming right now are skipped, not waited for.
        // SQLite: BEGIN IMMEDIATE already serialises claims.
        if (db.dialect === 'postgres') due = due.forUpdate().skipLocked();
        const rows = await trx
          .updateTable('email_messages')
          .set((eb) => ({ status: 'sending', lease_owner: claim, lease_until: leaseUntil.toISOString(), attempts: eb('attempts', '+', 1) }))
          .where('id', 'in', due)
          .returning(['seq', 'id', 'attempts', 'from_address', 'to_address', 'subject', 'text_body', 'html_body', 'message_id', 'created_at', 'secret'])
          .execute();
        return rows
          .sort((a, b) => Number(a.seq) - Number(b.seq))
          .map(
            (r): ClaimedMessage => ({
              id: r.id,
              claim,
              attempts: Number(r.attempts),
              leaseUntil: leaseUntil.toISOString(),
              from: r.from_address,
              to: r.to_address,
              subject: r.subject,
              text: r.text_body,
              html: r.html_body,
              messageId: r.message_id,
              createdAt: r.created_at,
              secret: r.secret,
            }),
          );
      }),
    async markSent(id, claim, at, redacted) {
      const result = await db.kysely
        .updateTable('email_messages')
        .set({
          status: 'sent',
          sent_at: at.toISOString(),
          next_attempt_at: null,
          lease_owner: null,
          lease_until: null,
          secret: null,
          ...(redacted && { subject: redacted.subject, text_body: redacted.text, html_body: redacted.html }),
        })
        .where('id', '=', id)
        .where('lease_owner', '=', claim)
        .where('status', '=', 'sending')
        .executeTakeFirst();
      // The code just redacted must not survive in SQLite's log either.
      if (redacted) db.scrubLog?.();
      return Number(result.numUpdatedRows) > 0;
    },
    async release(id, claim) {
      const result = await db.kysely
        .updateTable('email_messages')
        .set((eb) => ({ status: 'pending', attempts: eb('attempts', '-', 1), lease_owner: null, lease_until: null }))
        .where('id', '=', id)
        .where('lease_owner', '=', claim)
        .where('status', '=', 'sending')
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
    async markFailed(id, claim, error, retryAt) {
      const result = await db.kysely
        .updateTable('email_messages')
        .set({
          status: retryAt ? 'pending' : 'failed',
          next_attempt_at: retryAt ? retryAt.toISOString() : null,
          last_error: error,
          lease_owner: null,
          lease_until: null,
        })
        .where('id', '=', id)
        .where('lease_owner', '=', claim)
        .where('status', '=', 'sending')
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
  };
}

export function createEmailTemplateStore(db: Db): EmailTemplateStore {
  const k = db.kysely;
  return {
    async get(tenantId, kind) {
      const row = await k.selectFrom('email_templates').selectAll().where('tenant_id', '=', tenantId).where('kind', '=', kind).executeTakeFirst();
      return row && { tenantId, kind, subject: row.subject, text: row.text_body, html: row.html_body, updatedAt: row.updated_at };
    },
    async put(t) {
      return db.write(async (trx) => {
        const values = { subject: t.subject, text_body: t.text, html_body: t.html, updated_at: t.updatedAt };
        // Insert-or-nothing first: of concurrent first PUTs, the primary key lets exactly one
        // insert (the others wait for it on PostgreSQL, then find the row) and the rest replace it.
        const inserted = await trx
          .insertInto('email_templates')
          .values({ tenant_id: t.tenantId, kind: t.kind, ...values })
          .onConflict((oc) => oc.columns(['tenant_id', 'kind']).doNothing())
          .executeTakeFirst();
        if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) > 0) return true;
        await trx.updateTable('email_templates').set(values).where('tenant_id', '=', t.tenantId).where('kind', '=', t.kind).execute();
        return false;
      });
    },
    async delete(tenantId, kind) {
      const result = await k.deleteFrom('email_templates').where('tenant_id', '=', tenantId).where('kind', '=', kind).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
  };
}

export function createInvitationStore(db: Db): InvitationStore {
  return {
    reissue: (tenantId, userId, batch, audit) =>
      db.write(async (trx) => {
        const user = await trx.selectFrom('users').select(['password_hash']).where('tenant_id', '=', tenantId).where('id', '=', userId).executeTakeFirst();
        if (!user) return 'missing' as const;
        if (user.password_hash !== null) return 'has-password' as const;
        // The old code stops working as the new one is written: one invitation is valid at a time.
        await revokeInvitations(trx, tenantId, userId);
        await insertEmailBatch(trx, batch);
        if (audit) await insertAuditEvents(trx, [audit]);
        return 'reissued' as const;
      }),
    async findByTokenHash(tokenHash) {
      const row = await db.kysely
        .selectFrom('invitations')
        .innerJoin('users', 'users.id', 'invitations.user_id')
        .select(['invitations.id', 'invitations.tenant_id', 'invitations.user_id', 'invitations.expires_at', 'invitations.used_at', 'users.user_name', 'users.email'])
        .where('invitations.token_hash', '=', tokenHash)
        .executeTakeFirst();
      return (
        row && {
          id: row.id,
          tenantId: row.tenant_id,
          userId: row.user_id,
          userName: row.user_name,
          email: row.email,
          expiresAt: row.expires_at,
          usedAt: row.used_at,
        }
      );
    },
    redeem: (invitationId, passwordHash, at, audit) =>
      db.write(async (trx) => {
        // The guard is in the UPDATE itself: of two concurrent redemptions, one changes the row.
        const claimed = await trx
          .updateTable('invitations')
          .set({ used_at: at })
          .where('id', '=', invitationId)
          .where('used_at', 'is', null)
          .where('expires_at', '>', at)
          .returning(['user_id', 'tenant_id'])
          .executeTakeFirst();
        if (!claimed) {
          const row = await trx.selectFrom('invitations').select(['used_at']).where('id', '=', invitationId).executeTakeFirst();
          if (!row) return 'missing' as const;
          return row.used_at !== null ? ('used' as const) : ('expired' as const);
        }
        const user = await trx
          .updateTable('users')
          .set((eb) => ({ password_hash: passwordHash, revision: eb('revision', '+', 1), updated_at: at }))
          .where('id', '=', claimed.user_id)
          .where('tenant_id', '=', claimed.tenant_id)
          .executeTakeFirst();
        if (Number(user.numUpdatedRows) === 0) throw new Error('an invitation outlived its user');
        // One password, one way in: the user's other invitations stop working too, and unsent
        // messages carrying them are cancelled.
        await revokeInvitations(trx, claimed.tenant_id, claimed.user_id);
        await trx
          .updateTable('tenants')
          .set((eb) => ({ users_revision: eb('users_revision', '+', 1) }))
          .where('id', '=', claimed.tenant_id)
          .execute();
        if (audit) await insertAuditEvents(trx, [audit]);
        return 'redeemed' as const;
      }),
  };
}
