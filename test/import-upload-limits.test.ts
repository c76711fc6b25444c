/**
 * One tenant's uploads cannot stop the others: uploads streaming in at once and bytes staged
 * are limited per tenant, and a full database answers 507 INSUFFICIENT_STORAGE (never 500)
 * and recovers by itself once the upload that filled it is dropped. The full disk is
 * simulated with SQLite's `max_page_count`, which makes the file refuse to grow exactly as a
 * full disk does (SQLITE_FULL), without needing a small filesystem.
 */
import http from 'node:http';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { DATABASES } from './helpers/databases.js';
import { expectProblem } from './helpers/native-fixtures.js';
import { ADMIN_TOKEN, startTestApp, type TestApp } from './helpers/test-app.js';
import { WAIT_DEADLINE_MS } from './helpers/wait.js';

function csv(rows: number, prefix: string): string {
  const lines = ['email,givenName,familyName'];
  for (let row = 1; row <= rows; row++) lines.push(`${prefix}${row}@example.com,Given ${row},Family name number ${row}`);
  return `${lines.join('\n')}\n`;
}

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + WAIT_DEADLINE_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Starts an upload whose body is sent in parts: `finish()` sends the rest and resolves with the status. */
function streamingUpload(baseUrl: string, tenant: string, head: string): { finish(rest: string): Promise<number> } {
  const url = new URL(`${baseUrl}/v1/tenants/${tenant}/imports?notify=false`);
  let status!: Promise<number>;
  const request = http.request(url, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'text/csv', 'transfer-encoding': 'chunked' } });
  status = new Promise((resolve, reject) => {
    request.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    request.on('error', reject);
  });
  request.write(head);
  return {
    finish(rest) {
      request.end(rest);
      return status;
    },
  };
}

