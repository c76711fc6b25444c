import Type from 'typebox';
import { resendInvitation } from '../../core/email/resend-invitation.js';
import type { CoreDeps } from '../../core/ports.js';
import type { NativeScope } from './index.js';
import { ErrorResponses } from './schemas.js';

const ResentSchema = Type.Object(
  {
    userId: Type.String(),
    messageId: Type.String({ description: 'The outbox message carrying the new code (GET …/messages).' }),
    expiresAt: Type.String({ format: 'date-time', description: 'When the new code stops working.' }),
  },
  { additionalProperties: false },
);

export function invitationResendRoutes(app: NativeScope, core: CoreDeps): void {
  app.post('/tenants/:tenant/users/:id/invitation', {
    schema: {
      tags: ['native'],
      summary: 'Send a user without a password a new invitation (earlier codes stop working)',
      params: Type.Object({ tenant: Type.String({ maxLength: 63 }), id: Type.String({ maxLength: 64 }) }),
      response: { 202: ResentSchema, 409: Type.Ref('Problem'), ...ErrorResponses },
    },
    handler: async (request, reply) => reply.code(202).send(await resendInvitation(core, request.actor, request.params.tenant, request.params.id)),
  });
}
