import { expect } from 'vitest';
import { ADMIN_TOKEN, call, type CallResult } from './test-app.js';
import { WAIT_DEADLINE_MS } from './wait.js';

/** The email of generated row `row` (1-based) of an upload. */
export function emailOf(row: number, prefix = 'user'): string {
  return `${prefix}${row}@example.com`;
}

/** A CSV of `count` users; `override(row)` may replace a row's line (its fields after the header). */
export function generateCsv(count: number, override: (row: number) => string | undefined = () => undefined, prefix = 'user'): string {
  const lines = ['email,givenName,familyName,roles,lockedOut'];
  for (let row = 1; row <= count; row++) lines.push(override(row) ?? `${emailOf(row, prefix)},Given${row},Family ${row},,false`);
  return `${lines.join('\n')}\n`;
}

/** An NDJSON upload of `count` plain users. */
export function generateNdjson(count: number, prefix = 'user'): string {
  let text = '';
  for (let row = 1; row <= count; row++) text += `${JSON.stringify({ email: emailOf(row, prefix), name: { givenName: `Given${row}` } })}\n`;
  return text;
}

export interface UploadOptions {
  contentType?: string;
  query?: string;
  /** A bearer token; null sends no credential. */
  token?: string | null;
  headers?: Record<string, string>;
}

/** POSTs an upload to a tenant's imports. */
export function upload(baseUrl: string, tenant: string, body: string, options: UploadOptions = {}): Promise<CallResult> {
  return call(baseUrl, 'POST', `/v1/tenants/${tenant}/imports${options.query ?? ''}`, {
    raw: body,
    token: options.token === undefined ? ADMIN_TOKEN : options.token,
    headers: { 'content-type': options.contentType ?? 'text/csv', ...options.headers },
  });
}

/**
 * One poll, tried again when the connection was reset: the server under test may close an
 * idle keep-alive connection just as the client reuses it.
 */
async function poll<T>(request: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await request();
    } catch (error) {
      if (attempt >= 3) throw error;
    }
  }
}

/** Polls a job until `done(job)` holds (by default: it has ended), failing after `timeoutMs`. */
export async function waitForJob(
  baseUrl: string,
  location: string,
  done: (job: any) => boolean = (job) => ['completed', 'cancelled', 'failed'].includes(job.state),
  timeoutMs = WAIT_DEADLINE_MS,
  token = ADMIN_TOKEN,
): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await poll(() => call(baseUrl, 'GET', location, { token }));
    expect(res.status, res.text).toBe(200);
    if (done(res.body)) return res.body;
    if (Date.now() > deadline) throw new Error(`the import job did not get there in time: ${res.text}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The job's error report as parsed NDJSON lines. */
export async function errorLines(baseUrl: string, location: string, token = ADMIN_TOKEN): Promise<any[]> {
  const res = await call(baseUrl, 'GET', `${location}/errors`, { token });
  expect(res.status, res.text).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
  return res.text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line));
}
