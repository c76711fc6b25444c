import type { FieldError } from '../../core/errors.js';

/**
 * A field error with its field renamed to a dialect's own name. Core messages that begin
 * with the field's name ("email is required.") are renamed with it.
 */
export function renameField(error: FieldError, rename: (field: string) => string): FieldError {
  // A rename table looked up with a client's key (`toString`, `constructor`) can answer with
  // an inherited function instead of a name: such a field keeps its own name.
  const renamed: unknown = rename(error.field);
  const field = typeof renamed === 'string' ? renamed : error.field;
  const message = error.field && error.message.startsWith(`${error.field} `) ? `${field}${error.message.slice(error.field.length)}` : error.message;
  return { field, code: error.code, message };
}
