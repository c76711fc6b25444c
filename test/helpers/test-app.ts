import type { FastifyInstance } from 'fastify';
import { buildApp, type AppOptions } from '../../src/app.js';
import type { CoreDeps } from '../../src/core/ports.js';
import { createDependencies, prepareDatabase } from '../../src/dependencies.js';
import type { Db, DialectName } from '../../src/storage/database.js';
import { createTestDatabase, type TestDatabase } from './databases.js';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

export interface TestApp {
  app: FastifyInstance;
  /** http://127.0.0.1:PORT of the running server. */
  baseUrl: string;
  db: Db;
  database: TestDatabase;
  core: CoreDeps;
  /** fetch against the running server; JSON bodies are sent as JSON; `token` defaults to the admin token. */
  call(method: string, path: string, options?: CallOptions): Promise<CallResult>;
  close(): Promise<void>;
}

export interface CallOptions {
  body?: unknown;
  /** A bearer token, `null` for no credential at all. */
  token?: string | null;
  headers?: Record<string, string>;
  /** Send this exact text as the body. */
  raw?: string;
}

export interface CallResult {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

/** Starts the real application on a real database and a real loopback port. */
export async function startTestApp(kind: DialectName, options: Partial<Omit<AppOptions, 'core'>> = {}): Promise<TestApp> {
  const database = await createTestDatabase(kind);
  const db = database.open();
  const core = createDependencies(db);
  await prepareDatabase(db, core);
  const app = await buildApp({ core, adminToken: ADMIN_TOKEN, rateLimitPerMinute: 100_000, rootUsers: 'simple', ...options });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as { port: number };
  const baseUrl = `http://127.0.0.1:${port}`;
  return {
    app,
    baseUrl,
    db,
    database,
    core,
    call: (method, path, opts = {}) => call(baseUrl, method, path, opts),
    async close() {
      await app.close();
      await db.close();
      await database.drop();
    },
  };
}

export async function call(baseUrl: string, method: string, path: string, options: CallOptions = {}): Promise<CallResult> {
  const headers: Record<string, string> = { ...options.headers };
  const token = options.token === undefined ? ADMIN_TOKEN : options.token;
  if (token !== null && !('authorization' in headers)) headers.authorization = `Bearer ${token}`;
  let body: string | undefined = options.raw;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const response = await fetch(`${baseUrl}${path}`, { method, headers, body });
  const text = await response.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: response.status, headers: response.headers, body: parsed, text };
}
