/**
 * Endpoints of RFC 7644 that Muster does not serve, answered 501 Not Implemented with a SCIM
 * Error body (§3.12) rather than a 404 that reads as "no such resource":
 * - `/Me` (§3.11): a Muster credential is an API key, not a user, so there is no "me" to map it to;
 * - `POST /.search` at the root (§3.4.3): a search across resource types; `/Users/.search`
 *   and `/Groups/.search` search one type each.
 */
import Type from 'typebox';
import { ERROR_SCHEMA, ScimErrorSchema, SCIM_MEDIA_TYPE } from './schemas.js';
import type { ScimScope } from './index.js';
import { documentedBody } from '../shared/body-validation.js';

const tags = ['scim'];

function notImplemented(detail: string) {
  return { schemas: [ERROR_SCHEMA], status: '501', detail };
}

export function unsupportedRoutes(app: ScimScope): void {
  const me = 'Muster authenticates API keys, not users: there is no /Me (RFC 7644 §3.11). Read and change users through /Users/{id}.';
  for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const) {
    app.route({
      method,
      url: '/Me',
      schema: { tags, summary: 'Not implemented: the authenticated user (SCIM)', response: { 501: ScimErrorSchema } },
      handler: async (_request, reply) => reply.code(501).type(SCIM_MEDIA_TYPE).send(notImplemented(me)),
    });
  }
  app.post('/.search', {
    schema: { tags, summary: 'Not implemented: a search across resource types (SCIM)', body: documentedBody(Type.Unknown()), response: { 501: ScimErrorSchema } },
    handler: async (_request, reply) =>
      reply.code(501).type(SCIM_MEDIA_TYPE).send(notImplemented('A search across resource types is not supported: use POST /Users/.search or POST /Groups/.search (RFC 7644 §3.4.3).')),
  });
}
