import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { acceptInvitation, AcceptInvitationSchema } from '../../core/email/accept-invitation.js';
import type { CoreDeps } from '../../core/ports.js';
import { renderErrorsWith, renderProblem } from '../shared/error-handler.js';
import { documentedBody } from '../shared/body-validation.js';

/**
 * `POST /v1/invitations/accept`: the one native route without an API key — the invitation
 * token in the body is the credential. Its own scope, so the API-key hook of the rest of /v1
 * does not apply; errors are the native API's problem+json.
 */
export async function invitationApi(scope: FastifyInstance, options: { core: CoreDeps }): Promise<void> {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  renderErrorsWith(app, renderProblem);
  // JSON only, as in the rest of /v1.
  app.removeContentTypeParser('text/plain');

  app.post('/invitations/accept', {
    schema: {
      tags: ['native'],
      summary: 'Redeem an invitation: set the password of the invited user (no API key; the token is the credential)',
      description:
        'The password must satisfy the tenant policy. An unknown token is INVITATION_INVALID (400); one already redeemed is INVITATION_USED (410); one past its time is INVITATION_EXPIRED (410).',
      security: [],
      body: documentedBody(AcceptInvitationSchema),
      response: {
        200: Type.Object({ status: Type.Literal('accepted'), tenant: Type.String(), userId: Type.String(), userName: Type.String() }),
        400: Type.Ref('Problem'),
        410: Type.Ref('Problem'),
      },
    },
    handler: async (request, reply) => {
      const accepted = await acceptInvitation(options.core, request.body, { dialect: 'native', requestId: String(request.id) });
      return reply.header('cache-control', 'no-store').send({ status: 'accepted' as const, tenant: accepted.tenantId, userId: accepted.userId, userName: accepted.userName });
    },
  });
}
