/**
 * /Groups: a SCIM Group is a Muster role. Its `id` is the role's stable id (issued once, never
 * given again), its `displayName` the role's name (which a rename changes, keeping the id and
 * the holders), its `externalId` the directory's own id, its members the users holding the
 * role. This file only maps SCIM onto the core's groups (core/groups/groups.ts), where the
 * naming rule, the privilege rule and the audit of every change live.
 */
import { filter as matcher, type Filter } from 'scim2-parse-filter';
import Type from 'typebox';
import { DomainError, fieldError, isDomainError } from '../../core/errors.js';
import {
  allGroupMembers,
  createGroup,
  deleteGroup,
  getGroup,
  groupMembersAmong,
  MAX_MEMBERSHIP_LOOKUPS,
  MAX_ROLE_MEMBERS_LISTED,
  searchGroups,
  updateGroup,
  type GroupChange,
  type GroupSortKey,
} from '../../core/groups/groups.js';
import type { CoreDeps, RoleMember } from '../../core/ports.js';
import type { Role } from '../../core/roles/role.js';
import { contextOf, pageOf, type ScimContext } from './context.js';
import { invalidFilter, normalisePath, parseScimFilter } from './filter.js';
import { ScimProtocolError } from './map-error.js';
import { applyPatch, patchOperations, type PatchOperation } from './patch.js';
import { project, projectionOf, wantsAttribute, type Projection } from './projection.js';
import { parseSearchRequest } from './search-request.js';
import { CORE_GROUP, LIST_RESPONSE, NotModified, ListQuerySchema, listResponseSchema, PatchRequestSchema, ProjectionQuerySchema, ScimErrorResponses, ScimGroupSchema, SearchRequestSchema } from './schemas.js';
import type { ScimScope } from './index.js';
import { attribute, type ScimResource } from './user-mapping.js';
import { groupVersion, matchesVersion, notModified, parseIfMatch, type IfMatch } from './versions.js';
import { documentedBody } from '../shared/body-validation.js';

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalidValue(field: string, message: string): ScimProtocolError {
  return new ScimProtocolError('INVALID_FIELD', 'invalidValue', message, [fieldError(field, 'INVALID_FIELD', message)]);
}

export function groupLocation(base: string, role: Role): string {
  return `${base}/Groups/${encodeURIComponent(role.id)}`;
}

export function toScimGroup(role: Role, members: readonly RoleMember[] | undefined, base: string): ScimResource {
  return {
    schemas: [CORE_GROUP],
    id: role.id,
    ...(role.externalId !== null && { externalId: role.externalId }),
    displayName: role.name,
    ...(members !== undefined &&
      members.length > 0 && { members: members.map((m) => ({ value: m.id, display: m.userName, $ref: `${base}/Users/${m.id}`, type: 'User' })) }),
    meta: { resourceType: 'Group', created: role.createdAt, lastModified: role.updatedAt, location: groupLocation(base, role), version: groupVersion(role) },
  };
}

/** Every member of a group; past MAX_ROLE_MEMBERS_LISTED, tooMany (`mustList`) or undefined (shown without members). */
async function allMembers(ctx: ScimContext, role: Role, mustList: boolean): Promise<RoleMember[] | undefined> {
  const members = await allGroupMembers(ctx.core, ctx.actor, ctx.tenantId, role);
  if (members !== 'too-many') return members;
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

/** The core names a group's name `name`; SCIM calls it displayName. */
async function asGroup<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (isDomainError(error) && !(error instanceof ScimProtocolError) && error.errors.some((e) => e.field === 'name')) {
      const rename = (text: string) => text.replace(/^Role names/, 'Group displayNames').replace(/^A group needs a name/, 'displayName is required').replace(/A role named/, 'A group named');
      throw new DomainError(error.code, rename(error.message), error.errors.map((e) => (e.field === 'name' ? { ...e, field: 'displayName', message: rename(e.message) } : e)));
    }
    throw error;
  }
}

function textOrNull(value: unknown, field: string): string | null {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'string') throw invalidValue(field, `${field} must be a string.`);
  return value;
}

function requiredDisplayName(value: unknown): string {
  if (value === undefined || value === null || value === '') {
    throw new DomainError('MISSING_REQUIRED_FIELD', 'displayName is required.', [fieldError('displayName', 'MISSING_REQUIRED_FIELD', 'displayName is required.')]);
  }
  if (typeof value !== 'string') throw invalidValue('displayName', 'displayName must be a string.');
  return value;
}

