import type { TestProject } from 'vitest/node';
import { startPostgres } from './helpers/postgres-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    postgresAdminUrl: string;
  }
}

/**
 * Starts one throwaway PostgreSQL server for the whole run; each test file makes its own
 * database on it. It is stopped and its directory removed when the run ends.
 */
export default async function setup(project: TestProject) {
  const server = await startPostgres();
  project.provide('postgresAdminUrl', server.adminUrl);
  return () => server.stop();
}
