/**
 * /Groups: a SCIM Group is a Muster role, its `id` and `displayName` the role's name, its
 * members the users holding the role. Creating and deleting a group creates and deletes the
 * role (tenant-admin); membership changes change the users' roles through the core, with its
 * rules (an admin role only from a global key). A role's name cannot change, so neither can a
 * group's displayName.
 */
import { filter as matcher, type Filter } from 'scim2-parse-filter';
import Type from 'typebox';
import { authorize } from '../../core/credentials/actor.js';
import { DomainError, fieldError, isDomainError } from '../../core/errors.js';
import type { CoreDeps, Role, RoleMember } from '../../core/ports.js';
import { createRole } from '../../core/roles/create-role.js';
import { deleteRole, getRole, listRoles } from '../../core/roles/role-catalog.js';
import { changeRoleMembers, listRoleMembers, MAX_ROLE_MEMBERS_LISTED } from '../../core/roles/role-members.js';
import { getUser } from '../../core/users/get-user.js';
import { contextOf, pageOf, type ScimContext } from './context.js';
import { invalidFilter, normalisePath, parseScimFilter } from './filter.js';
import { ScimProtocolError } from './map-error.js';
import { applyPatch, patchOperations, type PatchOperation } from './patch.js';
import { project, projectionOf, wantsAttribute, type Projection } from './projection.js';
import { CORE_GROUP, LIST_RESPONSE, ListQuerySchema, listResponseSchema, PatchRequestSchema, ProjectionQuerySchema, ScimErrorResponses, ScimGroupSchema } from './schemas.js';
import type { ScimScope } from './index.js';
import { attribute, type ScimResource } from './user-mapping.js';
import { groupVersion, matchesVersion, parseIfMatch, type IfMatch } from './versions.js';

/** Users a group filter may ask about (`members[value eq "…"]`): each is one lookup. */
const MAX_FILTER_MEMBERS = 50;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalidValue(field: string, message: string): ScimProtocolError {
  return new ScimProtocolError('INVALID_FIELD', 'invalidValue', message, [fieldError(field, 'INVALID_FIELD', message)]);
}

export function toScimGroup(role: Role, members: readonly RoleMember[] | undefined, base: string): ScimResource {
  return {
    schemas: [CORE_GROUP],
    id: role.name,
    displayName: role.name,
    ...(members !== undefined &&
      members.length > 0 && { members: members.map((m) => ({ value: m.id, display: m.userName, $ref: `${base}/Users/${m.id}`, type: 'User' })) }),
    meta: { resourceType: 'Group', created: role.createdAt, lastModified: role.updatedAt, location: `${base}/Groups/${encodeURIComponent(role.name)}`, version: groupVersion(role) },
  };
}

/**
 * Every member of a role, when there are at most MAX_ROLE_MEMBERS_LISTED; past that, tooMany
 * (`mustList`) or undefined (the group is then shown without its members).
 */
async function allMembers(ctx: ScimContext, name: string, mustList: boolean): Promise<RoleMember[] | undefined> {
  const members = await listRoleMembers(ctx.core, ctx.actor, ctx.tenantId, name, { limit: MAX_ROLE_MEMBERS_LISTED + 1 });
  if (members.length <= MAX_ROLE_MEMBERS_LISTED) return members;
  if (!mustList) return undefined;
  throw new ScimProtocolError('INVALID_FIELD', 'tooMany', `This group has more than ${MAX_ROLE_MEMBERS_LISTED} members: read it with excludedAttributes=members.`);
}

/** The member ids of a `members` value: a list of `{value}` (or one). */
function memberIds(value: unknown, field = 'members'): string[] {
  if (value === undefined || value === null) return [];
  const list = Array.isArray(value) ? value : [value];
  return list.map((item, i) => {
    const id = isObject(item) ? attribute(item, 'value') : undefined;
    if (typeof id !== 'string' || id === '') throw invalidValue(field, `${field}[${i}].value must be a user id.`);
    return id;
  });
}

/** Changing members reads the group (the role catalog) and writes users' roles. */
function authorizeMembership(ctx: ScimContext): void {
  authorize(ctx.actor, 'catalog:read', ctx.tenantId);
  authorize(ctx.actor, 'users:write', ctx.tenantId);
}

