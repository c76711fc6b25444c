/**
 * Staging as the import runner reads it: an upload waits a block of rows at a time, a chunk
 * reads the blocks it overlaps and deletes those it covers when it commits, very long rows are
 * split over several blocks, and a job staged row by row (before migration 0012) still runs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createImportRunner } from '../src/workers/import-runner.js';
import { DATABASES } from './helpers/databases.js';
import { errorLines, waitForJob } from './helpers/imports.js';
import { startTestApp, type TestApp } from './helpers/test-app.js';

describe.each(DATABASES)('staged rows as the runner reads them on %s', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(kind);
  });
  afterAll(async () => t?.close());

  const actor = { keyId: 'bootstrap', role: 'global-admin' as const, tenantId: null };
  const options = { dryRun: false, notify: false, onConflict: 'fail' as const };
  const begin = async (id: string) => {
    const now = new Date().toISOString();
    expect(await t.core.imports.beginUpload({ id, tenantId: 'default', format: 'csv', options, actor, idempotencyKey: null, createdAt: now, uploadLeaseUntil: now })).toBe(true);
  };
  const lease = () => new Date(Date.now() + 60_000).toISOString();

  it('runs a job staged row by row before staging went by blocks, and clears its rows as its chunks commit', async () => {
    await begin('imp_by_row');
    // As an upload was staged before migration 0012: one row of import_rows per uploaded row.
    await t.db.kysely
      .insertInto('import_rows')
      .values([
        { job_id: 'imp_by_row', row_number: 1, data: JSON.stringify({ email: 'by-row-1@example.com' }), problem: null, source: JSON.stringify({ email: 'by-row-1@example.com' }) },
        { job_id: 'imp_by_row', row_number: 2, data: null, problem: JSON.stringify({ field: '', code: 'INVALID_FIELD', message: 'This row has more fields than the header.', email: 'by-row-2@example.com' }), source: null },
        { job_id: 'imp_by_row', row_number: 3, data: JSON.stringify({ email: 'by-row-3@example.com' }), problem: null, source: null },
      ])
      .execute();
    await t.core.imports.finishUpload('imp_by_row', 3, 'digest', 2, new Date().toISOString());
    await createImportRunner({ deps: t.core }).drain();

    const location = '/v1/tenants/default/imports/imp_by_row';
    expect(await waitForJob(t.baseUrl, location)).toMatchObject({ state: 'completed', total: 3, created: 2, failed: 1 });
    expect((await errorLines(t.baseUrl, location)).map((e) => [e.row, e.code, e.email])).toEqual([[2, 'INVALID_FIELD', 'by-row-2@example.com']]);
    expect((await t.call('GET', '/v1/tenants/default/users?email=by-row-3@example.com')).body.users).toHaveLength(1);
    expect(await t.db.kysely.selectFrom('import_rows').select('row_number').where('job_id', '=', 'imp_by_row').execute()).toEqual([]);
  });

  it('reads a chunk out of the blocks it overlaps when blocks and chunks do not line up, and leaves none behind', async () => {
    await begin('imp_straddle');
    const row = (n: number) => ({ row: n, draft: { email: `straddle-${n}@example.com` } });
    // Blocks of rows 1, 2–3 and 4–5 under chunks of two rows: 1–2, 3–4 and 5.
    for (const block of [[1], [2, 3], [4, 5]]) await t.core.imports.stageRows('imp_straddle', block.map(row), lease());
    await t.core.imports.finishUpload('imp_straddle', 5, 'digest', 2, new Date().toISOString());
    await createImportRunner({ deps: t.core }).drain();

    expect(await waitForJob(t.baseUrl, '/v1/tenants/default/imports/imp_straddle')).toMatchObject({ state: 'completed', total: 5, created: 5, failed: 0 });
    for (let n = 1; n <= 5; n++) expect((await t.call('GET', `/v1/tenants/default/users?email=straddle-${n}@example.com`)).body.users).toHaveLength(1);
    expect(await t.db.kysely.selectFrom('import_row_blocks').select('first_row').where('job_id', '=', 'imp_straddle').execute()).toEqual([]);
  });

  it('stages a batch of very long rows as several blocks, and runs them as one chunk', async () => {
    await begin('imp_long_rows');
    // Five rows of about 1.5 MB each: more than one block holds.
    const rows = Array.from({ length: 5 }, (_, i) => ({ row: i + 1, draft: { email: `long-${i + 1}@example.com`, department: 'd'.repeat(1_500_000) } }));
    await t.core.imports.stageRows('imp_long_rows', rows, lease());
    const blocks = await t.db.kysely.selectFrom('import_row_blocks').select(['first_row', 'last_row']).where('job_id', '=', 'imp_long_rows').orderBy('first_row').execute();
    expect(blocks.length).toBeGreaterThan(1);
    expect(Number(blocks[0]!.first_row)).toBe(1);
    expect(Number(blocks.at(-1)!.last_row)).toBe(5);
    await t.core.imports.finishUpload('imp_long_rows', 5, 'digest', 1000, new Date().toISOString());
    await createImportRunner({ deps: t.core }).drain();

    // Each row is read back whole: its overlong department is what fails it.
    const location = '/v1/tenants/default/imports/imp_long_rows';
    expect(await waitForJob(t.baseUrl, location)).toMatchObject({ state: 'completed', total: 5, processed: 5, failed: 5 });
    expect((await errorLines(t.baseUrl, location)).map((e) => [e.row, e.field])).toEqual([1, 2, 3, 4, 5].map((row) => [row, 'department']));
    expect(await t.db.kysely.selectFrom('import_row_blocks').select('first_row').where('job_id', '=', 'imp_long_rows').execute()).toEqual([]);
  });
});
