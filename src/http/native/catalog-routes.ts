import Type from 'typebox';
import { deleteCatalogEntry, getCatalogEntry, listCatalogEntries, putCatalogEntry, CatalogEntryBodySchema } from '../../core/catalogs/code-catalogs.js';
import { CATALOG_KINDS } from '../../core/catalogs/catalog.js';
import { deleteRole, getRole, listRoles, putRole, RoleBodySchema } from '../../core/roles/role-catalog.js';
import type { CoreDeps } from '../../core/ports.js';
import type { NativeScope } from './index.js';
import { CatalogEntrySchema, ErrorResponses, presentEntry, presentRole, RoleSchema, TenantParams } from './schemas.js';
import { documentedBody } from '../shared/body-validation.js';

const tags = ['native'];
const RoleParams = Type.Object({ tenant: Type.String(), name: Type.String({ maxLength: 100 }) });
const CodeParams = Type.Object({ tenant: Type.String(), code: Type.String({ maxLength: 100 }) });

export function catalogRoutes(app: NativeScope, core: CoreDeps): void {

  app.put('/tenants/:tenant/roles/:name', {
    schema: { tags, summary: 'Create or replace a role', params: RoleParams, body: documentedBody(RoleBodySchema), response: { 200: RoleSchema, 201: RoleSchema, ...ErrorResponses } },
    handler: async (request, reply) => {
      const { role, created } = await putRole(core, request.actor, request.params.tenant, request.params.name, request.body);
      return reply.code(created ? 201 : 200).send(presentRole(role));
    },
  });
  app.get('/tenants/:tenant/roles', {
    schema: { tags, summary: 'List roles', params: TenantParams, response: { 200: Type.Object({ roles: Type.Array(RoleSchema) }), ...ErrorResponses } },
    handler: async (request) => ({ roles: (await listRoles(core, request.actor, request.params.tenant)).map(presentRole) }),
  });
  app.get('/tenants/:tenant/roles/:name', {
    schema: { tags, summary: 'Read a role', params: RoleParams, response: { 200: RoleSchema, ...ErrorResponses } },
    handler: async (request) => presentRole(await getRole(core, request.actor, request.params.tenant, request.params.name)),
  });
  app.delete('/tenants/:tenant/roles/:name', {
    schema: { tags, summary: 'Delete a role (users holding it lose it)', params: RoleParams, response: { 204: Type.Null(), ...ErrorResponses } },
    handler: async (request, reply) => {
      await deleteRole(core, request.actor, request.params.tenant, request.params.name);
      return reply.code(204).send(null);
    },
  });

  for (const kind of CATALOG_KINDS) {
    app.put(`/tenants/:tenant/${kind}/:code`, {
      schema: { tags, summary: `Create or replace a ${kind} code`, params: CodeParams, body: documentedBody(CatalogEntryBodySchema), response: { 200: CatalogEntrySchema, 201: CatalogEntrySchema, ...ErrorResponses } },
      handler: async (request, reply) => {
        const { entry, created } = await putCatalogEntry(core, request.actor, request.params.tenant, kind, request.params.code, request.body);
        return reply.code(created ? 201 : 200).send(presentEntry(entry));
      },
    });
    app.get(`/tenants/:tenant/${kind}`, {
      schema: { tags, summary: `List ${kind}`, params: TenantParams, response: { 200: Type.Object({ items: Type.Array(CatalogEntrySchema) }), ...ErrorResponses } },
      handler: async (request) => ({ items: (await listCatalogEntries(core, request.actor, request.params.tenant, kind)).map(presentEntry) }),
    });
    app.get(`/tenants/:tenant/${kind}/:code`, {
      schema: { tags, summary: `Read a ${kind} code`, params: CodeParams, response: { 200: CatalogEntrySchema, ...ErrorResponses } },
      handler: async (request) => presentEntry(await getCatalogEntry(core, request.actor, request.params.tenant, kind, request.params.code)),
    });
    app.delete(`/tenants/:tenant/${kind}/:code`, {
      schema: { tags, summary: `Delete a ${kind} code`, params: CodeParams, response: { 204: Type.Null(), ...ErrorResponses } },
      handler: async (request, reply) => {
        await deleteCatalogEntry(core, request.actor, request.params.tenant, kind, request.params.code);
        return reply.code(204).send(null);
      },
    });
  }
}