export interface GroupResult {
  role: Role;
  members: RoleMember[] | undefined;
}

export async function readScimGroup(ctx: ScimContext, id: string, withMembers: boolean, mustList = true): Promise<GroupResult> {
  const role = await getRole(ctx.core, ctx.actor, ctx.tenantId, id);
  return { role, members: withMembers ? await allMembers(ctx, role.name, mustList) : undefined };
}

/** POST /Groups: a new role named by displayName, with its first members. */
export async function createScimGroup(ctx: ScimContext, body: unknown, withMembers = true): Promise<GroupResult> {
  // A caller without the right to write is told so before anything about its body.
  authorize(ctx.actor, 'catalog:write', ctx.tenantId);
  if (!isObject(body)) throw new ScimProtocolError('MALFORMED_JSON', 'invalidSyntax', 'The body must be a SCIM Group object.');
  const displayName = attribute(body, 'displayName');
  if (displayName === undefined || displayName === null || displayName === '') {
    throw new DomainError('MISSING_REQUIRED_FIELD', 'displayName is required.', [fieldError('displayName', 'MISSING_REQUIRED_FIELD', 'displayName is required.')]);
  }
  if (typeof displayName !== 'string') throw invalidValue('displayName', 'displayName must be a string.');
  const members = memberIds(attribute(body, 'members'));
  try {
    await createRole(ctx.core, ctx.actor, ctx.tenantId, displayName, {}, members);
  } catch (error) {
    // The role's name is the group's displayName.
    if (isDomainError(error) && error.errors[0]?.field === 'name') {
      throw new DomainError(error.code, error.message.replace(/^Role names/, 'Group displayNames'), error.errors.map((e) => ({ ...e, field: 'displayName', message: e.message.replace(/^Role names/, 'Group displayNames') })));
    }
    throw error;
  }
  return readScimGroup(ctx, displayName, withMembers, false);
}

function readOnlyChanged(before: ScimResource, after: ScimResource): void {
  if (attribute(after, 'displayName') !== before.displayName) {
    throw new ScimProtocolError('INVALID_FIELD', 'mutability', "A group's displayName is the name of a Muster role and cannot change: create a new group instead.");
  }
  for (const readOnly of ['id', 'meta'] as const) {
    if (JSON.stringify(before[readOnly]) !== JSON.stringify(after[readOnly])) throw new ScimProtocolError('INVALID_FIELD', 'mutability', `${readOnly} is read-only.`);
  }
}

/** The user ids of a member filter such as `value eq "…"` (or several joined by `or`); undefined for any other filter. */
function idsOfValueFilter(node: Filter): string[] | undefined {
  if (node.op === 'or') {
    const parts = node.filters.map(idsOfValueFilter);
    return parts.every((p) => p !== undefined) ? parts.flat() : undefined;
  }
  if (node.op === 'eq' && normalisePath(node.attrPath) === 'value' && typeof node.compValue === 'string') return [node.compValue];
  return undefined;
}

/** Member entries reduced to `{value}`, so that a remove by value matches whatever else the client sent along. */
function normaliseMembers(operation: PatchOperation): PatchOperation {
  const isMembers = operation.path?.toLowerCase() === 'members';
  if (isMembers && operation.value !== undefined) return { ...operation, value: memberIds(operation.value).map((value) => ({ value })) };
  if (operation.path === undefined && isObject(operation.value)) {
    const key = Object.keys(operation.value).find((k) => k.toLowerCase() === 'members');
    if (key) return { ...operation, value: { ...operation.value, [key]: memberIds(operation.value[key]).map((value) => ({ value })) } };
  }
  return operation;
}

/**
 * Which members the operations can touch: the ids they name (add, remove by value or by a
 * `value eq` filter), or every member (replace, remove all, any other member path).
 */
function membersTouched(operations: readonly PatchOperation[]): { all: boolean; ids: string[] } {
  let all = false;
  const ids: string[] = [];
  for (const operation of operations) {
    const path = operation.path?.toLowerCase();
    if (path === undefined) {
      const key = isObject(operation.value) ? Object.keys(operation.value).find((k) => k.toLowerCase() === 'members') : undefined;
      if (key && operation.op === 'add') ids.push(...memberIds((operation.value as Record<string, unknown>)[key]));
      else if (key) all = true;
    } else if (path === 'members') {
      if (operation.op === 'add' || (operation.op === 'remove' && operation.value !== undefined)) ids.push(...memberIds(operation.value));
      else all = true;
    } else if (path.startsWith('members[') && path.endsWith(']')) {
      const named = idsOfValueFilter(parseScimFilter(operation.path!.slice('members['.length, -1)));
      if (named) ids.push(...named);
      else all = true;
    } else if (path.startsWith('members')) {
      all = true;
    }
  }
  return { all, ids: [...new Set(ids)] };
}

