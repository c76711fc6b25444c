/**
 * `attributes` and `excludedAttributes` (RFC 7644 §3.9): which attributes of a resource a
 * response holds. Attribute names are case-insensitive and may carry their schema URN
 * (`urn:ietf:params:scim:schemas:core:2.0:User:userName`); `id` and `schemas` are always returned.
 */
import { CORE_GROUP, CORE_USER } from './schemas.js';

/** One attribute path as lower-case segments; an extension's URN is its first segment. */
type Path = string[];

export interface Projection {
  attributes?: Path[];
  excluded?: Path[];
}

const CORE_PREFIXES = [`${CORE_USER}:`.toLowerCase(), `${CORE_GROUP}:`.toLowerCase()];

function parsePath(text: string): Path | undefined {
  let rest = text.trim().toLowerCase();
  if (rest === '') return undefined;
  for (const prefix of CORE_PREFIXES) if (rest.startsWith(prefix)) rest = rest.slice(prefix.length);
  if (rest.startsWith('urn:')) {
    // An extension: its URN ends at the last colon before the attribute, or is the whole text.
    const colon = rest.lastIndexOf(':');
    const tail = rest.slice(colon + 1);
    if (/^\d/.test(tail) || tail === 'user') return [rest];
    return [rest.slice(0, colon), ...tail.split('.')];
  }
  return rest.split('.');
}

/** A comma-separated list (query parameter) or a list of names (search body). */
export function parseAttributeList(value: string | readonly string[] | undefined): Path[] | undefined {
  if (value === undefined) return undefined;
  const items = typeof value === 'string' ? value.split(',') : value.filter((v): v is string => typeof v === 'string');
  const paths = items.map(parsePath).filter((p): p is Path => p !== undefined);
  return paths.length > 0 ? paths : undefined;
}

export function projectionOf(attributes: string | readonly string[] | undefined, excluded: string | readonly string[] | undefined): Projection {
  const projection: Projection = {};
  const a = parseAttributeList(attributes);
  const e = parseAttributeList(excluded);
  if (a) projection.attributes = a;
  if (e) projection.excluded = e;
  return projection;
}

/** Whether a top-level attribute (e.g. `members`) will be in the response: worth loading at all. */
export function wantsAttribute(projection: Projection, name: string): boolean {
  const lower = name.toLowerCase();
  if (projection.attributes && !projection.attributes.some((p) => p[0] === lower)) return false;
  if (projection.excluded?.some((p) => p.length === 1 && p[0] === lower)) return false;
  return true;
}

function keyOf(object: Record<string, unknown>, segment: string): string | undefined {
  return Object.keys(object).find((k) => k.toLowerCase() === segment);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Copies the value at `path` from `source` into `target`, through multi-valued attributes. */
function copy(source: Record<string, unknown>, target: Record<string, unknown>, path: Path): void {
  const [head, ...rest] = path;
  const key = head === undefined ? undefined : keyOf(source, head);
  if (key === undefined) return;
  const value = source[key];
  if (rest.length === 0 || value === null || typeof value !== 'object') {
    target[key] = value;
    return;
  }
  if (Array.isArray(value)) {
    const existing = Array.isArray(target[key]) ? (target[key] as Record<string, unknown>[]) : value.map(() => ({}));
    value.forEach((item, i) => {
      if (isObject(item)) copy(item, existing[i]!, rest);
    });
    target[key] = existing;
    return;
  }
  const child = isObject(target[key]) ? (target[key] as Record<string, unknown>) : {};
  copy(value as Record<string, unknown>, child, rest);
  target[key] = child;
}

function remove(target: Record<string, unknown>, path: Path): void {
  const [head, ...rest] = path;
  const key = head === undefined ? undefined : keyOf(target, head);
  if (key === undefined || key === 'id' || key === 'schemas') return;
  if (rest.length === 0) {
    delete target[key];
    return;
  }
  const value = target[key];
  if (Array.isArray(value)) for (const item of value) if (isObject(item)) remove(item, rest);
  if (isObject(value)) remove(value, rest);
}

/** The resource as the projection asks for it (a new object; the input is not changed). */
export function project<T extends Record<string, unknown>>(resource: T, projection: Projection): T {
  let out: Record<string, unknown> = resource;
  if (projection.attributes) {
    out = { schemas: resource.schemas, ...(resource.id !== undefined && { id: resource.id }) };
    for (const path of projection.attributes) copy(resource, out, path);
  }
  if (projection.excluded) {
    out = structuredClone(out);
    for (const path of projection.excluded) remove(out, path);
  }
  return out as T;
}
