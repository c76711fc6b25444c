import { expect, test } from 'vitest';

// Run only by check-gate.ts: the test runner must report this failure with a non-zero exit.
test('a deliberately failing test', () => {
  expect(1).toBe(2);
});
