import 'fastify';
import type { UploadLimits } from '../../core/imports/start-import.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** MUSTER_PUBLIC_URL without a trailing slash, when set. */
    publicUrl: string | undefined;
    /** Per-tenant upload limits (MUSTER_IMPORT_UPLOADS_PER_TENANT, MUSTER_IMPORT_STAGED_BYTES_PER_TENANT). */
    uploadLimits: UploadLimits | undefined;
  }
}

/**
 * Where clients reach this service, for the absolute links it writes (SCIM `meta.location`,
 * `Location`, `documentationUri`): MUSTER_PUBLIC_URL when set, which behind a load balancer is
 * the only trustworthy answer; otherwise the scheme and host of the request itself (fine for
 * one instance reached directly, never trusted behind a proxy).
 */
export function publicBase(request: { protocol: string; host: string; server?: { publicUrl: string | undefined } }): string {
  return request.server?.publicUrl ?? `${request.protocol}://${request.host}`;
}
