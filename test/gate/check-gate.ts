/**
 * The test gate's own test: runs a deliberately failing test under the suite's configuration
 * (global setup included) and fails unless the runner exits non-zero. `npm test` runs it
 * before the suite, so a green run can only mean that the tests passed.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const run = spawnSync(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', '--config', 'test/gate/vitest.config.ts'], {
  cwd: root,
  encoding: 'utf8',
  env: { ...process.env, FORCE_COLOR: '0' },
});
if (run.error) throw run.error;
const output = `${run.stdout}\n${run.stderr}`;
if (run.status === 0 || run.status === null || !/1 failed/.test(output)) {
  console.error(output);
  console.error(`test gate: a failing test made the runner exit with ${run.status} (${run.signal ?? 'no signal'}); it must exit non-zero`);
  process.exit(1);
}
console.log(`test gate: a deliberately failing test makes the runner exit ${run.status}, as it must`);
