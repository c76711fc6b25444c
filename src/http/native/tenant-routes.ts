import Type from 'typebox';
import { issueApiKey, listApiKeys, revokeApiKey, NewApiKeySchema } from '../../core/credentials/api-keys.js';
import { createTenant, NewTenantSchema, TenantSettingsSchema } from '../../core/tenants/create-tenant.js';
import { getTenant, listTenants } from '../../core/tenants/get-tenant.js';
import { updateTenant } from '../../core/tenants/update-tenant.js';
import type { CoreDeps } from '../../core/ports.js';
import type { NativeScope } from './index.js';
import { ApiKeySchema, ErrorResponses, IssuedApiKeySchema, presentKey, presentTenant, TenantParams, TenantSchema } from './schemas.js';
import { documentedBody } from '../shared/body-validation.js';

const tags = ['native'];

export function tenantRoutes(app: NativeScope, core: CoreDeps): void {

  app.post('/tenants', {
    schema: { tags, summary: 'Create a tenant (global admin)', body: documentedBody(NewTenantSchema), response: { 201: TenantSchema, ...ErrorResponses } },
    handler: async (request, reply) => reply.code(201).send(presentTenant(await createTenant(core, request.actor, request.body))),
  });

  app.get('/tenants', {
    schema: { tags, summary: 'List tenants (global admin)', response: { 200: Type.Object({ tenants: Type.Array(TenantSchema) }), ...ErrorResponses } },
    handler: async (request) => ({ tenants: (await listTenants(core, request.actor)).map(presentTenant) }),
  });

  app.get('/tenants/:tenant', {
    schema: { tags, summary: 'Read a tenant', params: TenantParams, response: { 200: TenantSchema, ...ErrorResponses } },
    handler: async (request) => presentTenant(await getTenant(core, request.actor, request.params.tenant)),
  });

  app.patch('/tenants/:tenant', {
    schema: { tags, summary: "Change a tenant's settings", params: TenantParams, body: documentedBody(TenantSettingsSchema), response: { 200: TenantSchema, ...ErrorResponses } },
    handler: async (request) => presentTenant(await updateTenant(core, request.actor, request.params.tenant, request.body)),
  });

  app.post('/tenants/:tenant/api-keys', {
    schema: { tags, summary: 'Issue an API key (its token is shown once)', params: TenantParams, body: documentedBody(NewApiKeySchema), response: { 201: IssuedApiKeySchema, ...ErrorResponses } },
    handler: async (request, reply) => {
      const key = await issueApiKey(core, request.actor, request.params.tenant, request.body);
      return reply.code(201).header('cache-control', 'no-store').send(presentKey(key));
    },
  });

  app.get('/tenants/:tenant/api-keys', {
    schema: { tags, summary: "List a tenant's API keys", params: TenantParams, response: { 200: Type.Object({ keys: Type.Array(ApiKeySchema) }), ...ErrorResponses } },
    handler: async (request) => ({ keys: (await listApiKeys(core, request.actor, request.params.tenant)).map(presentKey) }),
  });

  app.delete('/tenants/:tenant/api-keys/:id', {
    schema: { tags, summary: 'Revoke an API key', params: Type.Object({ tenant: Type.String(), id: Type.String({ maxLength: 100 }) }), response: { 204: Type.Null(), ...ErrorResponses } },
    handler: async (request, reply) => {
      await revokeApiKey(core, request.actor, request.params.tenant, request.params.id);
      return reply.code(204).send(null);
    },
  });
}
