import type { FastifyRequest } from 'fastify';

/** An application key (the `app` dialect's path key, which is a credential) at the start of a path. */
const APP_KEY_IN_PATH = /^\/app_[A-Za-z0-9_-]+/;

/** The request's path and query as logged: an application key in the path is replaced. */
export function loggedUrl(url: string): string {
  return url.replace(APP_KEY_IN_PATH, '/app_[redacted]');
}

/**
 * What a request log line says of the request: Fastify's usual fields, with the URL passed
 * through `loggedUrl` so that the `app` dialect's key never reaches a log.
 */
export function serializeRequest(request: FastifyRequest): Record<string, unknown> {
  return {
    method: request.method,
    url: loggedUrl(request.url),
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
  };
}
