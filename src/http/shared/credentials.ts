import type { FastifyRequest } from 'fastify';
import type { PresentedCredential } from '../../core/credentials/api-keys.js';

/** The credential in `Authorization` (Bearer, or Basic as `id:token`), if any is well-formed. */
export function presentedCredential(request: FastifyRequest): PresentedCredential | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const space = header.indexOf(' ');
  if (space < 0) return undefined;
  const scheme = header.slice(0, space).toLowerCase();
  const value = header.slice(space + 1).trim();
  if (scheme === 'bearer' && value) return { kind: 'bearer', token: value };
  if (scheme === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) return { kind: 'basic', user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  return undefined;
}

export const WWW_AUTHENTICATE = 'Bearer realm="muster", Basic realm="muster", charset="UTF-8"';
