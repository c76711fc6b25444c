import Type from 'typebox';
import { DomainError } from '../../core/errors.js';
import { createUsers, MAX_BATCH_SIZE, type CreateUsersResult } from '../../core/users/create-users.js';
import { deleteUser } from '../../core/users/delete-user.js';
import { getUser } from '../../core/users/get-user.js';
import { listUsers, MAX_PAGE_SIZE } from '../../core/users/list-users.js';
import { updateUser, UserPatchSchema } from '../../core/users/update-user.js';
import { UserDraftSchema, type User } from '../../core/users/user.js';
import { compileValidator } from '../../core/validation.js';
import type { CoreDeps } from '../../core/ports.js';
import { expectedRevision, parseIfMatch } from '../shared/if-match.js';
import type { NativeScope } from './index.js';
import { BatchReportSchema, ErrorResponses, presentUser, TenantParams, UserSchema } from './schemas.js';
import { documentedBody } from '../shared/body-validation.js';

const tags = ['native'];
const UserParams = Type.Object({ tenant: Type.String(), id: Type.String({ maxLength: 64 }) });
const CreateQuery = Type.Object({
  dryRun: Type.Optional(Type.Boolean({ description: 'Run every check, write nothing, send nothing.' })),
  notify: Type.Optional(Type.Boolean({ description: 'Send the welcome or invitation email (default true).' })),
});
const BatchBodySchema = Type.Object(
  {
    users: Type.Array(UserDraftSchema, { maxItems: MAX_BATCH_SIZE }),
    atomic: Type.Optional(Type.Boolean({ description: 'Create all or none.' })),
  },
  { additionalProperties: false },
);
/** The batch envelope only; each user is validated by the core and reported on its own. */
const validateEnvelope = compileValidator(
  Type.Object({ users: Type.Array(Type.Unknown()), atomic: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
);

export function etagOf(user: User): string {
  return `"${user.revision}"`;
}

/** What `If-Match` asks of a change: `*`, the one revision its strong ETag names, or undefined when there is none. */
function ifMatchRevision(header: string | undefined): number | 'any' | undefined {
  const ifMatch = parseIfMatch(header);
  return ifMatch === undefined ? undefined : expectedRevision(ifMatch, 'strong');
}

export function batchReport(result: CreateUsersResult) {
  let successCount = 0;
  const results = result.outcomes.map((o) => {
    if (o.status === 'failed') return { index: o.index, status: o.status, error: o.error };
    if (o.status === 'created') {
      successCount++;
      return { index: o.index, status: o.status, user: presentUser(o.user) };
    }
    if (result.dryRun) successCount++;
    return { index: o.index, status: o.status };
  });
  const failureCount = result.outcomes.filter((o) => o.status === 'failed').length;
  return { totalProcessed: result.outcomes.length, successCount, failureCount, dryRun: result.dryRun, atomic: result.atomic, results };
}

export function userRoutes(app: NativeScope, core: CoreDeps): void {
  // Absolute from MUSTER_PUBLIC_URL when it is set; a path relative to the request otherwise.
  const location = (tenant: string, id: string) => `${app.publicUrl ?? ''}/v1/tenants/${encodeURIComponent(tenant)}/users/${id}`;

  app.post('/tenants/:tenant/users', {
    config: { idempotency: true },
    schema: {
      tags,
      summary: 'Create one user',
      params: TenantParams,
      querystring: CreateQuery,
      body: documentedBody(UserDraftSchema),
      response: {
        200: Type.Object({ dryRun: Type.Boolean(), status: Type.Literal('valid') }),
        201: UserSchema,
        402: Type.Ref('Problem'),
        409: Type.Ref('Problem'),
        413: Type.Ref('Problem'),
        415: Type.Ref('Problem'),
        ...ErrorResponses,
      },
    },
    handler: async (request, reply) => {
      const { tenant } = request.params;
      const result = await createUsers(core, tenant, request.actor, [request.body], request.query);
      const outcome = result.outcomes[0]!;
      if (outcome.status === 'failed') throw new DomainError(outcome.error.code, outcome.error.message, outcome.error.errors);
      if (outcome.status === 'valid') return reply.code(200).send({ dryRun: true, status: 'valid' as const });
      return reply.code(201).header('location', location(tenant, outcome.user.id)).header('etag', etagOf(outcome.user)).send(presentUser(outcome.user));
    },
  });

  app.post('/tenants/:tenant/users/batch', {
    config: { idempotency: true },
    schema: {
      tags,
      summary: `Create up to ${MAX_BATCH_SIZE} users, with a report per user`,
      params: TenantParams,
      querystring: CreateQuery,
      body: documentedBody(BatchBodySchema),
      response: { 200: BatchReportSchema, 422: BatchReportSchema, 413: Type.Ref('Problem'), 415: Type.Ref('Problem'), ...ErrorResponses },
    },
    handler: async (request, reply) => {
      const envelope = validateEnvelope(request.body);
      if (!envelope.ok) throw new DomainError(envelope.errors[0]!.code, envelope.errors[0]!.message, envelope.errors);
      const { users, atomic } = envelope.value;
      const result = await createUsers(core, request.params.tenant, request.actor, users, { ...request.query, atomic: atomic === true });
      const refused = result.atomic && !result.dryRun && !result.committed;
      return reply.code(refused ? 422 : 200).send(batchReport(result));
    },
  });

  app.get('/tenants/:tenant/users/:id', {
    schema: { tags, summary: 'Read a user', params: UserParams, response: { 200: UserSchema, ...ErrorResponses } },
    handler: async (request, reply) => {
      const user = await getUser(core, request.params.tenant, request.actor, request.params.id);
      return reply.header('etag', etagOf(user)).send(presentUser(user));
    },
  });

  app.get('/tenants/:tenant/users', {
    schema: {
      tags,
      summary: 'List users, optionally by exact (normalised) email or user name',
      params: TenantParams,
      querystring: Type.Object({
        email: Type.Optional(Type.String({ maxLength: 255 })),
        userName: Type.Optional(Type.String({ maxLength: 255 })),
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE_SIZE, default: 50 })),
        cursor: Type.Optional(Type.String({ maxLength: 64 })),
      }),
      response: { 200: Type.Object({ users: Type.Array(UserSchema), nextCursor: Type.Union([Type.String(), Type.Null()]) }), ...ErrorResponses },
    },
    handler: async (request) => {
      const page = await listUsers(core, request.params.tenant, request.actor, request.query);
      return { users: page.users.map(presentUser), nextCursor: page.nextCursor };
    },
  });

  app.patch('/tenants/:tenant/users/:id', {
    schema: {
      tags,
      summary: 'Change a user (needs If-Match with its ETag, or *)',
      params: UserParams,
      headers: Type.Object({ 'if-match': Type.Optional(Type.String({ maxLength: 100, description: 'The user\'s ETag as read (`"7"`): 412 when it is no longer current. `*` changes the user whatever its revision.' })) }),
      body: documentedBody(UserPatchSchema),
      response: { 200: UserSchema, 409: Type.Ref('Problem'), 412: Type.Ref('Problem'), 428: Type.Ref('Problem'), ...ErrorResponses },
    },
    handler: async (request, reply) => {
      const revision = ifMatchRevision(request.headers['if-match']);
      const user = await updateUser(core, request.params.tenant, request.actor, request.params.id, revision, request.body);
      return reply.header('etag', etagOf(user)).send(presentUser(user));
    },
  });

  app.delete('/tenants/:tenant/users/:id', {
    schema: { tags, summary: 'Delete a user', params: UserParams, response: { 204: Type.Null(), ...ErrorResponses } },
    handler: async (request, reply) => {
      await deleteUser(core, request.params.tenant, request.actor, request.params.id);
      return reply.code(204).send(null);
    },
  });
}
