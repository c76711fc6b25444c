/**
 * Resource versions (RFC 7644 §3.14): `meta.version` and the ETag header carry the same weak
 * entity tag; `If-Match` names the versions a write may apply to. A user's version is its
 * revision; a group's is its role's revision (+1 on every change, membership included).
 * `If-None-Match` naming the current version makes a read answer 304 Not Modified.
 */
import type { Role } from '../../core/ports.js';
import type { User } from '../../core/users/user.js';

export function userVersion(user: User): string {
  return `W/"${user.revision}"`;
}

export function groupVersion(role: Role): string {
  return `W/"${role.revision}"`;
}

/** The entity tags of an If-Match header, without their weakness marker; `*` matches anything. */
export type IfMatch = { any: true } | { any: false; tags: string[] };

export function parseIfMatch(header: string | string[] | undefined): IfMatch | undefined {
  const text = Array.isArray(header) ? header.join(',') : header;
  if (text === undefined || text.trim() === '') return undefined;
  if (text.trim() === '*') return { any: true };
  const tags = [...text.matchAll(/(?:W\/)?"([^"]*)"/g)].map((m) => m[1]!);
  return { any: false, tags };
}

/** Whether a resource at `version` (as userVersion or groupVersion give it) satisfies If-Match. */
export function matchesVersion(ifMatch: IfMatch | undefined, version: string): boolean {
  if (!ifMatch || ifMatch.any) return true;
  const tag = /"([^"]*)"/.exec(version)?.[1];
  return tag !== undefined && ifMatch.tags.includes(tag);
}

/**
 * Whether a GET with this If-None-Match may answer 304 Not Modified (RFC 7644 §3.14, RFC 9110
 * §13.1.2): the header names the resource's current version (compared weakly) or is `*`.
 */
export function notModified(header: string | string[] | undefined, version: string): boolean {
  const ifNoneMatch = parseIfMatch(header);
  return ifNoneMatch !== undefined && matchesVersion(ifNoneMatch, version);
}