export interface GroupResult {
  role: Role;
  members: RoleMember[] | undefined;
}

async function withMembersOf(ctx: ScimContext, role: Role, withMembers: boolean, mustList: boolean): Promise<GroupResult> {
  return { role, members: withMembers ? await allMembers(ctx, role, mustList) : undefined };
}

/** POST /Groups: a new role named by displayName, with its externalId and first members. */
export async function createScimGroup(ctx: ScimContext, body: unknown, withMembers = true): Promise<GroupResult> {
  if (!isObject(body)) throw new ScimProtocolError('MALFORMED_JSON', 'invalidSyntax', 'The body must be a SCIM Group object.');
  const name = requiredDisplayName(attribute(body, 'displayName'));
  const externalId = textOrNull(attribute(body, 'externalId'), 'externalId');
  const members = memberIds(attribute(body, 'members'));
  const role = await asGroup(() => createGroup(ctx.core, ctx.actor, ctx.tenantId, { name, externalId, members }));
  return withMembersOf(ctx, role, withMembers, false);
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

/** The attributes of a Group a client may send (RFC 7643 §4.2 and the common ones). */
const GROUP_ATTRIBUTES = new Set(['schemas', 'id', 'externalid', 'displayname', 'members', 'meta']);

/** The change that turns `before` (the group as shown) into `after` (as patched or replaced); mutability for read-only attributes. */
function changeOf(before: ScimResource, after: Record<string, unknown>, replacing: boolean): GroupChange {
  // A PATCH that names an attribute a group does not have would change nothing: refused. A PUT body's others are ignored.
  for (const key of replacing ? [] : Object.keys(after)) {
    if (!GROUP_ATTRIBUTES.has(key.toLowerCase())) throw new ScimProtocolError('INVALID_FIELD', 'invalidPath', `A group has no attribute "${key}".`);
  }
  const id = attribute(after, 'id');
  if (id !== undefined && id !== before.id) throw new ScimProtocolError('INVALID_FIELD', 'mutability', 'id is read-only.');
  if (!replacing && JSON.stringify(attribute(after, 'meta')) !== JSON.stringify(before.meta)) throw new ScimProtocolError('INVALID_FIELD', 'mutability', 'meta is read-only.');
  const displayName = attribute(after, 'displayName');
  if (!replacing && (displayName === undefined || displayName === null || displayName === '')) {
    throw new ScimProtocolError('INVALID_FIELD', 'mutability', 'displayName is required: a group cannot be without one.');
  }
  return { name: requiredDisplayName(displayName), externalId: textOrNull(attribute(after, 'externalId'), 'externalId') };
}

/** The group's version as the core counts it, once If-Match has been checked against it. */
function checkedRevision(role: Role, ifMatch: IfMatch | undefined): number {
  if (!matchesVersion(ifMatch, groupVersion(role))) throw new DomainError('PRECONDITION_FAILED', 'The group has changed since that version (If-Match).');
  return role.revision;
}

/**
 * PATCH /Groups/{id}: the operations apply to the group as Muster shows it (with the members
 * they can touch); the difference becomes a core change: a rename, a new externalId, members
 * given or taken. This is how Okta and Entra ID push groups: `add` members, `remove`
 * `members[value eq "…"]` or members by value, `replace` members, `replace` displayName (Okta
 * as `{"id", "displayName"}` without a path).
 */
export async function patchScimGroup(ctx: ScimContext, id: string, body: unknown, ifMatch: IfMatch | undefined, withMembers = true): Promise<GroupResult> {
  const operations = patchOperations(body).map(normaliseMembers);
  const role = await getGroup(ctx.core, ctx.actor, ctx.tenantId, id);
  const revision = checkedRevision(role, ifMatch);
  const touched = membersTouched(operations);
  const current = touched.all
    ? (await allMembers(ctx, role, true))!
    : await groupMembersAmong(ctx.core, ctx.actor, ctx.tenantId, role, touched.ids);
  const before: ScimResource = { ...toScimGroup(role, undefined, ctx.base), members: current.map((m) => ({ value: m.id })) };
  const after = applyPatch(before, operations);
  const change = changeOf(before, after, false);
  const wanted = memberIds(attribute(after, 'members'));
  const diff = { add: wanted.filter((m) => !current.some((c) => c.id === m)), remove: current.map((c) => c.id).filter((m) => !wanted.includes(m)) };
  const updated = await asGroup(() => updateGroup(ctx.core, ctx.actor, ctx.tenantId, role.id, { ...change, members: diff }, revision));
  return withMembersOf(ctx, updated, withMembers, false);
}

/** PUT /Groups/{id}: displayName (a new one renames), externalId (absent clears it) and the members become exactly those given. */
export async function replaceScimGroup(ctx: ScimContext, id: string, body: unknown, ifMatch: IfMatch | undefined, withMembers = true): Promise<GroupResult> {
  if (!isObject(body)) throw new ScimProtocolError('MALFORMED_JSON', 'invalidSyntax', 'The body must be a SCIM Group object.');
  const role = await getGroup(ctx.core, ctx.actor, ctx.tenantId, id);
  const revision = checkedRevision(role, ifMatch);
  const change = changeOf(toScimGroup(role, undefined, ctx.base), body, true);
  const members = memberIds(attribute(body, 'members'));
  const updated = await asGroup(() => updateGroup(ctx.core, ctx.actor, ctx.tenantId, role.id, { ...change, members: { set: members } }, revision));
  return withMembersOf(ctx, updated, withMembers, false);
}

export async function deleteScimGroup(ctx: ScimContext, id: string, ifMatch: IfMatch | undefined): Promise<void> {
  let revision: number | undefined;
  if (ifMatch !== undefined) revision = checkedRevision(await getGroup(ctx.core, ctx.actor, ctx.tenantId, id), ifMatch);
  await deleteGroup(ctx.core, ctx.actor, ctx.tenantId, id, revision);
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

const SORT_KEYS: Record<string, GroupSortKey> = { id: 'id', displayname: 'name', externalid: 'externalId', 'meta.created': 'createdAt', 'meta.lastmodified': 'updatedAt' };

function sortOf(sortBy: string | undefined, sortOrder: string | undefined): { sortBy?: GroupSortKey; descending: boolean } {
  const order = sortOrder?.toLowerCase();
  if (order !== undefined && order !== 'ascending' && order !== 'descending') throw invalidValue('sortOrder', 'sortOrder must be "ascending" or "descending".');
  if (sortBy === undefined || sortBy === '') return { descending: order === 'descending' };
  const key = SORT_KEYS[normalisePath(sortBy)];
  if (!key) throw invalidValue('sortBy', `Groups cannot be sorted by "${sortBy}".`);
  return { sortBy: key, descending: order === 'descending' };
}

function optionalText(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalidValue(field, `${field} must be a string.`);
  return value;
}

/**
 * A ListResponse of the groups matching a filter: the filter is checked here and evaluated by
 * `scim2-parse-filter`'s matcher over each group as SCIM shows it (displayName compares
 * exactly, as role names do); the core reads, pages and sorts the roles and the memberships asked about.
 */
export async function searchScimGroups(ctx: ScimContext, params: { filter?: unknown; startIndex?: unknown; count?: unknown; sortBy?: unknown; sortOrder?: unknown }, projection: Projection) {
  const filterText = optionalText(params.filter, 'filter');
  const ast = filterText === undefined || filterText.trim() === '' ? undefined : parseScimFilter(filterText);
  const asked = ast ? [...new Set(memberIdsOfGroupFilter(ast))] : [];
  if (asked.length > MAX_MEMBERSHIP_LOOKUPS) throw invalidFilter(`A group filter may name at most ${MAX_MEMBERSHIP_LOOKUPS} members.`);
  const test = ast ? matcher(ast) : undefined;
  const page = pageOf(params.startIndex, params.count);
  const { roles, total } = await searchGroups(ctx.core, ctx.actor, ctx.tenantId, {
    ...(test && { matches: (role: Role, memberIds: readonly string[]) => test({ ...toScimGroup(role, undefined, ctx.base), members: memberIds.map((value) => ({ value })) }) }),
    membersAsked: asked,
    ...sortOf(optionalText(params.sortBy, 'sortBy'), optionalText(params.sortOrder, 'sortOrder')),
    offset: page.startIndex - 1,
    limit: page.count,
  });
  const withMembers = wantsAttribute(projection, 'members');
  const resources: ScimResource[] = [];
  for (const role of roles) resources.push(project(toScimGroup(role, withMembers ? await allMembers(ctx, role, true) : undefined, ctx.base), projection));
  return { schemas: [LIST_RESPONSE], totalResults: total, startIndex: page.startIndex, itemsPerPage: resources.length, Resources: resources };
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

  app.post('/Groups/.search', {
    schema: { tags, summary: 'Search groups with a SearchRequest body (SCIM)', body: documentedBody(SearchRequestSchema), response: { 200: listResponseSchema(ScimGroupSchema), ...GroupResponses } },
    handler: async (request, reply) => {
      const { body, projection } = parseSearchRequest(request.body);
      return reply.code(200).send(await searchScimGroups(contextOf(request, core), body, projection));
    },
  });

  app.get('/Groups/:id', {
    schema: { tags, summary: 'Read a group (SCIM)', params: IdParams, querystring: ProjectionQuerySchema, response: { 200: ScimGroupSchema, 304: NotModified, ...GroupResponses } },
    handler: async (request, reply) => {
      const ctx = contextOf(request, core);
      const projection = projectionOf(request.query.attributes, request.query.excludedAttributes);
      const role = await getGroup(ctx.core, ctx.actor, ctx.tenantId, request.params.id);
      if (notModified(request.headers['if-none-match'], groupVersion(role))) return reply.code(304).header('etag', groupVersion(role)).send(null);
      const group = await withMembersOf(ctx, role, wantsAttribute(projection, 'members'), true);
      return reply.header('etag', groupVersion(group.role)).send(show(ctx, group, projection));
    },
  });

  app.post('/Groups', {
    schema: { tags, summary: 'Create a group: a new role, with its first members (SCIM)', querystring: ProjectionQuerySchema, body: documentedBody(ScimGroupSchema), response: { 201: ScimGroupSchema, ...GroupResponses } },
    config: { idempotency: true, performs: 'catalog:write' },
    handler: async (request, reply) => {
      const ctx = contextOf(request, core);
      const projection = projectionOf(request.query.attributes, request.query.excludedAttributes);
      const group = await createScimGroup(ctx, request.body, wantsAttribute(projection, 'members'));
      return reply
        .code(201)
        .header('location', groupLocation(ctx.base, group.role))
        .header('etag', groupVersion(group.role))
        .send(show(ctx, group, projection));
    },
  });

  app.patch('/Groups/:id', {
    config: { performs: ['catalog:read', 'users:write'] },
    schema: { tags, summary: 'Change a group (its displayName, externalId and members) with PatchOp operations (SCIM)', params: IdParams, querystring: ProjectionQuerySchema, body: documentedBody(PatchRequestSchema), response: { 200: ScimGroupSchema, ...GroupResponses } },
    handler: async (request, reply) => {
      const ctx = contextOf(request, core);
      const projection = projectionOf(request.query.attributes, request.query.excludedAttributes);
      const group = await patchScimGroup(ctx, request.params.id, request.body, parseIfMatch(request.headers['if-match']), wantsAttribute(projection, 'members'));
      return reply.header('etag', groupVersion(group.role)).send(show(ctx, group, projection));
    },
  });

  app.put('/Groups/:id', {
    config: { performs: ['catalog:read', 'users:write'] },
    schema: { tags, summary: 'Replace a group: its displayName, externalId and members (SCIM)', params: IdParams, querystring: ProjectionQuerySchema, body: documentedBody(ScimGroupSchema), response: { 200: ScimGroupSchema, ...GroupResponses } },
    handler: async (request, reply) => {
      const ctx = contextOf(request, core);
      const projection = projectionOf(request.query.attributes, request.query.excludedAttributes);
      const group = await replaceScimGroup(ctx, request.params.id, request.body, parseIfMatch(request.headers['if-match']), wantsAttribute(projection, 'members'));
      return reply.header('etag', groupVersion(group.role)).send(show(ctx, group, projection));
    },
  });

  app.delete('/Groups/:id', {
    config: { performs: 'catalog:write' },
    schema: { tags, summary: 'Delete a group: its role, which its members lose (SCIM)', params: IdParams, response: { 204: Type.Null(), ...GroupResponses } },
    handler: async (request, reply) => {
      await deleteScimGroup(contextOf(request, core), request.params.id, parseIfMatch(request.headers['if-match']));
      return reply.code(204).send(null);
    },
  });
}
