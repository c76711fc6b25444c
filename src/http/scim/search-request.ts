/**
 * The body of `POST /Users/.search` and `POST /Groups/.search` (RFC 7644 §3.4.3): checked once
 * for both. The search itself (filter, sort, paging) is each resource's own.
 */
import { fieldError } from '../../core/errors.js';
import { ScimProtocolError } from './map-error.js';
import { projectionOf, type Projection } from './projection.js';
import { SEARCH_REQUEST } from './schemas.js';

export interface SearchRequest {
  body: Record<string, unknown>;
  projection: Projection;
}

export function parseSearchRequest(input: unknown): SearchRequest {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new ScimProtocolError('MALFORMED_JSON', 'invalidSyntax', 'The body must be a SearchRequest object.');
  const body = input as Record<string, unknown>;
  const schemas = body.schemas;
  if (schemas !== undefined && !(Array.isArray(schemas) && schemas.includes(SEARCH_REQUEST))) {
    throw new ScimProtocolError('INVALID_FIELD', 'invalidSyntax', `A search body names the schema ${SEARCH_REQUEST}.`);
  }
  // Each is a list of attribute names when present.
  for (const name of ['attributes', 'excludedAttributes'] as const) {
    const value = body[name];
    if (value !== undefined && !(Array.isArray(value) && value.every((item) => typeof item === 'string'))) {
      const message = `${name} must be a list of attribute names.`;
      throw new ScimProtocolError('INVALID_FIELD', 'invalidValue', message, [fieldError(name, 'INVALID_FIELD', message)]);
    }
  }
  return { body, projection: projectionOf(body.attributes as string[] | undefined, body.excludedAttributes as string[] | undefined) };
}