/** Applies a membership change as a diff of member ids; without one, still checks the right to make it. */
async function applyMembership(ctx: ScimContext, name: string, before: readonly string[], after: readonly string[]): Promise<void> {
  const was = new Set(before);
  const is = new Set(after);
  const add = after.filter((id) => !was.has(id));
  const remove = before.filter((id) => !is.has(id));
  if (add.length > 0 || remove.length > 0) await changeRoleMembers(ctx.core, ctx.actor, ctx.tenantId, name, { add, remove });
  else authorize(ctx.actor, 'users:write', ctx.tenantId);
}

/**
 * PATCH /Groups/{id}: the operations apply to the group as Muster shows it (with the members
 * they can touch), and the difference in members is applied to the users' roles. This is how
 * Okta and Entra ID push membership: `add` members, `remove` `members[value eq "…"]` or
 * members by value, `replace` members.
 */
export async function patchScimGroup(ctx: ScimContext, id: string, body: unknown, ifMatch: IfMatch | undefined, withMembers = true): Promise<GroupResult> {
  authorizeMembership(ctx);
  const operations = patchOperations(body).map(normaliseMembers);
  const role = await getRole(ctx.core, ctx.actor, ctx.tenantId, id);
  if (!matchesVersion(ifMatch, groupVersion(role))) throw new DomainError('PRECONDITION_FAILED', 'The group has changed since that version (If-Match).');
  const touched = membersTouched(operations);
  const current = touched.all
    ? (await allMembers(ctx, role.name, true))!
    : touched.ids.length > 0
      ? await listRoleMembers(ctx.core, ctx.actor, ctx.tenantId, role.name, { limit: touched.ids.length, among: touched.ids })
      : [];
  const before: ScimResource = { ...toScimGroup(role, undefined, ctx.base), members: current.map((m) => ({ value: m.id })) };
  const after = applyPatch(before, operations);
  readOnlyChanged(before, after);
  await applyMembership(ctx, role.name, current.map((m) => m.id), memberIds(attribute(after, 'members')));
  return readScimGroup(ctx, role.name, withMembers, false);
}

/** PUT /Groups/{id}: the members become exactly those given; the displayName must stay. */
export async function replaceScimGroup(ctx: ScimContext, id: string, body: unknown, ifMatch: IfMatch | undefined, withMembers = true): Promise<GroupResult> {
  authorizeMembership(ctx);
  if (!isObject(body)) throw new ScimProtocolError('MALFORMED_JSON', 'invalidSyntax', 'The body must be a SCIM Group object.');
  const role = await getRole(ctx.core, ctx.actor, ctx.tenantId, id);
  if (!matchesVersion(ifMatch, groupVersion(role))) throw new DomainError('PRECONDITION_FAILED', 'The group has changed since that version (If-Match).');
  const displayName = attribute(body, 'displayName');
  if (displayName !== undefined && displayName !== role.name) readOnlyChanged({ schemas: [], displayName: role.name }, { schemas: [], displayName });
  const wanted = memberIds(attribute(body, 'members'));
  const current = (await allMembers(ctx, role.name, true))!;
  await applyMembership(ctx, role.name, current.map((m) => m.id), wanted);
  return readScimGroup(ctx, role.name, withMembers, false);
}

export async function deleteScimGroup(ctx: ScimContext, id: string, ifMatch: IfMatch | undefined): Promise<void> {
  authorize(ctx.actor, 'catalog:write', ctx.tenantId);
  if (ifMatch !== undefined) {
    const role = await getRole(ctx.core, ctx.actor, ctx.tenantId, id);
    if (!matchesVersion(ifMatch, groupVersion(role))) throw new DomainError('PRECONDITION_FAILED', 'The group has changed since that version (If-Match).');
  }
  await deleteRole(ctx.core, ctx.actor, ctx.tenantId, id);
}

