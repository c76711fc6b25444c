/**
 * /Users (RFC 7644 §3.3–3.6): each operation is a function over a ScimContext, used by the
 * routes and by /Bulk alike, that maps SCIM onto the core's user use cases and back.
 */
import Type from 'typebox';
import { DomainError, fieldError } from '../../core/errors.js';
import { createUsers } from '../../core/users/create-users.js';
import { deleteUser } from '../../core/users/delete-user.js';
import { getUser } from '../../core/users/get-user.js';
import { searchUsers } from '../../core/users/search-users.js';
import { updateUser, type UserPatch } from '../../core/users/update-user.js';
import type { User } from '../../core/users/user.js';
import type { CoreDeps } from '../../core/ports.js';
import { rolesHeld } from '../../core/roles/held-roles.js';
import { contextOf, pageOf, type ScimContext } from './context.js';
import { userFilterFromScim, userSortFromScim } from './filter.js';
import { ScimProtocolError } from './map-error.js';
import { applyPatch, patchOperations } from './patch.js';
import { project, projectionOf, type Projection } from './projection.js';
import { parseSearchRequest } from './search-request.js';
import { attribute, changeFromScim, draftFromScim, scimUserFields, toScimUser, unknownUserAttributes, type ScimResource } from './user-mapping.js';
import { LIST_RESPONSE, ListQuerySchema, NotModified, ScimErrorResponses, listResponseSchema, PatchRequestSchema, ProjectionQuerySchema, ScimUserSchema, SearchRequestSchema } from './schemas.js';
import type { ScimScope } from './index.js';
import { matchesVersion, notModified, parseIfMatch, userVersion, type IfMatch } from './versions.js';
import { documentedBody } from '../shared/body-validation.js';

/** Times a write without If-Match is tried again when another write got in between. */
const UPDATE_ATTEMPTS = 3;

function failed(error: { code: DomainError['code']; message: string; errors: DomainError['errors'] }): DomainError {
  return new DomainError(error.code, error.message, error.errors);
}

/** Creates a user from a SCIM User body. */
export async function createScimUser(ctx: ScimContext, body: unknown): Promise<User> {
  const result = await createUsers(ctx.core, ctx.tenantId, ctx.actor, [draftFromScim(body)]);
  const outcome = result.outcomes[0]!;
  if (outcome.status === 'failed') throw failed(outcome.error);
  if (outcome.status !== 'created') throw new DomainError('SERVER_ERROR', 'The user was not created.');
  return outcome.user;
}

export async function readScimUser(ctx: ScimContext, id: string): Promise<User> {
  return getUser(ctx.core, ctx.tenantId, ctx.actor, id);
}

/**
 * Reads the user, checks If-Match, asks `changeOf` what to change and applies it at the
 * revision read. Without If-Match, a write that lost a race is tried again on a fresh read.
 */
async function updateWith(ctx: ScimContext, id: string, ifMatch: IfMatch | undefined, changeOf: (current: User) => UserPatch | Promise<UserPatch>): Promise<User> {
  for (let attempt = 1; ; attempt++) {
    const current = await getUser(ctx.core, ctx.tenantId, ctx.actor, id);
    if (!matchesVersion(ifMatch, userVersion(current))) throw new DomainError('PRECONDITION_FAILED', 'The user has changed since that version (If-Match).');
    const change = await changeOf(current);
    if (Object.keys(change).length === 0) {
      // Nothing to change (an Okta PUT of what is already there): the version stays. The right to
      // write was checked when the request arrived (the route's, or the bulk request's, `performs`).
      return current;
    }
    try {
      return await updateUser(ctx.core, ctx.tenantId, ctx.actor, id, current.revision, change);
    } catch (error) {
      const raced = error instanceof DomainError && error.code === 'PRECONDITION_FAILED';
      if (!raced || ifMatch !== undefined || attempt >= UPDATE_ATTEMPTS) throw error;
    }
  }
}

