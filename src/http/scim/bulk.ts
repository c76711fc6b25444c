/**
 * POST /Bulk (RFC 7644 §3.7): many operations in one request, each answered on its own with
 * its status (and location and version, or an error body). `bulkId` names a resource created
 * earlier in the request: `bulkId:qwerty` anywhere in a later operation's path or data is
 * replaced by its id, in whatever order the operations come (a reference to one defined
 * later waits for it; one that can never be resolved fails with 409). `failOnErrors` stops
 * after that many errors. Consecutive user creations without it go to the core as one batch.
 */
import Type from 'typebox';
import { DomainError, isDomainError } from '../../core/errors.js';
import type { CoreDeps } from '../../core/ports.js';
import { createUsers, MAX_BATCH_SIZE } from '../../core/users/create-users.js';
import type { UserDraft } from '../../core/users/user.js';
import { compileValidator } from '../../core/validation.js';
import { contextOf, type ScimContext } from './context.js';
import { createScimGroup, deleteScimGroup, groupLocation, patchScimGroup, replaceScimGroup } from './groups.js';
import { ScimProtocolError, scimErrorBody, type ScimErrorBody } from './map-error.js';
import { BULK_REQUEST, BULK_RESPONSE, BulkRequestSchema, BulkResponseSchema, ScimErrorResponses } from './schemas.js';
import type { ScimScope } from './index.js';
import { draftFromScim } from './user-mapping.js';
import { createScimUser, deleteScimUser, patchScimUser, replaceScimUser } from './users.js';
import { groupVersion, parseIfMatch, userVersion } from './versions.js';
import { documentedBody } from '../shared/body-validation.js';

/** Advertised in ServiceProviderConfig; a request past either is refused whole with 413. */
export const MAX_BULK_OPERATIONS = MAX_BATCH_SIZE;
export const MAX_BULK_PAYLOAD_BYTES = 2 * 1024 * 1024;

const METHODS = ['POST', 'PUT', 'PATCH', 'DELETE'] as const;
type Method = (typeof METHODS)[number];

const validateEnvelope = compileValidator(
  Type.Object({
    schemas: Type.Optional(Type.Array(Type.String())),
    failOnErrors: Type.Optional(Type.Integer({ minimum: 1 })),
    Operations: Type.Array(Type.Unknown()),
  }),
);

const validateOperation = compileValidator(
  Type.Object({
    method: Type.String({ maxLength: 10 }),
    bulkId: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    version: Type.Optional(Type.String({ maxLength: 200 })),
    path: Type.String({ minLength: 1, maxLength: 1000 }),
    data: Type.Optional(Type.Unknown()),
  }),
);

interface Operation {
  method: Method;
  bulkId?: string;
  version?: string;
  path: string;
  data?: unknown;
}

export interface BulkResult {
  method: string;
  bulkId?: string;
  version?: string;
  location?: string;
  status: string;
  response?: ScimErrorBody;
}

const BULK_REF = /^bulkId:(.+)$/;

/** The bulkIds an operation refers to, in its path and anywhere in its data. */
function referencesOf(operation: Operation): string[] {
  const found: string[] = [];
  const walk = (value: unknown): void => {
    if (typeof value === 'string') {
      const m = BULK_REF.exec(value);
      if (m) found.push(m[1]!);
    } else if (Array.isArray(value)) value.forEach(walk);
    else if (typeof value === 'object' && value !== null) Object.values(value).forEach(walk);
  };
  for (const segment of operation.path.split('/')) walk(decodeSegment(segment));
  walk(operation.data);
  return [...new Set(found)];
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** `value` with every `bulkId:…` replaced by the id it stands for. */
function substitute<T>(value: T, resolved: ReadonlyMap<string, string>): T {
  if (typeof value === 'string') {
    const m = BULK_REF.exec(value);
    return (m && resolved.has(m[1]!) ? resolved.get(m[1]!)! : value) as T;
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, resolved)) as T;
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, resolved)])) as T;
  return value;
}

function errorResult(operation: Operation, error: unknown): BulkResult {
  const domain = isDomainError(error) ? error : new DomainError('SERVER_ERROR', 'Something went wrong on our side.');
  const { status, body } = scimErrorBody(domain);
  return { method: operation.method, ...(operation.bulkId && { bulkId: operation.bulkId }), status: String(status), response: body };
}

