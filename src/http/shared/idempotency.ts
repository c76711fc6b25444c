/**
 * The `Idempotency-Key` header for every create endpoint, native and dialects: registered once
 * on the root instance (its hooks reach every scope registered after it) and acting on the
 * routes that opt in with `config: { idempotency: true }`. The rules live in
 * core/idempotency; this file only reads the request and captures the response.
 *
 * - The fingerprint of a request is a SHA-256 of its method, its URL (path and query) and its
 *   parsed body. A route whose body is a stream (an upload) is fingerprinted by its method,
 *   URL, content type and length instead, since its body cannot be read twice.
 * - A response with a status below 500 is stored and replayed with its status, headers and
 *   body, plus `Idempotent-Replayed: true`. A 5xx (a server error, a busy hasher) is not
 *   stored: the key is given back and a retry runs afresh.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  finishIdempotentRequest,
  parseIdempotencyKey,
  startIdempotentRequest,
  type IdempotencyClaim,
  type IdempotencyDeps,
  type StoredResponse,
} from '../../core/idempotency/idempotency.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** This route creates something: it honours the Idempotency-Key header. */
    idempotency?: boolean;
  }
}

/** Headers that belong to one response on one connection, never replayed. */
const NOT_REPLAYED = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding', 'content-length', 'x-request-id', 'set-cookie', 'idempotent-replayed']);

function isStream(value: unknown): boolean {
  return typeof value === 'object' && value !== null && typeof (value as { pipe?: unknown }).pipe === 'function';
}

function fingerprintOf(request: FastifyRequest): string {
  const digest = createHash('sha256').update(request.method).update('\n').update(request.url).update('\n');
  if (isStream(request.body) || request.body === undefined) {
    digest.update(`stream:${request.headers['content-type'] ?? ''}:${request.headers['content-length'] ?? ''}`);
  } else {
    digest.update(JSON.stringify(request.body) ?? 'null');
  }
  return digest.digest('hex');
}

/**
 * Whose key this is: the credential, and the tenant the request names however it names it —
 * path parameters (`/v1/tenants/{tenant}`, `/{appKey}/users`, `/api/account/{accountId}`) and
 * the provisioning dialect's `AppKey` header. A global admin repeating one key in another
 * tenant runs afresh there instead of getting the first tenant's answer.
 */
function scopeOf(request: FastifyRequest, keyId: string): string {
  const named: string[] = [];
  const params = (request.params ?? {}) as Record<string, unknown>;
  for (const name of Object.keys(params).sort()) named.push(`${name}=${String(params[name])}`);
  const appKey = request.headers.appkey;
  if (appKey !== undefined && appKey !== '') named.push(`AppKey=${Array.isArray(appKey) ? appKey.join(',') : appKey}`);
  if (named.length === 0) return keyId;
  return `${keyId}|${createHash('sha256').update(named.join('\n')).digest('hex')}`;
}

function storable(reply: FastifyReply, payload: unknown): StoredResponse | undefined {
  if (reply.statusCode >= 500) return undefined;
  let body: string;
  if (typeof payload === 'string') body = payload;
  else if (Buffer.isBuffer(payload)) body = payload.toString('utf8');
  else if (payload === undefined || payload === null) body = '';
  else return undefined; // a stream: not kept
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(reply.getHeaders())) {
    const lower = name.toLowerCase();
    // Rate-limit counters describe the moment of each request, not the response.
    if (value === undefined || NOT_REPLAYED.has(lower) || lower.startsWith('x-ratelimit-') || lower.startsWith('ratelimit-')) continue;
    headers[lower] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return { status: reply.statusCode, headers, body };
}

export function registerIdempotency(app: FastifyInstance, deps: IdempotencyDeps): void {
  const claims = new WeakMap<FastifyRequest, IdempotencyClaim>();

  async function finish(request: FastifyRequest, response: StoredResponse | undefined): Promise<void> {
    const claim = claims.get(request);
    if (!claim) return;
    claims.delete(request);
    try {
      await finishIdempotentRequest(deps, claim, response);
    } catch (error) {
      // The response still goes out; the claim ends with its lease.
      request.log.error({ err: error }, 'could not record the idempotent response');
    }
  }

  // preHandler: after authentication (onRequest) and body parsing, before the route runs.
  app.addHook('preHandler', async (request, reply) => {
    if (request.routeOptions.config.idempotency !== true) return;
    const header = request.headers['idempotency-key'];
    // Only for authenticated routes: the key belongs to the credential.
    if (header === undefined || !request.actor) return;
    const key = parseIdempotencyKey(Array.isArray(header) ? header.join(',') : header);
    const start = await startIdempotentRequest(deps, { scope: scopeOf(request, request.actor.keyId), key, fingerprint: fingerprintOf(request) });
    if (start.kind === 'replay') {
      const { status, headers, body } = start.response;
      reply.code(status).headers(headers).header('idempotent-replayed', 'true');
      return reply.send(Buffer.from(body, 'utf8'));
    }
    claims.set(request, start.claim);
    return undefined;
  });

  app.addHook('onSend', async (request, reply, payload) => {
    if (claims.has(request)) await finish(request, storable(reply, payload));
    return payload;
  });

  // Whatever ended without passing through onSend gives its key back.
  app.addHook('onResponse', async (request) => finish(request, undefined));
}
