import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { BODY_EXAMPLES, IMPORT_EXAMPLES, OPERATION_PARAMETER_EXAMPLES, PARAMETER_EXAMPLES } from './openapi-examples.js';

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The one value a schema allows (`{const: x}`, or `{enum: [x]}` as @fastify/swagger writes a const), if it is one. */
function singleValue(schema: unknown): { type: unknown; value: unknown } | undefined {
  if (!isObject(schema)) return undefined;
  if ('const' in schema) return { type: schema.type, value: schema.const };
  if (Array.isArray(schema.enum) && schema.enum.length === 1) return { type: schema.type, value: schema.enum[0] };
  return undefined;
}

/**
 * Rewrites every `anyOf` of single values (how a TypeBox union of literals comes out) as one
 * `enum`, which Swagger UI shows as a list of choices instead of `string | (string | string)`.
 * The routes keep validating with their own schemas: only the document changes.
 */
export function collapseEnums(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(collapseEnums);
  if (!isObject(node)) return node;
  const out: Json = {};
  for (const [key, value] of Object.entries(node)) out[key] = collapseEnums(value);
  if (Array.isArray(out.anyOf) && out.anyOf.length > 0) {
    const values = out.anyOf.map(singleValue);
    const types = new Set(values.map((v) => v?.type));
    if (values.every((v) => v !== undefined) && types.size === 1) {
      const { anyOf: _anyOf, ...rest } = out;
      const type = values[0]!.type;
      return { ...(type !== undefined && { type }), enum: values.map((v) => v!.value), ...rest };
    }
  }
  return out;
}

/** The import upload's body: what /docs offers to upload, and the examples of each format. */
const IMPORT_BODY = {
  required: true,
  description:
    'The users to import, streamed: CSV with a header row, NDJSON (one user per line) or a JSON array. The Content-Type names the format (or ?format=). ' +
    'Choose a file to upload, or edit the example.',
  content: {
    'text/csv': { schema: { type: 'string', format: 'binary' }, example: IMPORT_EXAMPLES['text/csv'] },
    'application/x-ndjson': { schema: { type: 'string', format: 'binary' }, example: IMPORT_EXAMPLES['application/x-ndjson'] },
    'application/json': { schema: { type: 'array', items: { type: 'object' } }, example: IMPORT_EXAMPLES['application/json'] },
  },
};

/** Adds the examples of openapi-examples.ts, the import body, and enums as enums, to the generated document. */
function finishDocument(document: Json): Json {
  const paths = (document.paths ?? {}) as Record<string, Record<string, Json>>;
  for (const [path, operations] of Object.entries(paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      if (!isObject(operation)) continue;
      const key = `${method.toUpperCase()} ${path}`;
      if (key === 'POST /v1/tenants/{tenant}/imports') operation.requestBody = IMPORT_BODY;
      const example = BODY_EXAMPLES[key];
      const content = isObject(operation.requestBody) && isObject(operation.requestBody.content) ? operation.requestBody.content : undefined;
      if (example !== undefined && content) for (const media of Object.values(content)) if (isObject(media)) media.example = example;
      const own = OPERATION_PARAMETER_EXAMPLES[key] ?? {};
      for (const parameter of (operation.parameters ?? []) as Json[]) {
        const name = String(parameter.name);
        if (own[name] !== undefined) {
          parameter.example = own[name];
          parameter.required = true;
        } else if (parameter.in === 'path' && parameter.example === undefined && PARAMETER_EXAMPLES[name] !== undefined) {
          parameter.example = PARAMETER_EXAMPLES[name];
        }
      }
    }
  }
  return collapseEnums(document) as Json;
}

