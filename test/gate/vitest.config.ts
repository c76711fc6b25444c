import { defineConfig } from 'vitest/config';
import base from '../../vitest.config.js';

/**
 * The gate check's run: the suite's own configuration (its global setup starts PostgreSQL, as
 * in every real run) with one test that must fail. See check-gate.ts.
 */
export default defineConfig({
  ...base,
  test: { ...base.test, include: ['test/gate/must-fail.check.ts'] },
});
