import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';

/**
 * The OpenAPI 3.1 document is generated from the route schemas at start-up and served at
 * `/openapi.json`; `/docs` serves Swagger UI from the package's own files (no CDN).
 */
export async function registerOpenApi(app: FastifyInstance, version: string): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Muster',
        version,
        description: 'User provisioning: create accounts one at a time, a thousand per request, or a million per import.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'An API key token (`mst_…`) or MUSTER_ADMIN_TOKEN.' },
          basic: { type: 'http', scheme: 'basic', description: 'The API key id as user name and its token as password.' },
        },
      },
      security: [{ bearer: [] }, { basic: [] }],
      tags: [
        { name: 'native', description: 'The native /v1 API.' },
        { name: 'system', description: 'Health and documentation.' },
        { name: 'batch', description: 'Compatibility dialect for seed 000: POST /users with up to 1000 records and a success/failure report.' },
        { name: 'account', description: 'Compatibility dialect for seed 001: POST /api/account/{accountId}/configuration/le-users/users?v=4.0.' },
        { name: 'provisioning', description: 'Compatibility dialect for seed 002: POST /provisioning/users.svc/.' },
        { name: 'app', description: 'Compatibility dialect for seed 003: POST /{appKey}/users.' },
        { name: 'simple', description: 'Compatibility dialect for seed 004: POST /users with firstName, lastName and contactEmail.' },
        {
          name: 'scim',
          description:
            'SCIM 2.0 service provider (RFC 7643/7644) at /scim/v2 for Okta, Microsoft Entra ID and other directory clients: Users, Groups (roles), Bulk, discovery. Bodies and answers are application/scim+json.',
        },
      ],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
