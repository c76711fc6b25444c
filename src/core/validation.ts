import { Compile } from 'typebox/compile';
import { Format } from 'typebox/format';
import Type, { type TSchema, type Static } from 'typebox';
import validator from 'validator';
import { fieldError, type FieldError } from './errors.js';

/**
 * The common shape of an address — ASCII letters, digits, `_`, `+`, `-` and single dots before
 * the `@`; hostname labels and a letters-only TLD after it — which validator.js accepts
 * whenever the local part is at most 64 characters and the whole at most 254: a subset of its
 * rule, checked with one regular expression. Anything else goes through validator.js itself.
 */
const COMMON_EMAIL = /^[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$/;

export function isCommonEmail(value: string): boolean {
  return value.length <= 254 && value.indexOf('@') <= 64 && COMMON_EMAIL.test(value);
}

// One definition of a valid email address for the whole service: validator.js's, which
// follows RFC 5321/5322 for practical addresses (no quoted local parts, no IP literals).
// validator.js throws (URIError) on a string with a lone surrogate: that is no address either.
Format.Set('email', (value) => {
  if (isCommonEmail(value)) return true;
  try {
    return validator.isEmail(value, { allow_ip_domain: false, require_tld: true });
  } catch {
    return false;
  }
});

/**
 * A string with no control characters (C0, DEL, C1): for free-text settings such as names
 * and descriptions, which are stored as they are and which PostgreSQL cannot store with NUL.
 */
export const NO_CONTROL_CHARACTERS = '^[^\\u0000-\\u001F\\u007F-\\u009F]*$';

export function PlainText(options: { minLength?: number; maxLength: number; description?: string }) {
  return Type.String({ ...options, pattern: NO_CONTROL_CHARACTERS });
}

/** The shape both TypeBox and Ajv give a schema violation. */
export interface SchemaViolation {
  keyword: string;
  instancePath: string;
  schemaPath?: string | undefined;
  params: Record<string, unknown>;
  message?: string | undefined;
}

function pointerToField(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .join('.');
}

function join(parent: string, child: string): string {
  return parent ? `${parent}.${child}` : child;
}

/**
 * Turns schema violations into field errors: a missing property is MISSING_REQUIRED_FIELD,
 * anything else INVALID_FIELD. `prefix` names where the validated value sits.
 */
export function toFieldErrors(violations: readonly SchemaViolation[], prefix = ''): FieldError[] {
  const seen = new Set<string>();
  const out: FieldError[] = [];
  for (const v of violations) {
    const at = join(prefix, pointerToField(v.instancePath));
    let error: FieldError;
    // TypeBox reports an unknown property twice: as `additionalProperties` on the object and
    // as a `false` schema on the property; the first says it better.
    if (v.keyword === 'boolean' && v.schemaPath?.endsWith('/additionalProperties')) continue;
    if (v.keyword === 'required') {
      const missing = (v.params.requiredProperties as string[] | undefined) ?? [String(v.params.missingProperty ?? '')];
      for (const name of missing) {
        const field = join(at, name);
        if (!seen.has(field)) {
          seen.add(field);
          out.push(fieldError(field, 'MISSING_REQUIRED_FIELD', `${field} is required.`));
        }
      }
      continue;
    } else if (v.keyword === 'additionalProperties') {
      const names = (v.params.additionalProperties as string[] | string | undefined) ?? [];
      const name = Array.isArray(names) ? names[0] : names;
      const field = join(at, String(name ?? ''));
      error = fieldError(field, 'INVALID_FIELD', `${field} is not a known field.`);
    } else if (v.keyword === 'pattern' && v.params.pattern === NO_CONTROL_CHARACTERS) {
      error = fieldError(at, 'INVALID_FIELD', `${at || 'value'} must not contain control characters.`);
    } else if (v.keyword === 'format' && v.params.format === 'email') {
      error = fieldError(at, 'INVALID_FIELD', `${at || 'value'} must be a valid email address.`);
    } else {
      error = fieldError(at, 'INVALID_FIELD', `${at || 'value'} ${v.message ?? 'is invalid'}.`);
    }
    if (!seen.has(error.field)) {
      seen.add(error.field);
      out.push(error);
    }
  }
  return out;
}

/** A compiled validator for one schema that reports field errors. */
export function compileValidator<T extends TSchema>(schema: T) {
  const compiled = Compile(schema);
  return (value: unknown, prefix = ''): { ok: true; value: Static<T> } | { ok: false; errors: FieldError[] } => {
    if (compiled.Check(value)) return { ok: true, value: value as Static<T> };
    return { ok: false, errors: toFieldErrors(compiled.Errors(value) as SchemaViolation[], prefix) };
  };
}