/** Group attributes a filter may name; `members` only as `members[value eq "…"]` or `members.value eq "…"`. */
const GROUP_FILTER_ATTRIBUTES = new Set(['id', 'displayname', 'externalid', 'meta.created', 'meta.lastmodified', 'meta.resourcetype']);

/** Checks a group filter and returns the user ids it asks membership of. */
function memberIdsOfGroupFilter(node: Filter): string[] {
  switch (node.op) {
    case 'and':
    case 'or':
      return node.filters.flatMap(memberIdsOfGroupFilter);
    case 'not':
      return memberIdsOfGroupFilter(node.filter);
    case '[]': {
      const ids = normalisePath(node.attrPath) === 'members' ? idsOfValueFilter(node.valFilter) : undefined;
      if (!ids) throw invalidFilter('Groups can be filtered by members only as members[value eq "…"].');
      return ids;
    }
    default: {
      const path = normalisePath(node.attrPath);
      if (path === 'members' || path === 'members.value') {
        if (node.op !== 'eq' || typeof node.compValue !== 'string') throw invalidFilter('Groups can be filtered by members only as members.value eq "…".');
        return [node.compValue];
      }
      if (!GROUP_FILTER_ATTRIBUTES.has(path)) throw invalidFilter(`Groups cannot be filtered by "${node.attrPath}".`);
      return [];
    }
  }
}

/**
 * The groups matching a filter. The roles of a tenant are a short catalog, read whole and
 * filtered here with `scim2-parse-filter`'s matcher (displayName compares exactly, as role
 * names do); a `members` condition is answered by reading the roles of the users it names.
 */
async function matchingRoles(ctx: ScimContext, filterText: string | undefined): Promise<Role[]> {
  const roles = await listRoles(ctx.core, ctx.actor, ctx.tenantId);
  if (filterText === undefined || filterText.trim() === '') return roles;
  const ast = parseScimFilter(filterText);
  const asked = [...new Set(memberIdsOfGroupFilter(ast))];
  if (asked.length > MAX_FILTER_MEMBERS) throw invalidFilter(`A group filter may name at most ${MAX_FILTER_MEMBERS} members.`);
  const holders = new Map<string, string[]>();
  for (const userId of asked) {
    try {
      for (const role of (await getUser(ctx.core, ctx.tenantId, ctx.actor, userId)).roles) holders.set(role, [...(holders.get(role) ?? []), userId]);
    } catch (error) {
      if (!(isDomainError(error) && error.code === 'NOT_FOUND')) throw error;
    }
  }
  const test = matcher(ast);
  return roles.filter((role) => test({ ...toScimGroup(role, undefined, ctx.base), members: (holders.get(role.name) ?? []).map((value) => ({ value })) }));
}

function sortRoles(roles: Role[], sortBy: string | undefined, sortOrder: string | undefined): Role[] {
  const order = sortOrder?.toLowerCase();
  if (order !== undefined && order !== 'ascending' && order !== 'descending') throw invalidValue('sortOrder', 'sortOrder must be "ascending" or "descending".');
  if (sortBy === undefined || sortBy === '') return roles;
  const path = normalisePath(sortBy);
  const key: Record<string, (r: Role) => string> = { id: (r) => r.name, displayname: (r) => r.name, 'meta.created': (r) => r.createdAt, 'meta.lastmodified': (r) => r.updatedAt };
  const of = key[path];
  if (!of) throw invalidValue('sortBy', `Groups cannot be sorted by "${sortBy}".`);
  const sign = order === 'descending' ? -1 : 1;
  return [...roles].sort((a, b) => (of(a) < of(b) ? -sign : of(a) > of(b) ? sign : 0));
}

export async function searchScimGroups(
  ctx: ScimContext,
  params: { filter?: string | undefined; startIndex?: unknown; count?: unknown; sortBy?: string | undefined; sortOrder?: string | undefined },
  projection: Projection,
) {
  const roles = sortRoles(await matchingRoles(ctx, params.filter), params.sortBy, params.sortOrder);
  const page = pageOf(params.startIndex, params.count);
  const shown = roles.slice(page.startIndex - 1, page.startIndex - 1 + page.count);
  const withMembers = wantsAttribute(projection, 'members');
  const resources: ScimResource[] = [];
  for (const role of shown) {
    const members = withMembers ? await allMembers(ctx, role.name, true) : undefined;
    resources.push(project(toScimGroup(role, members, ctx.base), projection));
  }
  return { schemas: [LIST_RESPONSE], totalResults: roles.length, startIndex: page.startIndex, itemsPerPage: resources.length, Resources: resources };
}