/** The mark in the page's top bar. */
const LOGO_SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="180" height="40" viewBox="0 0 180 40"><rect x="2" y="6" width="28" height="28" rx="6" fill="#62a03f"/><path d="M9 27V13l7 8 7-8v14" fill="none" stroke="#fff" stroke-width="3" stroke-linejoin="round"/><text x="40" y="29" font-family="system-ui,-apple-system,Segoe UI,sans-serif" font-size="24" font-weight="700" fill="#fff">Muster</text></svg>`;
const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#62a03f"/><path d="M8 24V9l8 9 8-9v15" fill="none" stroke="#fff" stroke-width="3.5" stroke-linejoin="round"/></svg>`;

/**
 * The OpenAPI 3.1 document is generated from the route schemas at start-up and served at
 * `/openapi.json`; `/docs` serves Swagger UI from the package's own files (no CDN), under a
 * Content-Security-Policy that works on any address: the package's default ends in
 * `upgrade-insecure-requests`, which makes a browser fetch the page's own scripts over HTTPS
 * and leaves the page blank wherever Muster is reached over plain HTTP (anything but localhost).
 * `GET /` leads a person to the console when one is served, else to these docs.
 */
export async function registerOpenApi(app: FastifyInstance, version: string): Promise<void> {
  await app.register(swagger, {
    transformObject: (document) => ('openapiObject' in document ? finishDocument(document.openapiObject as Json) : document.swaggerObject),
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Muster',
        version,
        description: 'User provisioning: create accounts one at a time, a thousand per request, or a million per import.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'An API key token (`mst_…`) or MUSTER_ADMIN_TOKEN.' },
          basic: { type: 'http', scheme: 'basic', description: 'The API key id as user name and its token as password.' },
        },
      },
      security: [{ bearer: [] }, { basic: [] }],
      tags: [
        { name: 'native', description: 'The native /v1 API: tenants, API keys, roles, catalogs, users, email, audit. JSON in and out; errors are application/problem+json with a stable code.' },
        {
          name: 'imports',
          description:
            'Import jobs: upload CSV, NDJSON or a JSON array of any size (POST …/imports answers 202 once every row is stored), follow the job, read its failed rows (each with the original row), cancel it; export a tenant\'s users in the same formats.',
        },
        { name: 'system', description: 'Health and documentation.' },
        { name: 'batch', description: 'Compatibility dialect for seed 000: POST /users with up to 1000 records and a success/failure report.' },
        { name: 'account', description: 'Compatibility dialect for seed 001: POST /api/account/{accountId}/configuration/le-users/users?v=4.0.' },
        { name: 'provisioning', description: 'Compatibility dialect for seed 002: POST /provisioning/users.svc/.' },
        { name: 'app', description: 'Compatibility dialect for seed 003: POST /{appKey}/users.' },
        { name: 'simple', description: 'Compatibility dialect for seed 004: POST /users with firstName, lastName and contactEmail.' },
        {
          name: 'scim',
          description:
            'SCIM 2.0 service provider (RFC 7643/7644) at /scim/v2 for Okta, Microsoft Entra ID and other directory clients: Users, Groups (roles), Bulk, discovery. Bodies and answers are application/scim+json.',
        },
      ],
    },
  });
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    staticCSP: true,
    transformStaticCSP: (header) => header.replace(/\s*upgrade-insecure-requests;?/g, ''),
    theme: {
      title: 'Muster API',
      favicon: [{ filename: 'favicon.svg', rel: 'icon', type: 'image/svg+xml', sizes: 'any', content: FAVICON_SVG }],
    },
    logo: { type: 'image/svg+xml', content: LOGO_SVG, href: '/docs', target: '_self' },
    uiConfig: { docExpansion: 'list', deepLinking: true, tryItOutEnabled: false, persistAuthorization: false, displayRequestDuration: true },
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  // hasRoute names a route as registered (`/console`, `/console/*`), not a URL it would match.
  const consoleServed = () => ['/console', '/console/', '/console/*'].some((url) => app.hasRoute({ method: 'GET', url }));
  app.get('/', { schema: { hide: true } }, async (_request, reply) => reply.redirect(consoleServed() ? '/console/' : '/docs', 302));
}
