import { isUtf8 } from 'node:buffer';
import type { FastifyInstance } from 'fastify';
import { parse as secureJsonParse } from 'secure-json-parse';
import { DomainError } from '../../core/errors.js';

/**
 * The deepest nesting of arrays and objects a request body may have. Muster's deepest
 * documented body (a batch of users with a name object) is 4 levels; 32 leaves room for any
 * client while keeping a body of a million `[` from reaching recursive code.
 */
export const MAX_JSON_DEPTH = 32;

/** Whether the JSON text nests arrays and objects deeper than `max`; strings are skipped. One pass, no recursion. */
export function jsonDepthExceeds(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // a backslash escapes the next character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

function malformed(message: string): DomainError {
  return new DomainError('MALFORMED_JSON', message);
}

/**
 * Replaces Fastify's JSON body parser with a stricter one: the body must be UTF-8 (RFC 8259
 * §8.1), nest at most `maxDepth` levels, and carry no `__proto__` or `constructor.prototype`
 * keys (secure-json-parse refuses them, as Fastify's own parser does). Every refusal is
 * MALFORMED_JSON, never a server error.
 */
export function registerJsonBodyParser(app: FastifyInstance, maxDepth = MAX_JSON_DEPTH, contentType = 'application/json'): void {
  // `contentType` lets a scope parse its own JSON media type (SCIM's application/scim+json) the same way.
  if (app.hasContentTypeParser(contentType)) app.removeContentTypeParser(contentType);
  app.addContentTypeParser(contentType, { parseAs: 'buffer' }, (_request, body, done) => {
    const bytes = body as Buffer;
    if (bytes.length === 0) return done(malformed('The body is empty but Content-Type says JSON.'), undefined);
    if (!isUtf8(bytes)) return done(malformed('The body is not valid UTF-8.'), undefined);
    const text = bytes.toString('utf8');
    if (jsonDepthExceeds(text, maxDepth)) return done(malformed(`The body nests deeper than ${maxDepth} levels.`), undefined);
    try {
      done(null, secureJsonParse(text, undefined, { protoAction: 'error', constructorAction: 'error' }));
    } catch {
      done(malformed('The body is not valid JSON.'), undefined);
    }
  });
}
