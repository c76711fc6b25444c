import { Ajv, type ValidateFunction } from 'ajv';
import formats from 'ajv-formats';
import type { FastifyInstance } from 'fastify';

/** What a response was checked against, and what was wrong with it. */
export interface SchemaCheck {
  ok: boolean;
  problem?: string;
}

/**
 * Validates response bodies against the response schemas the application documents in its
 * OpenAPI document (the same objects the routes declare), per path, method and status. A
 * status the route does not document is itself a failure.
 */
export class ResponseSchemas {
  private readonly ajv: Ajv;
  private readonly compiled = new Map<string, ValidateFunction | null>();
  readonly doc: any;

  constructor(app: FastifyInstance) {
    this.doc = (app as unknown as { swagger(): unknown }).swagger();
    this.ajv = new Ajv({ strict: false, allErrors: false, validateFormats: true });
    (formats as unknown as { default: (a: Ajv) => void }).default(this.ajv);
  }

  /** The validator for one documented response, or null when the route documents no such status. */
  private validator(path: string, method: string, status: number): ValidateFunction | null {
    const key = `${method} ${path} ${status}`;
    if (!this.compiled.has(key)) {
      const operation = this.doc.paths?.[path]?.[method.toLowerCase()];
      if (!operation) throw new Error(`${method} ${path} is not in the OpenAPI document`);
      const response = operation.responses?.[String(status)];
      const content = response?.content as Record<string, { schema?: unknown }> | undefined;
      const schema = content?.['application/json']?.schema ?? (content ? Object.values(content)[0]?.schema : undefined);
      if (!response) this.compiled.set(key, null);
      else this.compiled.set(key, this.ajv.compile({ ...(schema ?? {}), components: this.doc.components }));
    }
    return this.compiled.get(key)!;
  }

  /** Whether `body` (already parsed) is what `path`'s documentation says a `status` answer holds. */
  check(path: string, method: string, status: number, body: unknown): SchemaCheck {
    const validate = this.validator(path, method, status);
    if (validate === null) return { ok: false, problem: `status ${status} is not documented for ${method} ${path}` };
    if (status === 204) return body === undefined ? { ok: true } : { ok: false, problem: '204 with a body' };
    if (validate(body)) return { ok: true };
    return { ok: false, problem: this.ajv.errorsText(validate.errors) };
  }
}
