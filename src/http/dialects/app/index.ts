import Type from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { DomainError } from '../../../core/errors.js';
import type { Role } from '../../../core/roles/role.js';
import type { Tenant } from '../../../core/tenants/tenant.js';
import { rolesHeld } from '../../../core/roles/held-roles.js';
import { APP_KEY_PATTERN, loadTenantByAppKey } from '../../../core/tenants/app-key.js';
import { createUsers } from '../../../core/users/create-users.js';
import type { User } from '../../../core/users/user.js';
import { requireActor } from '../../shared/authenticate.js';
import type { DialectOptions } from '../index.js';
import { AppUserInput, mapAppRequest, wantsRoles } from './input.js';
import { appErrorBody } from './map-error.js';
import { renderErrorsWith } from '../../shared/error-handler.js';
import { documentedBody } from '../../shared/body-validation.js';

const Iso8601 = Type.String({ format: 'date-time' });
const Link = Type.Object({ href: Type.String(), templated: Type.Boolean() });
const Links = Type.Object({ self: Link }, { description: 'HAL links; `self` is the resource in the native API.' });

const AppRole = Type.Object({
  id: Type.String({ description: "A Muster role's id is its name." }),
  name: Type.String(),
  description: Type.Optional(Type.String()),
  dateCreated: Iso8601,
  dateUpdated: Iso8601,
  _links: Links,
});

const AppUser = Type.Object({
  id: Type.String({ format: 'uuid' }),
  userName: Type.String(),
  email: Type.String(),
  name: Type.Optional(Type.String()),
  isApproved: Type.Boolean(),
  isLockedOut: Type.Boolean(),
  roles: Type.Array(Type.Object({ id: Type.String(), name: Type.String() })),
  creationDate: Iso8601,
  dateCreated: Iso8601,
  dateUpdated: Iso8601,
  _links: Links,
  _embedded: Type.Optional(Type.Object({ roles: Type.Array(AppRole) }, { description: 'With embed=roles.' })),
});

const AppErrorSchema = Type.Object({
  statusCode: Type.Integer(),
  errorCode: Type.Integer({ description: 'A stable number per Muster error code.' }),
  error: Type.String({ description: "Muster's error code, e.g. DUPLICATE_EMAIL." }),
  message: Type.String(),
  details: Type.Optional(Type.String()),
  errors: Type.Optional(Type.Array(Type.Object({ field: Type.String(), code: Type.String(), message: Type.String() }))),
  requestId: Type.String(),
});

const Params = Type.Object({
  appKey: Type.String({ pattern: APP_KEY_PATTERN, description: "The tenant's application key (`appKey` on GET /v1/tenants/{tenant})." }),
});
const Query = Type.Object({
  embed: Type.Optional(Type.String({ description: 'Comma-separated resources to embed; `roles` embeds the role objects.' })),
});

const userHref = (tenantId: string, id: string) => `/v1/tenants/${encodeURIComponent(tenantId)}/users/${encodeURIComponent(id)}`;
const roleHref = (tenantId: string, name: string) => `/v1/tenants/${encodeURIComponent(tenantId)}/roles/${encodeURIComponent(name)}`;

function presentRole(role: Role) {
  return {
    id: role.name,
    name: role.name,
    ...(role.description !== null && { description: role.description }),
    dateCreated: role.createdAt,
    dateUpdated: role.updatedAt,
    _links: { self: { href: roleHref(role.tenantId, role.name), templated: false } },
  };
}

function presentUser(user: User, embedded: Role[] | undefined) {
  return {
    id: user.id,
    userName: user.userName,
    email: user.email,
    ...(user.name.formatted !== undefined && { name: user.name.formatted }),
    isApproved: user.approved,
    isLockedOut: user.lockedOut,
    roles: user.roles.map((name) => ({ id: name, name })),
    creationDate: user.createdAt,
    dateCreated: user.createdAt,
    dateUpdated: user.updatedAt,
    _links: { self: { href: userHref(user.tenantId, user.id), templated: false } },
    ...(embedded && { _embedded: { roles: embedded.map(presentRole) } }),
  };
}

/**
 * The `app` dialect (seed 003): POST /{appKey}/users, the appKey naming the tenant. The route
 * only matches keys that look like `app_…`, so it never shadows another path of one segment
 * followed by `/users`.
 */
export async function appDialect(scope: FastifyInstance, options: DialectOptions): Promise<void> {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  renderErrorsWith(app, (error, request) => appErrorBody(error, String(request.id)));
  requireActor(app, options.authenticator, 'app');
  // The appKey and the role are checked before the body is read.
  const tenantOf = new WeakMap<FastifyRequest, Tenant>();
  app.addHook('onRequest', async (request) => {
    const { appKey } = request.params as { appKey: string };
    tenantOf.set(request, await loadTenantByAppKey(options.core.tenants, request.actor, 'users:write', appKey));
  });

  app.post(`/:appKey(${APP_KEY_PATTERN})/users`, {
    config: { idempotency: true },
    schema: {
      tags: ['app'],
      summary: 'Create a user in the application named by appKey (seed 003)',
      description:
        'userName, email, password and confirmPassword are required (password and confirmPassword not with autoCreatePassword). ' +
        'The credential must belong to the tenant of the appKey. A duplicate user name or email is 409.',
      params: Params,
      querystring: Query,
      body: documentedBody(AppUserInput),
      response: {
        201: AppUser,
        400: AppErrorSchema,
        401: AppErrorSchema,
        402: AppErrorSchema,
        403: AppErrorSchema,
        404: AppErrorSchema,
        409: AppErrorSchema,
        413: AppErrorSchema,
        415: AppErrorSchema,
        429: AppErrorSchema,
        500: AppErrorSchema,
      },
    },
    handler: async (request, reply) => {
      const { core } = options;
      const tenant = tenantOf.get(request);
      if (!tenant) throw new DomainError('NOT_FOUND', 'No such application.');
      const input = mapAppRequest(request.body);
      if (!input.ok) throw new DomainError(input.errors[0]!.code, input.errors[0]!.message, input.errors);
      const { draft, notify, embedRoles } = input.value;
      const result = await createUsers(core, tenant.id, request.actor, [draft], { notify });
      const outcome = result.outcomes[0]!;
      if (outcome.status === 'failed') throw new DomainError(outcome.error.code, outcome.error.message, outcome.error.errors);
      if (outcome.status !== 'created') throw new DomainError('SERVER_ERROR', 'The user was not created.');
      const user = outcome.user;
      const embedded = embedRoles || wantsRoles(request.query.embed) ? await rolesHeld(core, request.actor, tenant.id, user.roles) : undefined;
      return reply.code(201).header('location', `${request.server.publicUrl ?? ''}${userHref(tenant.id, user.id)}`).send(presentUser(user, embedded));
    },
  });
}