function parseOperations(body: unknown): { operations: Operation[]; failOnErrors: number | undefined } {
  const envelope = validateEnvelope(body);
  if (!envelope.ok) throw new ScimProtocolError('INVALID_FIELD', 'invalidSyntax', `Not a BulkRequest: ${envelope.errors[0]!.message}`, envelope.errors);
  const { schemas, failOnErrors, Operations } = envelope.value;
  if (schemas && !schemas.includes(BULK_REQUEST)) throw new ScimProtocolError('INVALID_FIELD', 'invalidSyntax', `A bulk body names the schema ${BULK_REQUEST}.`);
  if (Operations.length > MAX_BULK_OPERATIONS) {
    throw new DomainError('BATCH_TOO_LARGE', `The number of operations (${Operations.length}) exceeds the maxOperations (${MAX_BULK_OPERATIONS}).`);
  }
  const operations = Operations.map((raw, i) => {
    const checked = validateOperation(raw, `Operations.${i}`);
    if (!checked.ok) throw new ScimProtocolError('INVALID_FIELD', 'invalidSyntax', `Operations[${i}] is not valid: ${checked.errors[0]!.message}`, checked.errors);
    const method = checked.value.method.toUpperCase() as Method;
    if (!METHODS.includes(method)) throw new ScimProtocolError('INVALID_FIELD', 'invalidSyntax', `Operations[${i}].method must be POST, PUT, PATCH or DELETE.`);
    return { ...checked.value, method };
  });
  return { operations, failOnErrors };
}

/** The resource type and id a (decoded) path names: `/Users`, `/Users/{id}`, `/Groups`, `/Groups/{id}`. */
function target(path: string): { type: 'Users' | 'Groups'; id?: string } {
  const m = /^\/?(Users|Groups)(?:\/([^/]+))?\/?$/i.exec(path.trim());
  if (!m) throw new ScimProtocolError('INVALID_FIELD', 'invalidPath', `A bulk operation's path names /Users or /Groups, not "${path}".`);
  const type = m[1]!.toLowerCase() === 'users' ? 'Users' : 'Groups';
  return { type, ...(m[2] !== undefined && { id: m[2] }) };
}

/** One operation (its references already substituted): what it did, as a bulk result. */
async function runOne(ctx: ScimContext, operation: Operation, resolved: Map<string, string>): Promise<BulkResult> {
  const { type, id } = target(operation.path);
  const ifMatch = parseIfMatch(operation.version);
  const head = { method: operation.method, ...(operation.bulkId && { bulkId: operation.bulkId }) };
  const needId = () => {
    if (id === undefined) throw new ScimProtocolError('INVALID_FIELD', 'invalidPath', `${operation.method} needs /${type}/{id}.`);
    return id;
  };
  if (operation.method === 'POST') {
    if (id !== undefined) throw new ScimProtocolError('INVALID_FIELD', 'invalidPath', `POST creates in /${type}, not in /${type}/{id}.`);
    if (type === 'Users') {
      const user = await createScimUser(ctx, operation.data);
      if (operation.bulkId) resolved.set(operation.bulkId, user.id);
      return { ...head, location: `${ctx.base}/Users/${user.id}`, version: userVersion(user), status: '201' };
    }
    const group = await createScimGroup(ctx, operation.data, false);
    if (operation.bulkId) resolved.set(operation.bulkId, group.role.id);
    return { ...head, location: groupLocation(ctx.base, group.role), version: groupVersion(group.role), status: '201' };
  }
  const resourceId = needId();
  if (operation.method === 'DELETE') {
    if (type === 'Users') await deleteScimUser(ctx, resourceId, ifMatch);
    else await deleteScimGroup(ctx, resourceId, ifMatch);
    return { ...head, location: `${ctx.base}/${type}/${encodeURIComponent(resourceId)}`, status: '204' };
  }
  if (type === 'Users') {
    const user = operation.method === 'PUT' ? await replaceScimUser(ctx, resourceId, operation.data, ifMatch) : await patchScimUser(ctx, resourceId, operation.data, ifMatch);
    return { ...head, location: `${ctx.base}/Users/${user.id}`, version: userVersion(user), status: '200' };
  }
  const group = operation.method === 'PUT' ? await replaceScimGroup(ctx, resourceId, operation.data, ifMatch, false) : await patchScimGroup(ctx, resourceId, operation.data, ifMatch, false);
  return { ...head, location: groupLocation(ctx.base, group.role), version: groupVersion(group.role), status: '200' };
}

function isUserCreation(operation: Operation): boolean {
  return operation.method === 'POST' && /^\/?Users\/?$/i.test(operation.path.trim());
}

