import { Ajv } from 'ajv';
import formats from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

/**
 * Route schemas validate params, query strings and headers here. Request bodies are
 * validated by the core (or by a dialect), which reports every field of every record of a
 * batch instead of refusing the whole request at the first bad one; a body schema on a route
 * documents the contract in OpenAPI and is not enforced a second time.
 */
export function createValidatorCompiler(): FastifySchemaCompiler<unknown> {
  const ajv = new Ajv({ coerceTypes: 'array', useDefaults: true, removeAdditional: false, allErrors: true, strict: false });
  // ajv-formats is CommonJS: its function sits on `default` when imported from ESM.
  (formats as unknown as { default: (a: Ajv) => void }).default(ajv);
  return ({ schema, httpPart }) => {
    if (httpPart === 'body') return (value: unknown) => ({ value });
    const validate = ajv.compile(schema as object);
    return (value: unknown) => (validate(value) ? { value } : { error: Object.assign(new Error('invalid request'), { validation: validate.errors }) });
  };
}
