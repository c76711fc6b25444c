import { DomainError, fieldError, type FieldError } from './errors.js';

/**
 * NUL (U+0000) is refused in every string Muster is given: PostgreSQL cannot store it in
 * text, and on SQLite it would cut strings short in other tools. One rule for both databases
 * and every API: a NUL is INVALID_FIELD, reported at the field that carries it.
 */
const NUL = '\u0000';

/** The most fields reported for one value: enough to name the problem, never a flood. */
const MAX_REPORTED = 20;

function join(parent: string, child: string): string {
  return parent ? `${parent}.${child}` : child;
}

/**
 * The fields of `value` (strings, object keys and their values, array items, at any depth)
 * that contain NUL, as dotted paths below `prefix`. Walks with its own stack, so that no
 * nesting depth can overflow the call stack.
 */
export function fieldsWithNul(value: unknown, prefix = ''): string[] {
  // Almost every value carries no NUL: that is answered without building a path per field.
  if (!carriesNul(value)) return [];
  const found: string[] = [];
  const stack: [unknown, string][] = [[value, prefix]];
  while (stack.length > 0 && found.length < MAX_REPORTED) {
    const [current, at] = stack.pop()!;
    if (typeof current === 'string') {
      if (current.includes(NUL)) found.push(at);
    } else if (Array.isArray(current)) {
      for (let i = current.length - 1; i >= 0; i--) stack.push([current[i], join(at, String(i))]);
    } else if (typeof current === 'object' && current !== null) {
      const entries = Object.entries(current);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, item] = entries[i]!;
        if (key.includes(NUL)) found.push(join(at, key.replaceAll(NUL, '\\u0000')));
        else stack.push([item, join(at, key)]);
      }
    }
  }
  return found;
}

/** Whether any string or key of `value`, at any depth, contains NUL; walks with its own stack. */
function carriesNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes(NUL);
  if (typeof value !== 'object' || value === null) return false;
  const stack: object[] = [value];
  while (stack.length > 0) {
    const current = stack.pop()!;
    if (Array.isArray(current)) {
      for (const item of current) {
        if (typeof item === 'string') {
          if (item.includes(NUL)) return true;
        } else if (typeof item === 'object' && item !== null) stack.push(item);
      }
      continue;
    }
    for (const key in current) {
      if (!Object.hasOwn(current, key)) continue;
      if (key.includes(NUL)) return true;
      const item = (current as Record<string, unknown>)[key];
      if (typeof item === 'string') {
        if (item.includes(NUL)) return true;
      } else if (typeof item === 'object' && item !== null) stack.push(item);
    }
  }
  return false;
}

/** One INVALID_FIELD per field carrying NUL. */
export function nulFieldErrors(fields: readonly string[]): FieldError[] {
  return fields.map((field) => fieldError(field || 'value', 'INVALID_FIELD', `${field || 'value'} must not contain the NUL character (U+0000).`));
}

/** Throws INVALID_FIELD when `value` carries NUL anywhere; `prefix` names where it sits. */
export function refuseNul(value: unknown, prefix = ''): void {
  const fields = fieldsWithNul(value, prefix);
  if (fields.length === 0) return;
  const errors = nulFieldErrors(fields);
  throw new DomainError('INVALID_FIELD', errors[0]!.message, errors);
}

/** `text` with each NUL shown as U+FFFD: for reports that quote what a client sent (an import row's email). */
export function withoutNul(text: string): string;
export function withoutNul(text: string | null): string | null;
export function withoutNul(text: string | null): string | null {
  return text === null ? null : text.replaceAll('\u0000', '\uFFFD');
}
