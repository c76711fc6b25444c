import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_ROW_BYTES, MAX_ROW_DEPTH } from '../src/formats/parse-upload.js';
import { createImportRunner } from '../src/workers/import-runner.js';
import { errorLines, upload, waitForJob } from './helpers/imports.js';
import { expectProblem } from './helpers/native-fixtures.js';
import { ADMIN_TOKEN, startTestApp, type TestApp } from './helpers/test-app.js';
import { WAIT_DEADLINE_MS, waitUntil } from './helpers/wait.js';

describe('import uploads at their limits', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('sqlite', { importMaxBytes: 64 * 1024, bodyLimit: 4096 });
  });
  afterAll(async () => t.close());

  it('takes uploads larger than the global body limit, up to its own limit, and answers 413 past it before reading the rest', async () => {
    const jobsBefore = (await t.call('GET', '/v1/tenants/default/imports')).body.imports.length;
    let csv = 'email\n';
    for (let i = 0; csv.length < 20_000; i++) csv += `limit${i}@example.com\n`;
    const within = await upload(t.baseUrl, 'default', csv, { query: '?notify=false' });
    expect(within.status, within.text).toBe(202);

    // A 10 MiB body against a 64 KiB limit: the answer arrives although most of the body was never read.
    const answer = await new Promise<{ status: number; connection: string | undefined; body: string }>((resolve, reject) => {
      const req = request(`${t.baseUrl}/v1/tenants/default/imports`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'text/csv', 'content-length': String(10 * 1024 * 1024) } });
      req.on('response', (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection, body }));
      });
      req.on('error', () => undefined);
      req.write('email\n');
      const line = Buffer.alloc(64 * 1024, 'a');
      let sent = 0;
      const pump = () => {
        while (sent < 10 * 1024 * 1024 - line.length) {
          sent += line.length;
          if (!req.write(line)) return void req.once('drain', pump);
        }
      };
      pump();
      setTimeout(() => reject(new Error('no answer')), WAIT_DEADLINE_MS).unref();
    });
    expect(answer.status).toBe(413);
    expect(answer.connection).toBe('close');
    expect(JSON.parse(answer.body)).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    // The upload within the limit is a job; the one past it left none.
    const listed = await t.call('GET', '/v1/tenants/default/imports');
    expect(listed.body.imports).toHaveLength(jobsBefore + 1);
    expect(listed.body.imports[0].id).toBe(within.body.id);
  });

  it('reads a semicolon-separated CSV with a byte-order mark, and reports an overlong NDJSON line as its own row', async () => {
    const semicolons = await upload(t.baseUrl, 'default', '\uFEFFemail;givenName\nsemi1@example.com;Semi\n', { query: '?notify=false&delimiter=%3B' });
    expect(semicolons.status, semicolons.text).toBe(202);
    expect(semicolons.body.total).toBe(1);

    const big = await startTestApp('sqlite', { importMaxBytes: 4 * MAX_ROW_BYTES });
    try {
      const body = `{"email":"before@example.com"}\n{"email":"${'x'.repeat(MAX_ROW_BYTES + 10)}@example.com"}\n{"email":"after@example.com"}\n`;
      const res = await upload(big.baseUrl, 'default', body, { contentType: 'application/x-ndjson', query: '?notify=false' });
      expect(res.status, res.text).toBe(202);
      expect(res.body.total).toBe(3);
      await createImportRunner({ deps: big.core }).drain();
      expect(await waitForJob(big.baseUrl, res.headers.get('location')!)).toMatchObject({ created: 2, failed: 1 });
      expect((await errorLines(big.baseUrl, res.headers.get('location')!)).map((e) => [e.row, e.code])).toEqual([[2, 'INVALID_FIELD']]);
    } finally {
      await big.close();
    }
  });

  it(`reports a JSON row nested deeper than ${MAX_ROW_DEPTH} levels as its own row, in NDJSON and in a JSON array, however deep`, async () => {
    // `nest(depth)` as a field of the row: the row itself is one level more.
    const nest = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
    const rows = [
      '{"email":"shallow@example.com"}',
      `{"email":"abyss@example.com","name":${nest(5000)}}`,
      `{"email":"over@example.com","name":${nest(MAX_ROW_DEPTH)}}`,
      `{"email":"at-limit@example.com","name":${nest(MAX_ROW_DEPTH - 1)}}`,
    ];
    for (const [contentType, body] of [
      ['application/x-ndjson', `${rows.join('\n')}\n`],
      ['application/json', `[${rows.join(',')}]`],
    ] as const) {
      const res = await upload(t.baseUrl, 'default', body.replaceAll('@', `-${contentType.length}@`), { contentType, query: '?notify=false' });
      expect(res.status, res.text).toBe(202);
      expect(res.body.total).toBe(4);
      await createImportRunner({ deps: t.core }).drain();
      expect(await waitForJob(t.baseUrl, res.headers.get('location')!)).toMatchObject({ created: 1, failed: 3 });
      expect((await errorLines(t.baseUrl, res.headers.get('location')!)).map((e) => [e.row, e.code])).toEqual([
        [2, 'MALFORMED_JSON'],
        [3, 'MALFORMED_JSON'],
        [4, 'INVALID_FIELD'],
      ]);
    }
  });

  it('drops an upload whose client went away, so that its Idempotency-Key starts afresh', async () => {
    const headers = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'text/csv', 'content-length': String(60_000), 'idempotency-key': 'broken-upload' };
    const req = request(`${t.baseUrl}/v1/tenants/default/imports?notify=false`, { method: 'POST', headers });
    req.on('error', () => undefined);
    req.write('email\n');
    for (let i = 0; i < 1500; i++) req.write(`gone${i}@example.com\n`);
    // The client goes away once the server has begun storing its upload.
    await waitUntil('the upload to begin', async () => (await t.core.imports.findByIdempotencyKey('default', 'broken-upload'))?.kind === 'uploading');
    req.destroy();

    // While the server has not yet noticed, the key is still taken (409); then it starts afresh.
    const retried = await waitUntil('the Idempotency-Key to be free again', async () => {
      const res = await upload(t.baseUrl, 'default', 'email\nback@example.com\n', { headers: { 'idempotency-key': 'broken-upload' }, query: '?notify=false' });
      return res.status === 409 ? undefined : res;
    }, { intervalMs: 50 });
    expect(retried.status, retried.text).toBe(202);
    expect(retried.body.total).toBe(1);
    // Housekeeping removes what the broken upload had staged.
    while (await t.core.imports.cleanUp(new Date().toISOString(), 1000));
    const waiting = t.db.kysely.selectFrom('import_jobs').select('id').where('state', 'in', ['queued', 'running']);
    expect(await t.db.kysely.selectFrom('import_row_blocks').select('job_id').where('job_id', 'not in', waiting).execute()).toEqual([]);
    expect(await t.db.kysely.selectFrom('import_jobs').select('id').where('state', 'in', ['uploading', 'abandoned']).execute()).toEqual([]);
  });

  it('abandons an upload whose server stopped hearing from it once its lease has run out', async () => {
    const actor = { keyId: 'bootstrap', role: 'global-admin' as const, tenantId: null };
    const options = { dryRun: false, notify: false, onConflict: 'fail' as const };
    const now = new Date();
    expect(await t.core.imports.beginUpload({ id: 'imp_stale', tenantId: 'default', format: 'csv', options, actor, idempotencyKey: 'stale-key', createdAt: now.toISOString(), uploadLeaseUntil: now.toISOString() })).toBe(true);
    await t.core.imports.stageRows('imp_stale', [{ row: 1, draft: { email: 'stale@example.com' } }], now.toISOString());
    expect(await t.core.imports.findByIdempotencyKey('default', 'stale-key')).toMatchObject({ kind: 'uploading' });
    expect(await t.core.imports.get('default', 'imp_stale')).toBeUndefined();

    const later = new Date(now.getTime() + 1000).toISOString();
    while (await t.core.imports.cleanUp(later, 1000));
    expect(await t.core.imports.findByIdempotencyKey('default', 'stale-key')).toBeUndefined();
    expect(await t.db.kysely.selectFrom('import_jobs').select('id').where('id', '=', 'imp_stale').execute()).toEqual([]);
    expect(await t.db.kysely.selectFrom('import_row_blocks').select('first_row').where('job_id', '=', 'imp_stale').execute()).toEqual([]);
  });

  it('refuses a format it was not told and cannot guess, and a mapping it cannot read', async () => {
    expectProblem(await upload(t.baseUrl, 'default', 'email\n', { contentType: 'application/octet-stream' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    const named = await upload(t.baseUrl, 'default', 'email\nnamed@example.com\n', { contentType: 'application/octet-stream', query: '?format=csv&notify=false' });
    expect(named.status, named.text).toBe(202);
    expectProblem(await upload(t.baseUrl, 'default', 'email\n', { query: '?map=nothing-to-map' }), 400, 'INVALID_FIELD');
  });
});
