import { Ajv } from 'ajv';
import formats from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';
import type { TSchema, TUnknown } from 'typebox';

/**
 * The one rule for request bodies, in every API: a route's body schema documents the contract
 * (OpenAPI, the typed client) and the handler receives the body as `unknown`; the core use case
 * (or the dialect's mapping into it) validates it. That is what lets a batch report every field
 * of every record instead of refusing the whole request at the first bad one, and it keeps a
 * single validation, with each API's own error format, for every body.
 */
const documented = new WeakSet<object>();

/**
 * A route's body schema: documented as `schema`, typed `unknown` for the handler and not
 * enforced by the framework. Every route with a body declares it through this function; a
 * route that does not fails when the app starts (see createValidatorCompiler).
 */
export function documentedBody(schema: TSchema): TUnknown {
  documented.add(schema);
  return schema as unknown as TUnknown;
}

/**
 * Route schemas validate params, query strings and headers here. Bodies are validated by the
 * core, not here (see `documentedBody`): a body schema that was not declared as documented is
 * a programming error, reported when the route is compiled.
 */
export function createValidatorCompiler(): FastifySchemaCompiler<unknown> {
  const ajv = new Ajv({ coerceTypes: 'array', useDefaults: true, removeAdditional: false, allErrors: true, strict: false });
  // ajv-formats is CommonJS: its function sits on `default` when imported from ESM.
  (formats as unknown as { default: (a: Ajv) => void }).default(ajv);
  return ({ schema, httpPart, method, url }) => {
    if (httpPart === 'body') {
      if (!documented.has(schema as object)) throw new Error(`${method} ${url}: declare the body schema with documentedBody(); the core validates bodies`);
      return (value: unknown) => ({ value });
    }
    const validate = ajv.compile(schema as object);
    return (value: unknown) => (validate(value) ? { value } : { error: Object.assign(new Error('invalid request'), { validation: validate.errors }) });
  };
}