/** Creates users of consecutive POST /Users operations with one core call: one outcome each. */
async function createBatch(ctx: ScimContext, batch: { index: number; operation: Operation }[], resolved: Map<string, string>, results: BulkResult[]): Promise<void> {
  const drafts: { index: number; operation: Operation; draft: UserDraft }[] = [];
  for (const item of batch) {
    try {
      drafts.push({ ...item, draft: draftFromScim(item.operation.data) });
    } catch (error) {
      results[item.index] = errorResult(item.operation, error);
    }
  }
  if (drafts.length === 0) return;
  try {
    const result = await createUsers(ctx.core, ctx.tenantId, ctx.actor, drafts.map((d) => d.draft));
    result.outcomes.forEach((outcome, i) => {
      const { index, operation } = drafts[i]!;
      const head = { method: operation.method, ...(operation.bulkId && { bulkId: operation.bulkId }) };
      if (outcome.status === 'created') {
        if (operation.bulkId) resolved.set(operation.bulkId, outcome.user.id);
        results[index] = { ...head, location: `${ctx.base}/Users/${outcome.user.id}`, version: userVersion(outcome.user), status: '201' };
      } else {
        const error = outcome.status === 'failed' ? new DomainError(outcome.error.code, outcome.error.message, outcome.error.errors) : new DomainError('SERVER_ERROR', 'The user was not created.');
        results[index] = errorResult(operation, error);
      }
    });
  } catch (error) {
    // A refusal of the whole call (no right to write, a busy server) answers each operation.
    for (const { index, operation } of drafts) results[index] = errorResult(operation, error);
  }
}

/** Runs a BulkRequest and returns the BulkResponse. */
export async function runBulk(ctx: ScimContext, body: unknown) {
  const { operations, failOnErrors } = parseOperations(body);
  const results: BulkResult[] = [];
  const resolved = new Map<string, string>();
  const declared = new Set(operations.flatMap((o) => (o.method === 'POST' && o.bulkId ? [o.bulkId] : [])));
  const isFailed = (bulkId: string) => operations.some((o, i) => o.bulkId === bulkId && o.method === 'POST' && results[i] !== undefined && results[i]!.status !== '201');
  const errorCount = () => results.filter((r) => r !== undefined && Number(r.status) >= 400).length;
  const stopped = () => failOnErrors !== undefined && errorCount() >= failOnErrors;

  let pending = operations.map((_, index) => index);
  while (pending.length > 0 && !stopped()) {
    const waiting: number[] = [];
    let batch: { index: number; operation: Operation }[] = [];
    const flush = async () => {
      if (batch.length > 0) await createBatch(ctx, batch, resolved, results);
      batch = [];
    };
    for (const index of pending) {
      if (stopped()) break;
      const operation = operations[index]!;
      const unresolved = referencesOf(operation).filter((ref) => !resolved.has(ref));
      if (unresolved.some((ref) => !declared.has(ref) || isFailed(ref))) {
        await flush();
        const ref = unresolved.find((r) => !declared.has(r) || isFailed(r))!;
        const why = declared.has(ref) ? `the operation with bulkId "${ref}" failed` : `no POST in this request has bulkId "${ref}"`;
        results[index] = errorResult(operation, new ScimProtocolError('CONFLICT', 'invalidValue', `bulkId:${ref} cannot be resolved: ${why}.`));
        continue;
      }
      if (unresolved.length > 0) {
        waiting.push(index);
        continue;
      }
      const path = operation.path.split('/').map((segment) => substitute(decodeSegment(segment), resolved)).join('/');
      const ready = { ...operation, path, data: substitute(operation.data, resolved) };
      if (failOnErrors === undefined && isUserCreation(ready)) {
        batch.push({ index, operation: ready });
        continue;
      }
      await flush();
      if (stopped()) break;
      try {
        results[index] = await runOne(ctx, ready, resolved);
      } catch (error) {
        results[index] = errorResult(operation, error);
      }
    }
    await flush();
    if (waiting.length === pending.length) {
      // Nothing could move: the references go round in a circle.
      for (const index of waiting) {
        results[index] = errorResult(operations[index]!, new ScimProtocolError('CONFLICT', 'invalidValue', 'The bulkId references of this operation go round in a circle and cannot be resolved.'));
      }
      break;
    }
    pending = waiting;
  }
  return { schemas: [BULK_RESPONSE], Operations: results.filter((r): r is BulkResult => r !== undefined) };
}

export function bulkRoutes(app: ScimScope, core: CoreDeps): void {
  app.post('/Bulk', {
    bodyLimit: MAX_BULK_PAYLOAD_BYTES,
    // Every bulk operation writes: a key that may not write users is refused before the body is read.
    config: { idempotency: true, performs: 'users:write' },
    schema: {
      tags: ['scim'],
      summary: `Run up to ${MAX_BULK_OPERATIONS} operations on users and groups (SCIM)`,
      body: documentedBody(BulkRequestSchema),
      response: { 200: BulkResponseSchema, ...ScimErrorResponses },
    },
    handler: async (request) => runBulk(contextOf(request, core), request.body),
  });
}