/** PUT: the body replaces every attribute Muster keeps (an omitted one is cleared; an omitted `active` or email is kept). */
export async function replaceScimUser(ctx: ScimContext, id: string, body: unknown, ifMatch: IfMatch | undefined): Promise<User> {
  scimUserFields(body); // refuse a malformed body before reading anything
  return updateWith(ctx, id, ifMatch, (current) => changeFromScim(current, scimUserFields(body, current)));
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/** The id of each role by name, for the roles these users hold: what their `groups` show. */
export async function roleIdsOf(ctx: ScimContext, users: readonly User[]): Promise<Map<string, string>> {
  const names = [...new Set(users.flatMap((user) => user.roles))];
  return new Map((await rolesHeld(ctx.core, ctx.actor, ctx.tenantId, names)).map((role) => [role.name, role.id]));
}

export async function showScimUser(ctx: ScimContext, user: User): Promise<ScimResource> {
  return toScimUser(user, ctx.base, await roleIdsOf(ctx, [user]));
}

function mutability(message: string): ScimProtocolError {
  return new ScimProtocolError('INVALID_FIELD', 'mutability', message);
}

/**
 * What a PATCH left that Muster cannot store (RFC 7644 §3.5.2): a change of a read-only
 * attribute or the removal of one Muster cannot be without is `mutability`; an attribute no
 * schema of a User has (the README lists those that are accepted and ignored) is `invalidPath`.
 * Either would otherwise answer 200 and change nothing.
 */
function checkPatched(before: ScimResource, after: ScimResource): void {
  for (const readOnly of ['id', 'meta', 'groups'] as const) {
    if (!sameJson(before[readOnly], after[readOnly])) throw mutability(`${readOnly} is read-only${readOnly === 'groups' ? ': change membership through /Groups' : ''}.`);
  }
  const active = attribute(after, 'active');
  if (active === undefined || active === null) throw mutability('active cannot be removed: a user is active or not (replace it with false to lock the user out).');
  const userName = attribute(after, 'userName');
  if (userName === undefined || userName === null || userName === '') throw mutability('userName is required and cannot be removed.');
  const emails = attribute(after, 'emails');
  if (!Array.isArray(emails) || emails.length === 0) throw mutability('Muster keeps one email address for every user: emails cannot be removed, only replaced.');
  const unknown = unknownUserAttributes(after);
  if (unknown.length > 0) throw new ScimProtocolError('INVALID_FIELD', 'invalidPath', `A User has no attribute "${unknown[0]}".`);
}

/** PATCH: the operations apply to the User Muster shows; the result is mapped like a PUT. */
export async function patchScimUser(ctx: ScimContext, id: string, body: unknown, ifMatch: IfMatch | undefined): Promise<User> {
  const operations = patchOperations(body);
  // A password is write-only: it is not in the resource shown, so its removal would pass unseen.
  if (operations.some((operation) => operation.op === 'remove' && operation.path?.toLowerCase() === 'password')) {
    throw mutability('A password cannot be removed, only replaced.');
  }
  const roleIds = new Map<string, string>();
  return updateWith(ctx, id, ifMatch, async (current) => {
    for (const [name, roleId] of await roleIdsOf(ctx, [current])) roleIds.set(name, roleId);
    const before = toScimUser(current, ctx.base, roleIds);
    const after = applyPatch(before, operations);
    checkPatched(before, after);
    return changeFromScim(current, scimUserFields(after, current, before));
  });
}

export async function deleteScimUser(ctx: ScimContext, id: string, ifMatch: IfMatch | undefined): Promise<void> {
  if (ifMatch !== undefined) {
    const current = await getUser(ctx.core, ctx.tenantId, ctx.actor, id);
    if (!matchesVersion(ifMatch, userVersion(current))) throw new DomainError('PRECONDITION_FAILED', 'The user has changed since that version (If-Match).');
  }
  await deleteUser(ctx.core, ctx.tenantId, ctx.actor, id);
}

export interface SearchParameters {
  filter?: unknown;
  startIndex?: unknown;
  count?: unknown;
  sortBy?: unknown;
  sortOrder?: unknown;
}

function optionalText(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new ScimProtocolError('INVALID_FIELD', 'invalidValue', `${field} must be a string.`);
  return value;
}

/** A ListResponse of the users matching a filter (the database runs it), one page of them. */
export async function searchScimUsers(ctx: ScimContext, params: SearchParameters, projection: Projection) {
  const filterText = optionalText(params.filter, 'filter');
  const filter = filterText === undefined || filterText.trim() === '' ? undefined : userFilterFromScim(filterText);
  const sort = userSortFromScim(optionalText(params.sortBy, 'sortBy'), optionalText(params.sortOrder, 'sortOrder'));
  const page = pageOf(params.startIndex, params.count);
  const { users, total } = await searchUsers(ctx.core, ctx.tenantId, ctx.actor, { filter, ...sort, offset: page.startIndex - 1, limit: page.count });
  const roleIds = await roleIdsOf(ctx, users);
  return {
    schemas: [LIST_RESPONSE],
    totalResults: total,
    startIndex: page.startIndex,
    itemsPerPage: users.length,
    Resources: users.map((user) => project(toScimUser(user, ctx.base, roleIds), projection)),
  };
}

const tags = ['scim'];
const IdParams = Type.Object({ id: Type.String({ maxLength: 200 }) });
const UserResponses = ScimErrorResponses;
const ListResponse = listResponseSchema(ScimUserSchema);

export function userRoutes(app: ScimScope, core: CoreDeps): void {
  const send = async (ctx: ScimContext, user: User, projection: Projection) => project(await showScimUser(ctx, user), projection) as ScimResource;

  app.post('/Users', {
    schema: { tags, summary: 'Create a user (SCIM)', querystring: ProjectionQuerySchema, body: documentedBody(ScimUserSchema), response: { 201: ScimUserSchema, ...UserResponses } },
    config: { idempotency: true, performs: 'users:write' },
    handler: async (request, reply) => {
      const ctx = contextOf(request, core);
      const user = await createScimUser(ctx, request.body);
      return reply
        .code(201)
        .header('location', `${ctx.base}/Users/${user.id}`)
        .header('etag', userVersion(user))
        .send(await send(ctx, user, projectionOf(request.query.attributes, request.query.excludedAttributes)));
    },
  });

  app.get('/Users/:id', {
    schema: { tags, summary: 'Read a user (SCIM)', params: IdParams, querystring: ProjectionQuerySchema, response: { 200: ScimUserSchema, 304: NotModified, ...UserResponses } },
    handler: async (request, reply) => {
      const ctx = contextOf(request, core);
      const user = await readScimUser(ctx, request.params.id);
      if (notModified(request.headers['if-none-match'], userVersion(user))) return reply.code(304).header('etag', userVersion(user)).send(null);
      return reply
        .header('location', `${ctx.base}/Users/${user.id}`)
        .header('etag', userVersion(user))
        .send(await send(ctx, user, projectionOf(request.query.attributes, request.query.excludedAttributes)));
    },
  });

  app.get('/Users', {
    schema: { tags, summary: 'List and filter users (SCIM)', querystring: ListQuerySchema, response: { 200: ListResponse, ...UserResponses } },
    handler: async (request) => {
      const q = request.query;
      return searchScimUsers(contextOf(request, core), q, projectionOf(q.attributes, q.excludedAttributes));
    },
  });

  app.post('/Users/.search', {
    schema: { tags, summary: 'Search users with a SearchRequest body (SCIM)', body: documentedBody(SearchRequestSchema), response: { 200: ListResponse, ...UserResponses } },
    handler: async (request, reply) => {
      const { body, projection } = parseSearchRequest(request.body);
      return reply.code(200).send(await searchScimUsers(contextOf(request, core), body, projection));
    },
  });

  app.put('/Users/:id', {
    config: { performs: 'users:write' },
    schema: { tags, summary: 'Replace a user (SCIM)', params: IdParams, querystring: ProjectionQuerySchema, body: documentedBody(ScimUserSchema), response: { 200: ScimUserSchema, ...UserResponses } },
    handler: async (request, reply) => {
      const ctx = contextOf(request, core);
      const user = await replaceScimUser(ctx, request.params.id, request.body, parseIfMatch(request.headers['if-match']));
      return reply.header('etag', userVersion(user)).send(await send(ctx, user, projectionOf(request.query.attributes, request.query.excludedAttributes)));
    },
  });

  app.patch('/Users/:id', {
    config: { performs: 'users:write' },
    schema: { tags, summary: 'Change a user with PatchOp operations (SCIM)', params: IdParams, querystring: ProjectionQuerySchema, body: documentedBody(PatchRequestSchema), response: { 200: ScimUserSchema, ...UserResponses } },
    handler: async (request, reply) => {
      const ctx = contextOf(request, core);
      const user = await patchScimUser(ctx, request.params.id, request.body, parseIfMatch(request.headers['if-match']));
      return reply.header('etag', userVersion(user)).send(await send(ctx, user, projectionOf(request.query.attributes, request.query.excludedAttributes)));
    },
  });

  app.delete('/Users/:id', {
    config: { performs: 'users:delete' },
    schema: { tags, summary: 'Delete a user (SCIM)', params: IdParams, response: { 204: Type.Null(), ...UserResponses } },
    handler: async (request, reply) => {
      await deleteScimUser(contextOf(request, core), request.params.id, parseIfMatch(request.headers['if-match']));
      return reply.code(204).send(null);
    },
  });
}
