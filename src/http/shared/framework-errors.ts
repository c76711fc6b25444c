import type { FastifyError } from 'fastify';
import { DomainError, isDomainError } from '../../core/errors.js';
import { toFieldErrors, type SchemaViolation } from '../../core/validation.js';

/**
 * Turns whatever reached an error handler into a domain error: the core's own errors pass
 * through; the framework's (bad JSON, wrong media type, body too large, query validation)
 * become their codes; anything else is SERVER_ERROR, with no internals in the message.
 */
export function toDomainError(error: unknown): DomainError {
  if (isDomainError(error)) return error;
  const e = error as FastifyError & { validation?: SchemaViolation[] };
  if (e?.validation) {
    const errors = toFieldErrors(e.validation);
    const first = errors[0];
    return new DomainError(first?.code ?? 'INVALID_FIELD', first?.message ?? 'The request is invalid.', errors);
  }
  switch (e?.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new DomainError('UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json.');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new DomainError('PAYLOAD_TOO_LARGE', 'The request body is larger than this server accepts.');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new DomainError('MALFORMED_JSON', 'The body is empty but Content-Type says JSON.');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new DomainError('MALFORMED_JSON', 'The body is not valid JSON.');
  }
  // A full disk (SQLite's SQLITE_FULL, PostgreSQL's disk_full): the write was refused whole, and
  // the next one succeeds once space is freed. Said so, rather than as a server error.
  if (e?.code === 'SQLITE_FULL' || e?.code === '53100') return new DomainError('INSUFFICIENT_STORAGE', 'The database has no room left to write; nothing was written. Try again once space has been freed.');
  if (e instanceof SyntaxError || e?.statusCode === 400) return new DomainError('MALFORMED_JSON', 'The body is not valid JSON.');
  if (e?.statusCode === 413) return new DomainError('PAYLOAD_TOO_LARGE', 'The request body is larger than this server accepts.');
  if (e?.statusCode === 415) return new DomainError('UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json.');
  if (e?.statusCode === 404) return new DomainError('NOT_FOUND', 'No such resource.');
  return new DomainError('SERVER_ERROR', 'Something went wrong on our side. The request id identifies it in the logs.');
}
