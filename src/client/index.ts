/**
 * The typed Muster client: openapi-fetch over types generated from Muster's own OpenAPI
 * document (src/client/schema.ts), so a call's path, parameters, body and answer are checked by
 * the TypeScript compiler.
 *
 *   import { createMusterClient } from 'muster/client';
 *   const muster = createMusterClient({ baseUrl: 'https://muster.example.com', token });
 *   const { data, error } = await muster.GET('/v1/tenants/{tenant}/users', { params: { path: { tenant: 'default' }, query: { limit: 50 } } });
 */
import createClient, { type Client, type ClientOptions } from 'openapi-fetch';
import type { paths } from './schema.js';

export type { paths, components } from './schema.js';

export type MusterClient = Client<paths>;

export interface MusterClientOptions extends Omit<ClientOptions, 'baseUrl'> {
  /** Where Muster answers, e.g. `https://muster.example.com`; '' for the page's own origin. */
  baseUrl: string;
  /** An API key token (or MUSTER_ADMIN_TOKEN), sent as `Authorization: Bearer`. */
  token?: string | undefined;
}

/** A client for one Muster server; every request carries the token when one is given. */
export function createMusterClient(options: MusterClientOptions): MusterClient {
  const { token, baseUrl, ...rest } = options;
  const client = createClient<paths>({ ...rest, baseUrl: baseUrl.replace(/\/+$/, '') });
  if (token) {
    client.use({
      onRequest({ request }) {
        request.headers.set('authorization', `Bearer ${token}`);
        return request;
      },
    });
  }
  return client;
}

type JsonOf<T> = T extends { content: { 'application/json': infer Body } } ? Body : never;

/** The JSON body of a path's method's answer with the given status. */
export type ResponseBody<Path extends keyof paths, Method extends keyof paths[Path], Status extends number> = paths[Path][Method] extends { responses: infer R }
  ? Status extends keyof R
    ? JsonOf<R[Status]>
    : never
  : never;

/** The JSON body a path's method takes. */
export type RequestBody<Path extends keyof paths, Method extends keyof paths[Path]> = paths[Path][Method] extends { requestBody?: infer B } ? JsonOf<NonNullable<B>> : never;

/** The native API's resources, as the routes answer them. */
export type User = ResponseBody<'/v1/tenants/{tenant}/users/{id}', 'get', 200>;
export type NewUser = RequestBody<'/v1/tenants/{tenant}/users', 'post'>;
export type UserChanges = RequestBody<'/v1/tenants/{tenant}/users/{id}', 'patch'>;
export type UserPage = ResponseBody<'/v1/tenants/{tenant}/users', 'get', 200>;
export type Tenant = ResponseBody<'/v1/tenants/{tenant}', 'get', 200>;
export type TenantSettings = RequestBody<'/v1/tenants/{tenant}', 'patch'>;
export type ApiKey = ResponseBody<'/v1/tenants/{tenant}/api-keys', 'get', 200>['keys'][number];
export type IssuedApiKey = ResponseBody<'/v1/tenants/{tenant}/api-keys', 'post', 201>;
export type Role = ResponseBody<'/v1/tenants/{tenant}/roles/{name}', 'get', 200>;
export type ImportJob = ResponseBody<'/v1/tenants/{tenant}/imports/{id}', 'get', 200>;
export type Session = ResponseBody<'/v1/session', 'get', 200>;
/** An RFC 9457 problem, as every native error answers. */
export type Problem = ResponseBody<'/v1/tenants/{tenant}/users', 'post', 409>;
