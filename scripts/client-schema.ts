/**
 * The typed client's schema: the OpenAPI document that the current routes produce, turned into
 * TypeScript types by openapi-typescript. `npm run build` writes it to src/client/schema.ts; a test
 * fails when the committed file differs from what the routes generate now.
 */
import openapiTS, { astToString } from 'openapi-typescript';
import { buildApp } from '../src/app.js';
import { createDependencies } from '../src/dependencies.js';
import { openDatabase } from '../src/storage/database.js';

export const SCHEMA_FILE = new URL('../src/client/schema.ts', import.meta.url);

const HEADER = `/**
 * Generated from Muster's /openapi.json by \`npm run build:client\` (scripts/generate-client.ts).
 * Do not edit: change the route schemas and regenerate.
 */

`;

/** The OpenAPI document of the routes as they are now (an app built in-process, never listening). */
export async function currentOpenApiDocument(): Promise<Record<string, unknown>> {
  const db = openDatabase('sqlite::memory:');
  try {
    const app = await buildApp({ core: createDependencies(db), rateLimitPerMinute: 60, rootUsers: 'simple', version: '0.0.0' });
    await app.ready();
    const doc = app.swagger() as unknown as Record<string, unknown>;
    await app.close();
    return doc;
  } finally {
    await db.close();
  }
}

/** The TypeScript source of src/client/schema.ts for the current routes. */
export async function generateClientSchema(): Promise<string> {
  const doc = await currentOpenApiDocument();
  const ast = await openapiTS(doc as never, { alphabetize: true });
  return HEADER + astToString(ast);
}
