/**
 * PATCH (RFC 7644 §3.5.2), applied by `scim-patch` to the SCIM representation Muster showed;
 * the patched resource is then mapped to a core change like any replacement, so that every
 * rule stays in the core. What real clients send is accepted: Entra ID's capitalised `op`
 * values ("Replace", "Add"), attribute names in any case, and paths on multi-valued
 * attributes with or without a value filter.
 */
import { InvalidScimPatchOp, NoPathInScimPatchOp, NoTarget, scimPatch, type ScimPatchOperation, type ScimResource as PatchableResource } from 'scim-patch';
import Type from 'typebox';
import { fieldError } from '../../core/errors.js';
import { compileValidator } from '../../core/validation.js';
import { ScimProtocolError } from './map-error.js';
import { ENTERPRISE_USER, PATCH_OP } from './schemas.js';

/** The most operations one PATCH may carry. */
export const MAX_PATCH_OPERATIONS = 1000;
/**
 * The longest path one operation may carry, and the most and longest attribute names of a
 * path-less value: scim-patch splits each with a pattern whose cost grows with the square of
 * its length. Real paths are far shorter (the longest enterprise attribute is 75 characters).
 */
export const MAX_PATH_LENGTH = 512;
export const MAX_VALUE_ATTRIBUTES = 100;

const validateEnvelope = compileValidator(
  Type.Object({
    schemas: Type.Optional(Type.Array(Type.String())),
    Operations: Type.Array(
      Type.Object({ op: Type.String({ maxLength: 20 }), path: Type.Optional(Type.String({ maxLength: MAX_PATH_LENGTH })), value: Type.Optional(Type.Unknown()) }),
      { minItems: 1, maxItems: MAX_PATCH_OPERATIONS },
    ),
  }),
);

export interface PatchOperation {
  op: 'add' | 'remove' | 'replace';
  path?: string;
  value?: unknown;
}

/** Attribute names as Muster writes them, so that `Name.GivenName` finds `name.givenName`. */
const CANONICAL = new Map(
  ['userName', 'externalId', 'displayName', 'active', 'password', 'name', 'givenName', 'familyName', 'formatted', 'emails', 'phoneNumbers', 'value', 'type', 'primary', 'display', 'members', 'groups', 'employeeNumber', 'department', 'id', 'meta', 'schemas'].map((n) => [n.toLowerCase(), n]),
);

function canonicalSegment(segment: string): string {
  return CANONICAL.get(segment.toLowerCase()) ?? segment;
}

/** The path with its attribute names (not its filter values) spelt canonically. */
function canonicalPath(path: string): string {
  const bracket = path.indexOf('[');
  const close = path.lastIndexOf(']');
  const canonicalDotted = (part: string) => {
    const colon = part.lastIndexOf(':');
    const urn = colon >= 0 ? part.slice(0, colon + 1) : '';
    return urn + part.slice(colon + 1).split('.').map(canonicalSegment).join('.');
  };
  if (bracket < 0 || close < bracket) return canonicalDotted(path.trim());
  return `${canonicalDotted(path.slice(0, bracket).trim())}${path.slice(bracket, close + 1)}${path.slice(close + 1).replace(/^\.(.+)$/, (_m, rest: string) => `.${canonicalSegment(rest)}`)}`;
}

/** Keys of a path-less value object spelt canonically too. */
function canonicalValue(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([key, v]) => [key.includes(':') ? key : key.split('.').map(canonicalSegment).join('.'), v]));
}

