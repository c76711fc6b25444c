/**
 * Resource versions (RFC 7644 §3.14): `meta.version` and the ETag header carry the same weak
 * entity tag; `If-Match` names the versions a write may apply to. A user's version is its
 * revision; a group's is its role's revision (+1 on every change, membership included).
 * `If-None-Match` naming the current version makes a read answer 304 Not Modified.
 */
import type { Role } from '../../core/roles/role.js';
import type { User } from '../../core/users/user.js';
import { matchesTag, parseIfMatch, type IfMatch } from '../shared/if-match.js';

export function userVersion(user: User): string {
  return `W/"${user.revision}"`;
}

export function groupVersion(role: Role): string {
  return `W/"${role.revision}"`;
}

/** If-Match (and If-None-Match, and a bulk operation's `version`) as every API parses it. */
export { parseIfMatch, type IfMatch };

/** Whether a resource at `version` (as userVersion or groupVersion give it) satisfies If-Match, compared weakly. */
export function matchesVersion(ifMatch: IfMatch | undefined, version: string): boolean {
  if (!ifMatch) return true;
  const tag = /"([^"]*)"/.exec(version)?.[1];
  return tag !== undefined && matchesTag(ifMatch, tag, 'weak');
}

/**
 * Whether a GET with this If-None-Match may answer 304 Not Modified (RFC 7644 §3.14, RFC 9110
 * §13.1.2): the header names the resource's current version (compared weakly) or is `*`.
 */
export function notModified(header: string | string[] | undefined, version: string): boolean {
  const ifNoneMatch = parseIfMatch(header);
  return ifNoneMatch !== undefined && matchesVersion(ifNoneMatch, version);
}
