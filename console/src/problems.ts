import type { Problem } from '../../src/client/index.js';

/** Any error body as a problem: its message, code and per-field errors. */
export function asProblem(error: unknown, status?: number): Problem {
  if (error && typeof error === 'object' && 'code' in error) return error as Problem;
  return { type: 'about:blank', title: 'Error', status: status ?? 500, code: 'SERVER_ERROR', detail: `Muster answered ${status ?? 'nothing'}.`, errors: [], requestId: '' };
}

/** The message of the problem's first error on this field (`name.givenName` also matches `givenName`). */
export function fieldMessage(problem: Problem | null, field: string): string | undefined {
  const found = problem?.errors?.find((e) => e.field === field || e.field?.endsWith(`.${field}`));
  return found?.message;
}

/** The problem's message for everything that is not tied to a field of the form. */
export function generalMessage(problem: Problem | null, fields: readonly string[]): string | undefined {
  if (!problem) return undefined;
  const unplaced = (problem.errors ?? []).filter((e) => !fields.some((f) => e.field === f || e.field?.endsWith(`.${f}`)));
  if (problem.errors && problem.errors.length > 0 && unplaced.length === 0) return undefined;
  return unplaced[0]?.message ?? problem.detail ?? problem.title;
}
