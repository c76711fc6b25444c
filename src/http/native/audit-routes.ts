import Type from 'typebox';
import type { AuditEvent } from '../../core/audit/audit.js';
import { listAuditEvents, MAX_AUDIT_PAGE } from '../../core/audit/list-audit.js';
import type { CoreDeps } from '../../core/ports.js';
import type { NativeScope } from './index.js';
import { ErrorResponses, TenantParams } from './schemas.js';

const tags = ['native'];
const Timestamp = Type.String({ format: 'date-time' });
// AUDIT_ACTIONS spelled out for the same reason as the email kinds: a union mapped from a list
// confuses the reply's type inference. An action added there but not here fails the type check.
const Action = Type.Union([
  Type.Literal('user.created'),
  Type.Literal('user.updated'),
  Type.Literal('user.deleted'),
  Type.Literal('tenant.created'),
  Type.Literal('tenant.updated'),
  Type.Literal('api-key.issued'),
  Type.Literal('api-key.revoked'),
  Type.Literal('role.created'),
  Type.Literal('role.updated'),
  Type.Literal('role.deleted'),
  Type.Literal('role.members-changed'),
]);

export const AuditEventSchema = Type.Object({
  id: Type.String(),
  tenant: Type.String(),
  action: Action,
  resource: Type.Object({ type: Type.Union([Type.Literal('user'), Type.Literal('tenant'), Type.Literal('api-key'), Type.Literal('role')]), id: Type.String() }),
  actor: Type.Object({
    keyId: Type.String({ description: 'The API key that acted; `bootstrap` for MUSTER_ADMIN_TOKEN.' }),
    role: Type.String(),
  }),
  dialect: Type.Union([Type.String(), Type.Null()], { description: 'The API the request came through: `native` or a dialect (`simple`, `batch`, `account`, …).' }),
  requestId: Type.Union([Type.String(), Type.Null()], { description: "The request's x-request-id." }),
  detail: Type.Record(Type.String(), Type.Unknown(), { description: 'What changed, by name (never a password, hash or token).' }),
  at: Timestamp,
});

function present(e: AuditEvent) {
  return {
    id: e.id,
    tenant: e.tenantId,
    action: e.action,
    resource: { type: e.resourceType, id: e.resourceId },
    actor: { keyId: e.actorKeyId, role: e.actorRole },
    dialect: e.dialect,
    requestId: e.requestId,
    detail: e.detail,
    at: e.at,
  };
}

export function auditRoutes(app: NativeScope, core: CoreDeps): void {
  app.get('/tenants/:tenant/audit', {
    schema: {
      tags,
      summary: "The tenant's audit log, newest first: who created, changed or deleted which user, key or tenant setting (tenant admin)",
      params: TenantParams,
      querystring: Type.Object({
        action: Type.Optional(Action),
        actor: Type.Optional(Type.String({ maxLength: 100, description: 'The acting API key id.' })),
        resourceId: Type.Optional(Type.String({ maxLength: 100 })),
        since: Type.Optional(Type.String({ format: 'date-time', description: 'Events at or after this instant.' })),
        until: Type.Optional(Type.String({ format: 'date-time', description: 'Events before this instant.' })),
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_AUDIT_PAGE, default: 50 })),
        cursor: Type.Optional(Type.String({ maxLength: 64 })),
      }),
      response: { 200: Type.Object({ events: Type.Array(AuditEventSchema), nextCursor: Type.Union([Type.String(), Type.Null()]) }), ...ErrorResponses },
    },
    handler: async (request, reply) => {
      const page = await listAuditEvents(core, request.actor, request.params.tenant, request.query);
      return reply.header('cache-control', 'no-store').send({ events: page.events.map(present), nextCursor: page.nextCursor });
    },
  });
}
