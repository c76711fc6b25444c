/**
 * SCIM 2.0 names (RFC 7643/7644) and the shapes of what the SCIM endpoints send. Being the
 * response schemas, these are also the whitelist of what may leave: a password never does.
 */
import Type from 'typebox';

export const CORE_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const CORE_GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const ENTERPRISE_USER = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const LIST_RESPONSE = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
export const SEARCH_REQUEST = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest';
export const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const BULK_REQUEST = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
export const BULK_RESPONSE = 'urn:ietf:params:scim:api:messages:2.0:BulkResponse';
export const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';
export const SERVICE_PROVIDER_CONFIG = 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig';
export const RESOURCE_TYPE = 'urn:ietf:params:scim:schemas:core:2.0:ResourceType';
export const SCHEMA_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Schema';

/** The media type SCIM speaks (RFC 7644 §3.1); plain application/json is accepted too. */
export const SCIM_MEDIA_TYPE = 'application/scim+json';

const Str = Type.String();
const Opt = <T extends Parameters<typeof Type.Optional>[0]>(schema: T) => Type.Optional(schema);

export const MetaSchema = Type.Object({
  resourceType: Opt(Str),
  created: Opt(Str),
  lastModified: Opt(Str),
  location: Opt(Str),
  version: Opt(Str),
});

const MultiValue = Type.Object({ value: Opt(Str), type: Opt(Str), primary: Opt(Type.Boolean()), display: Opt(Str) });
/** `{value, display, $ref, type}`: `$ref` is left to additionalProperties, since a property of that name reads as a JSON Schema reference to OpenAPI tools. */
const Reference = Type.Object({ value: Opt(Str), display: Opt(Str), type: Opt(Str) }, { additionalProperties: Str, description: 'value, display, $ref (the URI of the resource) and type.' });

/** A User as Muster shows it; every attribute is optional because `attributes` may leave any out. */
export const ScimUserSchema = Type.Object({
  schemas: Type.Array(Str),
  id: Opt(Str),
  externalId: Opt(Str),
  userName: Opt(Str),
  name: Opt(Type.Object({ formatted: Opt(Str), familyName: Opt(Str), givenName: Opt(Str) })),
  displayName: Opt(Str),
  active: Opt(Type.Boolean()),
  emails: Opt(Type.Array(MultiValue)),
  phoneNumbers: Opt(Type.Array(MultiValue)),
  groups: Opt(Type.Array(Reference)),
  [ENTERPRISE_USER]: Opt(Type.Object({ employeeNumber: Opt(Str), department: Opt(Str) })),
  meta: Opt(MetaSchema),
});

export const ScimGroupSchema = Type.Object({
  schemas: Type.Array(Str),
  id: Opt(Str),
  externalId: Opt(Str),
  displayName: Opt(Str),
  members: Opt(Type.Array(Reference)),
  meta: Opt(MetaSchema),
});

/** A read whose If-None-Match names the current version (RFC 7644 §3.14): no body. */
export const NotModified = Type.Null({ description: 'Not Modified: If-None-Match names the current version (ETag).' });

export const ScimErrorSchema = Type.Object({
  schemas: Type.Array(Str),
  status: Type.String({ description: 'The HTTP status, as a string (RFC 7644 §3.12).' }),
  scimType: Opt(Type.String({ description: 'invalidFilter, tooMany, uniqueness, mutability, invalidSyntax, invalidPath, noTarget, invalidValue, …' })),
  detail: Opt(Str),
});

/**
 * Every error status a SCIM route can answer: the protocol's, plus the service's own
 * (402 no seat left, 422 an Idempotency-Key reused for another request, 503 hashing busy).
 */
export const ScimErrorResponses = Object.fromEntries(
  [400, 401, 402, 403, 404, 409, 412, 413, 415, 422, 428, 429, 500, 503].map((status) => [status, ScimErrorSchema]),
) as Record<400 | 401 | 402 | 403 | 404 | 409 | 412 | 413 | 415 | 422 | 428 | 429 | 500 | 503, typeof ScimErrorSchema>;

export function listResponseSchema<T extends typeof ScimUserSchema | typeof ScimGroupSchema>(resource: T) {
  return Type.Object({
    schemas: Type.Array(Str),
    totalResults: Type.Integer(),
    startIndex: Type.Integer(),
    itemsPerPage: Type.Integer(),
    Resources: Type.Array(resource),
  });
}

/** Request bodies, for the OpenAPI document only (bodies are checked by the dialect and the core). */
export const PatchRequestSchema = Type.Object({
  schemas: Type.Array(Str),
  Operations: Type.Array(Type.Object({ op: Str, path: Opt(Str), value: Opt(Type.Unknown()) })),
});

export const SearchRequestSchema = Type.Object({
  schemas: Opt(Type.Array(Str)),
  filter: Opt(Str),
  startIndex: Opt(Type.Integer()),
  count: Opt(Type.Integer()),
  sortBy: Opt(Str),
  sortOrder: Opt(Str),
  attributes: Opt(Type.Array(Str)),
  excludedAttributes: Opt(Type.Array(Str)),
});

export const ListQuerySchema = Type.Object({
  filter: Opt(Type.String({ maxLength: 4096, description: 'RFC 7644 §3.4.2.2, e.g. userName eq "bjensen"' })),
  startIndex: Opt(Type.String({ maxLength: 20, description: '1-based index of the first result' })),
  count: Opt(Type.String({ maxLength: 20, description: 'Results per page' })),
  sortBy: Opt(Type.String({ maxLength: 200 })),
  sortOrder: Opt(Type.String({ maxLength: 20, description: 'ascending or descending' })),
  attributes: Opt(Type.String({ maxLength: 2000 })),
  excludedAttributes: Opt(Type.String({ maxLength: 2000 })),
});

export const ProjectionQuerySchema = Type.Object({
  attributes: Opt(Type.String({ maxLength: 2000 })),
  excludedAttributes: Opt(Type.String({ maxLength: 2000 })),
});

export const BulkRequestSchema = Type.Object({
  schemas: Type.Array(Str),
  failOnErrors: Opt(Type.Integer()),
  Operations: Type.Array(Type.Object({ method: Str, bulkId: Opt(Str), version: Opt(Str), path: Str, data: Opt(Type.Unknown()) })),
});

export const BulkResponseSchema = Type.Object({
  schemas: Type.Array(Str),
  Operations: Type.Array(
    Type.Object({
      method: Str,
      bulkId: Opt(Str),
      version: Opt(Str),
      location: Opt(Str),
      status: Str,
      response: Opt(ScimErrorSchema),
    }),
  ),
});
