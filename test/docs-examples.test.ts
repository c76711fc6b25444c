/**
 * Every operation of /openapi.json, sent as "Try it out" in /docs sends it: its body example,
 * its parameter examples, with the admin token. Each answers 2xx on a fresh server, taken in
 * the order a person works down the page (create, read, change, delete). Only what an example
 * cannot know is filled in: the id of something an earlier example created, the tenant's
 * generated app key, and an invitation's code (which only its email holds).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES } from './helpers/databases.js';
import { startTestApp, type TestApp } from './helpers/test-app.js';

interface Operation {
  method: string;
  path: string;
  operation: any;
}

/** Where each operation comes in the walk down the page. */
function phase({ method, path }: Operation): number {
  if (method === 'POST' && path === '/v1/tenants') return 0;
  if (method === 'PUT' && path.startsWith('/v1/')) return 1;
  if (method === 'PATCH' && path === '/v1/tenants/{tenant}') return 1;
  if (method === 'POST' && path.endsWith('/api-keys')) return 1;
  if (method === 'POST' && path.endsWith('/invitation')) return 2.5;
  if (method === 'POST' && (path.endsWith('/credentials/verify') || path === '/v1/invitations/accept')) return 3;
  if (method === 'POST') return 2;
  if (method === 'GET') return 4;
  if (method === 'PATCH' || method === 'PUT') return 5;
  return 6;
}

const INVITATION_CODE = /inv_[A-Za-z0-9_-]{43}/;

describe.each(DATABASES)('the examples of /docs, sent as shown, on %s', (kind) => {
  let t: TestApp;
  let document: any;
  beforeAll(async () => {
    t = await startTestApp(kind);
    document = (await t.call('GET', '/openapi.json', { token: null })).body;
  });
  afterAll(async () => t?.close());

  it('describes every tag an operation uses, and writes a union of values as one enum', () => {
    const described = new Map<string, string>((document.tags as { name: string; description?: string }[]).map((tag) => [tag.name, tag.description ?? '']));
    const used = new Set<string>();
    for (const operations of Object.values<any>(document.paths)) for (const operation of Object.values<any>(operations)) for (const tag of operation.tags ?? []) used.add(tag);
    expect([...used].filter((tag) => !described.get(tag))).toEqual([]);
    // TypeBox writes a union of literals as anyOf of single values, which Swagger UI shows as `string | (string | string)`.
    const unions: string[] = [];
    const walk = (node: unknown, at: string): void => {
      if (Array.isArray(node)) return node.forEach((n, i) => walk(n, `${at}/${i}`));
      if (typeof node !== 'object' || node === null) return;
      const anyOf = (node as { anyOf?: any[] }).anyOf;
      if (anyOf && anyOf.length > 1 && anyOf.every((s) => s && (s.const !== undefined || s.enum?.length === 1))) unions.push(at);
      for (const [key, value] of Object.entries(node)) walk(value, `${at}/${key}`);
    };
    walk(document.paths, '#/paths');
    expect(unions).toEqual([]);
    const onConflict = document.paths['/v1/tenants/{tenant}/imports'].post.parameters.find((p: any) => p.name === 'onConflict');
    expect(onConflict.schema).toMatchObject({ type: 'string', enum: ['fail', 'skip', 'update'] });
  });

  it('gives every operation that takes a body an example of it', () => {
    const missing: string[] = [];
    for (const [path, operations] of Object.entries<any>(document.paths)) {
      for (const [method, operation] of Object.entries<any>(operations)) {
        const content = operation.requestBody?.content;
        const answers = Object.keys(operation.responses ?? {}).some((status) => /^2/.test(status));
        if (answers && content && !Object.values<any>(content).some((media) => media.example !== undefined)) missing.push(`${method.toUpperCase()} ${path}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('answers every example with a 2xx', async () => {
    const operations: Operation[] = Object.entries<any>(document.paths).flatMap(([path, methods]) =>
      Object.entries<any>(methods).map(([method, operation]) => ({ method: method.toUpperCase(), path, operation })),
    );
    operations.sort((a, b) => phase(a) - phase(b));
    const created: Record<string, string> = {};
    const failures: string[] = [];

    for (const op of operations) {
      const { method, path, operation } = op;
      // An operation documented to answer only an error (SCIM's /Me, say) has no example to send.
      if (!Object.keys(operation.responses ?? {}).some((status) => /^2/.test(status))) continue;
      const parameters: any[] = operation.parameters ?? [];
      const idFor = async (name: string): Promise<string | undefined> => {
        if (name === 'appKey') return (await t.call('GET', '/v1/tenants/default')).body.appKey;
        if (name !== 'id') return undefined;
        // An invitation is for a user without a password: one the batch example created.
        if (path.endsWith('/{id}/invitation')) return (await t.call('GET', '/v1/tenants/default/users?email=grace@example.com')).body.users[0]?.id;
        const base = path.slice(0, path.lastIndexOf('/{id}'));
        return created[base];
      };
      let url = path;
      for (const match of path.matchAll(/\{(\w+)\}/g)) {
        const name = match[1]!;
        const value = parameters.find((p) => p.in === 'path' && p.name === name)?.example ?? (await idFor(name));
        if (value === undefined) {
          failures.push(`${method} ${path}: nothing to fill {${name}} with`);
          url = '';
          break;
        }
        url = url.replace(`{${name}}`, encodeURIComponent(String(value)));
      }
      if (url === '') continue;
      const query = new URLSearchParams();
      const headers: Record<string, string> = {};
      for (const p of parameters) {
        if (!p.required || p.example === undefined || p.in === 'path') continue;
        if (p.in === 'query') query.set(p.name, String(p.example));
        if (p.in === 'header') headers[p.name] = String(p.example);
      }
      let raw: string | undefined;
      const content = operation.requestBody?.content as Record<string, any> | undefined;
      if (content) {
        const [mediaType, media] = Object.entries(content)[0]!;
        let example = media.example;
        if (path === '/v1/invitations/accept') {
          // The code is in the invitation email; the example can only say where to find it.
          const messages = (await t.call('GET', '/v1/tenants/default/messages')).body.messages as { text: string }[];
          const code = messages.map((m) => INVITATION_CODE.exec(m.text)?.[0]).find(Boolean);
          example = { ...example, token: code };
        }
        raw = typeof example === 'string' ? example : JSON.stringify(example);
        headers['content-type'] = mediaType;
      }
      const res = await t.call(method, `${url}${query.size > 0 ? `?${query}` : ''}`, { raw, headers });
      if (res.status < 200 || res.status > 299) {
        failures.push(`${method} ${url} → ${res.status} ${res.text.slice(0, 300)}`);
        continue;
      }
      // What later examples need: the id of what this one created.
      const id = res.body?.id;
      if (method === 'POST' && typeof id === 'string') created[path] ??= id;
      if (method === 'POST' && path.endsWith('/users/batch') === false && Array.isArray(res.body?.users)) created[path] ??= res.body.users[0]?.id;
    }
    expect(failures).toEqual([]);
    // The walk created the users the examples describe.
    const grace = await t.call('GET', '/v1/tenants/default/users?email=grace@example.com');
    expect(grace.body.users).toHaveLength(1);
    const ada = await t.call('GET', '/v1/tenants/default/users?email=ada@example.com');
    expect(ada.body.users).toHaveLength(0); // deleted by the DELETE example at the end
  });
});
