import Type from 'typebox';
import { KEY_ROLES } from '../../core/credentials/actor.js';
import type { NativeScope } from './index.js';
import { ErrorResponses } from './schemas.js';

const SessionSchema = Type.Object(
  {
    keyId: Type.String({ description: 'The API key id, or `bootstrap` for MUSTER_ADMIN_TOKEN.' }),
    role: Type.Union(KEY_ROLES.map((role) => Type.Literal(role))),
    tenant: Type.Union([Type.String(), Type.Null()], { description: 'The tenant the key is bound to; null for a global key.' }),
  },
  { additionalProperties: false },
);

/** Who the presented credential is: what a client (the console) shows and offers after sign-in. */
export function sessionRoutes(app: NativeScope): void {
  app.get('/session', {
    schema: { tags: ['native'], summary: 'The presented credential: its key id, role and tenant', response: { 200: SessionSchema, ...ErrorResponses } },
    handler: async (request, reply) => {
      reply.header('cache-control', 'no-store');
      return { keyId: request.actor.keyId, role: request.actor.role, tenant: request.actor.tenantId };
    },
  });
}