/** Checks a PatchOp body and returns its operations, normalised. invalidSyntax when it is not one. */
export function patchOperations(body: unknown): PatchOperation[] {
  const checked = validateEnvelope(body);
  if (!checked.ok) {
    const first = checked.errors[0]!;
    throw new ScimProtocolError('INVALID_FIELD', 'invalidSyntax', `Not a PatchOp request: ${first.message}`, checked.errors);
  }
  const { schemas, Operations } = checked.value;
  if (schemas && !schemas.includes(PATCH_OP)) {
    throw new ScimProtocolError('INVALID_FIELD', 'invalidSyntax', `A PATCH body names the schema ${PATCH_OP}.`, [fieldError('schemas', 'INVALID_FIELD', `schemas must include ${PATCH_OP}.`)]);
  }
  return Operations.map((operation, i) => {
    const op = operation.op.toLowerCase();
    if (op !== 'add' && op !== 'remove' && op !== 'replace') {
      throw new ScimProtocolError('INVALID_FIELD', 'invalidSyntax', `Operations[${i}].op must be add, remove or replace.`, [fieldError(`Operations.${i}.op`, 'INVALID_FIELD', 'must be add, remove or replace')]);
    }
    // The filter parser inside paths backtracks exponentially on raw line breaks; a path never needs one.
    if (operation.path !== undefined && /\p{Cc}/u.test(operation.path)) {
      throw new ScimProtocolError('INVALID_FIELD', 'invalidPath', `Operations[${i}].path must not contain control characters.`);
    }
    if (operation.path === undefined && typeof operation.value === 'object' && operation.value !== null) {
      const names = Object.keys(operation.value);
      if (names.length > MAX_VALUE_ATTRIBUTES || names.some((name) => name.length > MAX_PATH_LENGTH)) {
        throw new ScimProtocolError('INVALID_FIELD', 'invalidPath', `Operations[${i}]: a value may name at most ${MAX_VALUE_ATTRIBUTES} attributes of at most ${MAX_PATH_LENGTH} characters.`);
      }
    }
    const path = operation.path?.trim() ? canonicalPath(operation.path) : undefined;
    if (op === 'remove' && path === undefined) throw new ScimProtocolError('INVALID_FIELD', 'noTarget', `Operations[${i}]: remove needs a path.`);
    if (op !== 'remove' && !('value' in operation)) throw new ScimProtocolError('INVALID_FIELD', 'invalidValue', `Operations[${i}]: ${op} needs a value.`);
    return { op, ...(path !== undefined && { path }), ...('value' in operation && { value: path === undefined ? canonicalValue(operation.value) : operation.value }) };
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const ENTERPRISE_KEY = ENTERPRISE_USER.toLowerCase();

/** The extension's attributes as a value gives them, names spelt canonically; invalidValue when it is not an object. */
function extensionAttributes(value: unknown): Record<string, unknown> {
  if (!isObject(value)) throw new ScimProtocolError('INVALID_FIELD', 'invalidValue', `The value of ${ENTERPRISE_USER} must be an object of its attributes.`);
  return Object.fromEntries(Object.entries(value).map(([key, v]) => [canonicalSegment(key), v]));
}

/**
 * The resource with the enterprise extension as a whole removed, or with the given attributes
 * added or replaced in it (RFC 7644 §3.5.2.1, §3.5.2.3: attributes of a complex value not
 * given are left as they are; a null value unassigns one).
 */
function withExtension<T extends Record<string, unknown>>(resource: T, op: PatchOperation['op'], attributes: Record<string, unknown> | undefined): T {
  const key = Object.keys(resource).find((k) => k.toLowerCase() === ENTERPRISE_KEY);
  const { [key ?? ENTERPRISE_USER]: existing, ...others } = resource as Record<string, unknown>;
  if (op === 'remove' || attributes === undefined) return others as T;
  const merged = { ...(isObject(existing) ? existing : {}), ...attributes };
  for (const [name, value] of Object.entries(merged)) if (value === null) delete merged[name];
  return { ...others, [ENTERPRISE_USER]: merged } as unknown as T;
}

/**
 * The enterprise extension named as a whole (a path that is its URN, or its URN as a key of a
 * path-less value) is applied here: `scim-patch` would split the URN at its last colon and
 * lose the change. The rest of the operation is left for `scim-patch`.
 */
function applyExtension<T extends Record<string, unknown>>(resource: T, operation: PatchOperation): { resource: T; rest: PatchOperation | undefined } {
  if (operation.path !== undefined && operation.path.toLowerCase() === ENTERPRISE_KEY) {
    return { resource: withExtension(resource, operation.op, operation.op === 'remove' ? undefined : extensionAttributes(operation.value)), rest: undefined };
  }
  if (operation.path === undefined && isObject(operation.value)) {
    const key = Object.keys(operation.value).find((k) => k.toLowerCase() === ENTERPRISE_KEY);
    if (key !== undefined) {
      const { [key]: extension, ...others } = operation.value;
      const patched = withExtension(resource, operation.op, extensionAttributes(extension));
      return { resource: patched, rest: Object.keys(others).length > 0 ? { ...operation, value: others } : undefined };
    }
  }
  return { resource, rest: operation };
}

/** The resource after the operations, applied in order; the input is not changed. */
export function applyPatch<T extends Record<string, unknown>>(resource: T, operations: readonly PatchOperation[]): T {
  let patched = resource;
  for (const operation of operations) {
    const applied = applyExtension(patched, operation);
    patched = applied.rest ? applyOne(applied.resource, applied.rest) : applied.resource;
  }
  return patched;
}

function applyOne<T extends Record<string, unknown>>(resource: T, operation: PatchOperation): T {
  try {
    return scimPatch(resource as unknown as PatchableResource, [operation as ScimPatchOperation], { mutateDocument: false, treatMissingAsAdd: true }) as unknown as T;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof NoTarget || error instanceof NoPathInScimPatchOp) throw new ScimProtocolError('INVALID_FIELD', 'noTarget', message);
    if (error instanceof InvalidScimPatchOp) throw new ScimProtocolError('INVALID_FIELD', 'invalidPath', message);
    throw new ScimProtocolError('INVALID_FIELD', 'invalidPath', `The operation cannot be applied: ${message}`);
  }
}
