/**
 * `If-Match` and `If-None-Match` (RFC 9110 §13.1.1–2), parsed once for every API: `*`, or a
 * list of entity tags. `*` matches any current representation; a list matches a resource
 * whose tag is in it, compared strongly (the native API, whose ETags are strong: `W/"7"`
 * matches nothing) or weakly (SCIM, whose versions are weak, and the account dialect).
 * A header that cannot be read as either matches nothing, so a conditional write fails with
 * 412 rather than going ahead unchecked.
 */

export interface EntityTag {
  weak: boolean;
  /** The tag without its quotes and weakness marker: `7` for `W/"7"`. */
  opaque: string;
}

/** A parsed header: `*`, or the entity tags it lists (none when it could not be read). */
export type IfMatch = { any: true } | { any: false; tags: EntityTag[] };

export type TagComparison = 'strong' | 'weak';

export interface IfMatchSyntax {
  /** Also accept unquoted tags (`7` for `"7"`), as the account dialect documents. */
  bare?: boolean;
}

/** A revision no resource has: what a header that names no single revision expects. */
export const NO_REVISION = -1;

// One list element: an entity tag (RFC 9110 §8.8.3) or, where allowed, a bare token.
const TAG = /(W\/)?"([\x21\x23-\x7e\x80-\uffff]*)"/y;
const BARE = /[\x21\x23-\x2b\x2d-\x7e]+/y;
const SEPARATOR = /[ \t]*(,[ \t,]*|$)/y;

/** The header's value, or undefined when there is none (absent, or only blanks). */
export function parseIfMatch(header: string | readonly string[] | undefined, syntax: IfMatchSyntax = {}): IfMatch | undefined {
  const text = (typeof header === 'string' ? header : header?.join(','))?.trim();
  if (text === undefined || text === '') return undefined;
  if (text === '*') return { any: true };
  const tags: EntityTag[] = [];
  // Empty list elements are allowed (RFC 9110 §5.6.1): `, "7",` is `"7"`.
  let at = /^[ \t,]*/.exec(text)![0].length;
  while (at < text.length) {
    TAG.lastIndex = at;
    const tag = TAG.exec(text);
    if (tag) {
      tags.push({ weak: tag[1] !== undefined, opaque: tag[2]! });
      at = TAG.lastIndex;
    } else {
      BARE.lastIndex = at;
      const bare = syntax.bare ? BARE.exec(text) : null;
      if (!bare || bare[0] === '*') return { any: false, tags: [] };
      tags.push({ weak: false, opaque: bare[0] });
      at = BARE.lastIndex;
    }
    SEPARATOR.lastIndex = at;
    if (!SEPARATOR.exec(text)) return { any: false, tags: [] };
    at = SEPARATOR.lastIndex;
  }
  return { any: false, tags };
}

/** Whether the header matches a resource whose (strong) entity tag is `opaque`. */
export function matchesTag(ifMatch: IfMatch, opaque: string, comparison: TagComparison): boolean {
  if (ifMatch.any) return true;
  return ifMatch.tags.some((tag) => tag.opaque === opaque && (comparison === 'weak' || !tag.weak));
}

/**
 * What a write conditional on a revision expects: `any` for `*`, the revision a single tag
 * names, or NO_REVISION when the header names no single revision (several tags, a tag that is
 * not a revision, a weak tag under strong comparison).
 */
export function expectedRevision(ifMatch: IfMatch, comparison: TagComparison): number | 'any' {
  if (ifMatch.any) return 'any';
  const [tag, ...more] = ifMatch.tags;
  if (tag === undefined || more.length > 0 || (comparison === 'strong' && tag.weak) || !/^\d{1,15}$/.test(tag.opaque)) return NO_REVISION;
  return Number(tag.opaque);
}
