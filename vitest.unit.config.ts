import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

/**
 * The fast tier (`npm run test:unit`): the core's own tests (test/core-*.test.ts, test/core/) and the parsers, with no
 * PostgreSQL server and no HTTP server process. The whole suite is `npm test`.
 */
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    globalSetup: [],
    include: [
      'test/core-*.test.ts',
      'test/core/**/*.test.ts',
      'test/body-validation.test.ts',
      'test/poller.test.ts',
      'test/email-templates.test.ts',
      'test/import-uploads.test.ts',
      'test/supply-chain.test.ts',
    ],
  },
});