describe.each(DATABASES)('per-tenant upload limits on %s', (kind) => {
  let t: TestApp;
  afterEach(async () => {
    await t?.close();
  });

  const uploading = async (tenant: string) =>
    (await t.db.kysely.selectFrom('import_jobs').select('id').where('tenant_id', '=', tenant).where('state', '=', 'uploading').execute()).length;

  it('refuses a tenant’s upload past its concurrent uploads with 429 and Retry-After, while other tenants upload', async () => {
    t = await startTestApp(kind, { uploadLimits: { uploadsPerTenant: 1, stagedBytesPerTenant: 1024 ** 3 } });
    for (const id of ['busy', 'calm']) expect((await t.call('POST', '/v1/tenants', { body: { id } })).status).toBe(201);
    const first = streamingUpload(t.baseUrl, 'busy', 'email,givenName\nfirst1@example.com,First\n');
    await until('the first upload to stream in', async () => (await uploading('busy')) === 1);

    const second = await t.call('POST', '/v1/tenants/busy/imports?notify=false', { raw: csv(3, 'second'), headers: { 'content-type': 'text/csv' } });
    expectProblem(second, 429, 'RATE_LIMIT_EXCEEDED');
    expect(Number(second.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // Nothing of the refused upload stays behind.
    expect(await uploading('busy')).toBe(1);

    const other = await t.call('POST', '/v1/tenants/calm/imports?notify=false', { raw: csv(3, 'calm'), headers: { 'content-type': 'text/csv' } });
    expect(other.status, other.text).toBe(202);

    expect(await first.finish('first2@example.com,First\n')).toBe(202);
    const again = await t.call('POST', '/v1/tenants/busy/imports?notify=false', { raw: csv(3, 'again'), headers: { 'content-type': 'text/csv' } });
    expect(again.status, again.text).toBe(202);
  });

  it('refuses an upload that would stage more than the tenant’s bytes with 413, keeping nothing of it', async () => {
    t = await startTestApp(kind, { uploadLimits: { uploadsPerTenant: 2, stagedBytesPerTenant: 100_000 } });
    expect((await t.call('POST', '/v1/tenants', { body: { id: 'big' } })).status).toBe(201);
    const res = await t.call('POST', '/v1/tenants/big/imports?notify=false', { raw: csv(5000, 'big'), headers: { 'content-type': 'text/csv' } });
    const problem = expectProblem(res, 413, 'PAYLOAD_TOO_LARGE');
    expect(problem.detail).toContain('100000 bytes');
    const jobs = await t.db.kysely.selectFrom('import_jobs').select('id').where('tenant_id', '=', 'big').execute();
    expect(jobs).toEqual([]);
    expect(Number((await t.db.kysely.selectFrom('import_row_blocks').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n)).toBe(0);
    // A small one still fits.
    expect((await t.call('POST', '/v1/tenants/big/imports?notify=false', { raw: csv(20, 'small'), headers: { 'content-type': 'text/csv' } })).status).toBe(202);
  });
});

describe('a full database (SQLite max_page_count)', () => {
  let t: TestApp;
  afterEach(async () => {
    await t?.close();
  });

  const pages = async () => Number((await sql<{ page_count: number }>`pragma page_count`.execute(t.db.kysely)).rows[0]!.page_count);
  const limitPages = (n: number) => sql.raw(`pragma max_page_count = ${n}`).execute(t.db.kysely);

  it('answers 507 INSUFFICIENT_STORAGE to an upload that fills it, drops the upload, and every tenant writes again', async () => {
    t = await startTestApp('sqlite');
    for (const id of ['filler', 'bystander']) expect((await t.call('POST', '/v1/tenants', { body: { id } })).status).toBe(201);
    // About 400 KiB of room left; the upload needs several times that.
    await limitPages((await pages()) + 100);

    const res = await t.call('POST', '/v1/tenants/filler/imports?notify=false', { raw: csv(20_000, 'fill'), headers: { 'content-type': 'text/csv' } });
    expectProblem(res, 507, 'INSUFFICIENT_STORAGE');
    expect(await t.db.kysely.selectFrom('import_jobs').select('id').where('tenant_id', '=', 'filler').execute()).toEqual([]);

    // The space the upload took is back: another tenant's create (and the same tenant's) succeeds.
    const created = await t.call('POST', '/v1/tenants/bystander/users?notify=false', { body: { email: 'still.here@example.com' } });
    expect(created.status, created.text).toBe(201);
    expect((await t.call('POST', '/v1/tenants/filler/users?notify=false', { body: { email: 'me.too@example.com' } })).status).toBe(201);
  });

  it('answers a create 507 INSUFFICIENT_STORAGE while the disk is full, in the native API and SCIM alike, and 201 once there is room', async () => {
    t = await startTestApp('sqlite');
    expect((await t.call('POST', '/v1/tenants', { body: { id: 'full' } })).status).toBe(201);
    // Fill the last free pages, then allow no growth at all.
    await limitPages(await pages());
    let refused;
    for (let i = 0; i < 200 && !refused; i++) {
      const res = await t.call('POST', '/v1/tenants/full/users?notify=false', { body: { email: `filler${i}@example.com`, name: { givenName: 'x'.repeat(100), familyName: 'y'.repeat(100) } } });
      if (res.status !== 201) refused = res;
    }
    expect(refused).toBeDefined();
    expectProblem(refused!, 507, 'INSUFFICIENT_STORAGE');
    const scim = await t.call('POST', '/scim/v2/Users', {
      headers: { 'content-type': 'application/scim+json' },
      raw: JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'scim.full@example.com', name: { givenName: 'x'.repeat(100), familyName: 'y'.repeat(100) } }),
    });
    expect(scim.status, scim.text).toBe(507);

    await limitPages((await pages()) + 1000);
    const after = await t.call('POST', '/v1/tenants/full/users?notify=false', { body: { email: 'room.again@example.com' } });
    expect(after.status, after.text).toBe(201);
  });
});