const tags = ['scim'];
const IdParams = Type.Object({ id: Type.String({ maxLength: 200 }) });
const GroupResponses = ScimErrorResponses;

export function groupRoutes(app: ScimScope, core: CoreDeps): void {
  const show = (ctx: ScimContext, group: GroupResult, projection: Projection) => project(toScimGroup(group.role, group.members, ctx.base), projection);

  app.get('/Groups', {
    schema: { tags, summary: 'List and filter groups (roles) (SCIM)', querystring: ListQuerySchema, response: { 200: listResponseSchema(ScimGroupSchema), ...GroupResponses } },
    handler: async (request) => {
      const q = request.query;
      return searchScimGroups(contextOf(request, core), q, projectionOf(q.attributes, q.excludedAttributes));
    },
  });

  app.get('/Groups/:id', {
    schema: { tags, summary: 'Read a group (SCIM)', params: IdParams, querystring: ProjectionQuerySchema, response: { 200: ScimGroupSchema, ...GroupResponses } },
    handler: async (request, reply) => {
      const ctx = contextOf(request, core);
      const projection = projectionOf(request.query.attributes, request.query.excludedAttributes);
      const group = await readScimGroup(ctx, request.params.id, wantsAttribute(projection, 'members'));
      return reply.header('etag', groupVersion(group.role)).send(show(ctx, group, projection));
    },
  });

  app.post('/Groups', {
    schema: { tags, summary: 'Create a group: a new role, with its first members (SCIM)', querystring: ProjectionQuerySchema, body: ScimGroupSchema, response: { 201: ScimGroupSchema, ...GroupResponses } },
    config: { idempotency: true },
    handler: async (request, reply) => {
      const ctx = contextOf(request, core);
      const projection = projectionOf(request.query.attributes, request.query.excludedAttributes);
      const group = await createScimGroup(ctx, request.body, wantsAttribute(projection, 'members'));
      return reply
        .code(201)
        .header('location', `${ctx.base}/Groups/${encodeURIComponent(group.role.name)}`)
        .header('etag', groupVersion(group.role))
        .send(show(ctx, group, projection));
    },
  });

  app.patch('/Groups/:id', {
    schema: { tags, summary: 'Change group membership with PatchOp operations (SCIM)', params: IdParams, querystring: ProjectionQuerySchema, body: PatchRequestSchema, response: { 200: ScimGroupSchema, ...GroupResponses } },
    handler: async (request, reply) => {
      const ctx = contextOf(request, core);
      const projection = projectionOf(request.query.attributes, request.query.excludedAttributes);
      const group = await patchScimGroup(ctx, request.params.id, request.body, parseIfMatch(request.headers['if-match']), wantsAttribute(projection, 'members'));
      return reply.header('etag', groupVersion(group.role)).send(show(ctx, group, projection));
    },
  });

  app.put('/Groups/:id', {
    schema: { tags, summary: 'Replace the members of a group (SCIM)', params: IdParams, querystring: ProjectionQuerySchema, body: ScimGroupSchema, response: { 200: ScimGroupSchema, ...GroupResponses } },
    handler: async (request, reply) => {
      const ctx = contextOf(request, core);
      const projection = projectionOf(request.query.attributes, request.query.excludedAttributes);
      const group = await replaceScimGroup(ctx, request.params.id, request.body, parseIfMatch(request.headers['if-match']), wantsAttribute(projection, 'members'));
      return reply.header('etag', groupVersion(group.role)).send(show(ctx, group, projection));
    },
  });

  app.delete('/Groups/:id', {
    schema: { tags, summary: 'Delete a group: its role, which its members lose (SCIM)', params: IdParams, response: { 204: Type.Null(), ...GroupResponses } },
    handler: async (request, reply) => {
      await deleteScimGroup(contextOf(request, core), request.params.id, parseIfMatch(request.headers['if-match']));
      return reply.code(204).send(null);
    },
  });
}
