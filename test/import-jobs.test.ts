import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createImportRunner, type ImportRunner } from '../src/workers/import-runner.js';
import { DATABASES } from './helpers/databases.js';
import { emailOf, errorLines, generateCsv, generateNdjson, upload, waitForJob } from './helpers/imports.js';
import { manualClock } from './helpers/manual-clock.js';
import { createTenant, expectProblem, issueKey } from './helpers/native-fixtures.js';
import { startTestApp, type TestApp } from './helpers/test-app.js';
import { waitUntil } from './helpers/wait.js';

describe.each(DATABASES)('import jobs on %s', (kind) => {
  let t: TestApp;
  let runner: ImportRunner;
  beforeAll(async () => {
    t = await startTestApp(kind);
    await createTenant(t, { id: 'acme' });
    await t.call('PUT', '/v1/tenants/acme/roles/staff', { body: { description: 'Staff' } });
    runner = createImportRunner({ deps: t.core, pollIntervalMs: 20, concurrency: kind === 'postgres' ? 2 : 1 });
  });
  afterEach(async () => runner.stop());
  afterAll(async () => t.close());

  async function countUsers(tenant: string): Promise<number> {
    const row = await t.db.kysely.selectFrom('users').select((eb) => eb.fn.countAll().as('n')).where('tenant_id', '=', tenant).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  it('imports 100,000 CSV rows in the background and reports exactly the bad rows', async () => {
    await createTenant(t, { id: 'big' });
    await t.call('PUT', '/v1/tenants/big/roles/staff', { body: {} });
    const bad: Record<number, string> = {
      17: 'not-an-email,Bad,Email,,false',
      5000: ',No,Email,,false',
      12345: `${emailOf(12345)},Bad,Flag,,maybe`,
      50001: `${emailOf(50001)},Too,Many,,false,extra`,
      77777: `${emailOf(3).toUpperCase()},Same,As Row 3,,false`,
      99999: `${emailOf(99999)},Unknown,Role,ghost,false`,
    };
    const csv = generateCsv(100_000, (row) => bad[row] ?? (row % 10 === 0 ? `${emailOf(row)},"Given, ""${row}""",Family,staff,false` : undefined));

    const accepted = await upload(t.baseUrl, 'big', csv, { query: '?notify=false' });
    expect(accepted.status, accepted.text).toBe(202);
    const location = accepted.headers.get('location')!;
    expect(location).toBe(`/v1/tenants/big/imports/${accepted.body.id}`);
    expect(accepted.body).toMatchObject({ state: 'queued', total: 100_000, processed: 0, options: { dryRun: false, notify: false, onConflict: 'fail' } });

    const started = Date.now();
    runner.start();
    const seenRunning = await waitForJob(t.baseUrl, location, (job) => job.processed > 0);
    expect(seenRunning.rate === null || seenRunning.rate > 0).toBe(true);
    const job = await waitForJob(t.baseUrl, location, undefined, 170_000);
    const seconds = (Date.now() - started) / 1000;
    console.log(`[import rate] ${kind}: 100000 rows in ${seconds.toFixed(1)} s = ${Math.round(100_000 / seconds)} rows/s (job rate ${job.rate})`);

    expect(job).toMatchObject({ state: 'completed', total: 100_000, processed: 100_000, created: 99_994, failed: 6, skipped: 0, etaSeconds: 0 });
    expect(await countUsers('big')).toBe(99_994);
    const errors = await errorLines(t.baseUrl, location);
    expect(errors.map((e) => [e.row, e.code, e.field])).toEqual([
      [17, 'INVALID_FIELD', 'email'],
      [5000, 'MISSING_REQUIRED_FIELD', 'email'],
      [12345, 'INVALID_FIELD', 'lockedOut'],
      [50001, 'INVALID_FIELD', ''],
      [77777, 'DUPLICATE_EMAIL', 'email'],
      [99999, 'UNKNOWN_REFERENCE', 'roles'],
    ]);
    // A role error names the column and, in its message, the value that failed.
    expect(errors[5].message).toContain('"ghost"');
    expect(errors[0]).toMatchObject({ email: 'not-an-email', message: expect.any(String) });
    expect(errors[1].email).toBeNull();
    const quoted = await t.call('GET', `/v1/tenants/big/users?email=${emailOf(40)}`);
    expect(quoted.body.users[0]).toMatchObject({ name: { givenName: 'Given, "40"', familyName: 'Family' }, roles: ['staff'] });
    // Nothing of the upload stays staged once the job is done.
    const staged = await t.db.kysely.selectFrom('import_row_blocks').select((eb) => eb.fn.countAll().as('n')).where('job_id', '=', job.id).executeTakeFirstOrThrow();
    expect(Number(staged.n)).toBe(0);
  }, 180_000);

  it('reads NDJSON and JSON arrays as user drafts, with renamed keys', async () => {
    const ndjson = ['{"mail":"nd1@example.com","name":{"givenName":"Nd"}}', '', 'not json', '{"mail":"nd2@example.com","roles":["staff"]}'].join('\n');
    const nd = await upload(t.baseUrl, 'acme', ndjson, { contentType: 'application/x-ndjson', query: '?notify=false&map=mail%3Demail' });
    expect(nd.status, nd.text).toBe(202);
    expect(nd.body).toMatchObject({ format: 'ndjson', total: 3 });
    const json = JSON.stringify([{ email: 'js1@example.com', phoneNumber: '+44 20 7946 0000' }, { email: 'js2@example.com', lockedOut: true }, 42]);
    const js = await upload(t.baseUrl, 'acme', json, { contentType: 'application/json; charset=utf-8', query: '?notify=false' });
    expect(js.status, js.text).toBe(202);
    await runner.drain();

    const ndJob = await waitForJob(t.baseUrl, nd.headers.get('location')!);
    expect(ndJob).toMatchObject({ state: 'completed', created: 2, failed: 1 });
    expect((await errorLines(t.baseUrl, nd.headers.get('location')!)).map((e) => [e.row, e.code])).toEqual([[2, 'MALFORMED_JSON']]);
    const jsJob = await waitForJob(t.baseUrl, js.headers.get('location')!);
    expect(jsJob).toMatchObject({ state: 'completed', format: 'json', created: 2, failed: 1 });
    expect((await errorLines(t.baseUrl, js.headers.get('location')!)).map((e) => [e.row, e.code])).toEqual([[3, 'INVALID_FIELD']]);
    const nd2 = await t.call('GET', '/v1/tenants/acme/users?email=nd2@example.com');
    expect(nd2.body.users[0].roles).toEqual(['staff']);
    const js2 = await t.call('GET', '/v1/tenants/acme/users?email=js2@example.com');
    expect(js2.body.users[0].lockedOut).toBe(true);
  });

  it('maps CSV columns by name, alias or mapping, and reads quoted fields, role lists and flags', async () => {
    const csv = [
      'E-Mail,First Name,Surname,Roles,Approved,Notes',
      '"quoted@example.com","Ada ""Countess""","Lovelace, King",staff|staff,no,"a note,',
      'with a line break"',
      'semi@example.com,Semi,Colon,staff; ,YES,',
    ].join('\r\n');
    const res = await upload(t.baseUrl, 'acme', csv, { query: '?notify=false&map=Notes%3D' });
    expect(res.status, res.text).toBe(202);
    expect(res.body.total).toBe(2);
    await runner.drain();
    const job = await waitForJob(t.baseUrl, res.headers.get('location')!);
    expect(job).toMatchObject({ created: 2, failed: 0 });
    const quoted = await t.call('GET', '/v1/tenants/acme/users?email=quoted@example.com');
    expect(quoted.body.users[0]).toMatchObject({ name: { givenName: 'Ada "Countess"', familyName: 'Lovelace, King' }, approved: false });
    const semi = await t.call('GET', '/v1/tenants/acme/users?email=semi@example.com');
    expect(semi.body.users[0]).toMatchObject({ roles: ['staff'], approved: true });
  });

  it('refuses an upload it cannot read, storing nothing', async () => {
    const before = await t.call('GET', '/v1/tenants/acme/imports');
    expectProblem(await upload(t.baseUrl, 'acme', 'email,Department Code\na@example.com,7\n'), 400, 'INVALID_FIELD');
    expectProblem(await upload(t.baseUrl, 'acme', 'givenName\nAda\n'), 400, 'MISSING_REQUIRED_FIELD');
    expectProblem(await upload(t.baseUrl, 'acme', 'email\n"unterminated@example.com\n'), 400, 'MALFORMED_JSON');
    expectProblem(await upload(t.baseUrl, 'acme', '[{"email":"a@example.com"},', { contentType: 'application/json' }), 400, 'MALFORMED_JSON');
    expectProblem(await upload(t.baseUrl, 'acme', '{"users":[]}', { contentType: 'application/json' }), 400, 'MALFORMED_JSON');
    expectProblem(await upload(t.baseUrl, 'acme', 'email\n', { contentType: 'text/plain' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    const after = await t.call('GET', '/v1/tenants/acme/imports');
    expect(after.body.imports.length).toBe(before.body.imports.length);
  });

  it('skips existing users under onConflict=skip and fails them otherwise', async () => {
    const csv = generateCsv(5, undefined, 'conflict');
    const first = await upload(t.baseUrl, 'acme', csv, { query: '?notify=false' });
    await runner.drain();
    expect(await waitForJob(t.baseUrl, first.headers.get('location')!)).toMatchObject({ created: 5 });

    const again = generateCsv(7, undefined, 'conflict');
    const failing = await upload(t.baseUrl, 'acme', again, { query: '?notify=false' });
    const skipping = await upload(t.baseUrl, 'acme', `${again}conflict1@example.com,Repeat,Row,,false\n`, { query: '?notify=false&onConflict=skip' });
    await runner.drain();
    expect(await waitForJob(t.baseUrl, failing.headers.get('location')!)).toMatchObject({ processed: 7, created: 2, failed: 5, skipped: 0 });
    const skipped = await waitForJob(t.baseUrl, skipping.headers.get('location')!);
    expect(skipped).toMatchObject({ processed: 8, created: 0, failed: 0, skipped: 8, options: { onConflict: 'skip' } });
    expect(await errorLines(t.baseUrl, skipping.headers.get('location')!)).toEqual([]);
    expect((await errorLines(t.baseUrl, failing.headers.get('location')!)).map((e) => e.code)).toEqual(Array(5).fill('DUPLICATE_EMAIL'));
  });

  it('checks every row in a dry run and creates nothing', async () => {
    const csv = generateCsv(2500, (row) => (row === 2001 ? 'broken,Bad,Row,,false' : undefined), 'dry');
    const res = await upload(t.baseUrl, 'acme', csv, { query: '?dryRun=true' });
    expect(res.body.options).toMatchObject({ dryRun: true });
    await runner.drain();
    const job = await waitForJob(t.baseUrl, res.headers.get('location')!);
    expect(job).toMatchObject({ state: 'completed', processed: 2500, created: 2499, failed: 1 });
    expect((await errorLines(t.baseUrl, res.headers.get('location')!)).map((e) => e.row)).toEqual([2001]);
    const found = await t.call('GET', `/v1/tenants/acme/users?email=${emailOf(1, 'dry')}`);
    expect(found.body.users).toEqual([]);
  });

  it('cancels a queued job: no chunk commits after the answer, and an ended job cannot be cancelled', async () => {
    const res = await upload(t.baseUrl, 'acme', generateCsv(3000, undefined, 'cancel'), { query: '?notify=false' });
    const location = res.headers.get('location')!;
    const cancelled = await t.call('DELETE', location);
    expect(cancelled.status, cancelled.text).toBe(200);
    expect(cancelled.body).toMatchObject({ state: 'cancelled', processed: 0 });
    await runner.drain();
    expect(await waitForJob(t.baseUrl, location)).toMatchObject({ state: 'cancelled', processed: 0, created: 0 });
    expect((await t.call('GET', `/v1/tenants/acme/users?email=${emailOf(1, 'cancel')}`)).body.users).toEqual([]);
    expect((await t.call('DELETE', location)).status).toBe(200);

    const done = await upload(t.baseUrl, 'acme', generateCsv(1, undefined, 'ended'), { query: '?notify=false' });
    await runner.drain();
    expectProblem(await t.call('DELETE', done.headers.get('location')!), 409, 'CONFLICT');
  });

  it('answers a repeated upload with the job its Idempotency-Key created, and refuses the key for another body', async () => {
    const csv = generateCsv(3, undefined, 'idem');
    const headers = { 'idempotency-key': 'import-idem-1' };
    const first = await upload(t.baseUrl, 'acme', csv, { headers, query: '?notify=false' });
    const second = await upload(t.baseUrl, 'acme', csv, { headers, query: '?notify=false' });
    expect(second.status).toBe(202);
    expect(second.body.id).toBe(first.body.id);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expectProblem(await upload(t.baseUrl, 'acme', generateCsv(4, undefined, 'idem'), { headers }), 422, 'IDEMPOTENCY_KEY_REUSED');
    const listed = await t.call('GET', '/v1/tenants/acme/imports?idempotencyKey=import-idem-1');
    expect(listed.body.imports.map((j: { id: string }) => j.id)).toEqual([first.body.id]);
  });

  it('keeps passwords encrypted while rows wait, invites users without one, and lets only writers import', async () => {
    const csv = 'email,password\nsealed@example.com,correct horse battery staple\ninvited@example.com,\n';
    const res = await upload(t.baseUrl, 'acme', csv);
    // The upload's two rows wait as one block, sealed whole since a row of it has a password.
    const staged = await t.db.kysely.selectFrom('import_row_blocks').select(['first_row', 'last_row', 'data']).where('job_id', '=', res.body.id).execute();
    expect(staged.map((b) => [Number(b.first_row), Number(b.last_row)])).toEqual([[1, 2]]);
    expect(staged[0]!.data).toMatch(/^sealed:/);
    expect(staged.map((r) => r.data).join()).not.toContain('correct horse');
    await runner.drain();
    expect(await waitForJob(t.baseUrl, res.headers.get('location')!)).toMatchObject({ created: 2 });
    const sealed = await t.call('GET', '/v1/tenants/acme/users?email=sealed@example.com');
    expect(sealed.body.users[0].hasPassword).toBe(true);
    const messages = await t.call('GET', `/v1/tenants/acme/messages?userId=${(await t.call('GET', '/v1/tenants/acme/users?email=invited@example.com')).body.users[0].id}`);
    expect(messages.body.messages.map((m: { kind: string }) => m.kind)).toEqual(['invitation']);

    const reader = await issueKey(t, 'acme', 'reader');
    expectProblem(await upload(t.baseUrl, 'acme', csv, { token: reader.token }), 403, 'FORBIDDEN');
    expect((await t.call('GET', res.headers.get('location')!, { token: reader.token })).status).toBe(200);
    await createTenant(t, { id: 'other' });
    const outsider = await issueKey(t, 'other', 'tenant-admin');
    expectProblem(await t.call('GET', res.headers.get('location')!, { token: outsider.token }), 404, 'NOT_FOUND');
    expectProblem(await upload(t.baseUrl, 'acme', csv, { token: outsider.token }), 404, 'NOT_FOUND');
    expectProblem(await upload(t.baseUrl, 'acme', csv, { token: null }), 401, 'UNAUTHORIZED');
  });

  it('streams the errors report as CSV when asked', async () => {
    const res = await upload(t.baseUrl, 'acme', 'email,givenName\nbad-one,"Quote ""me"", please"\nok-csv@example.com,Fine\n', { query: '?notify=false' });
    await runner.drain();
    const location = res.headers.get('location')!;
    const byAccept = await t.call('GET', `${location}/errors`, { headers: { accept: 'text/csv' } });
    expect(byAccept.status).toBe(200);
    expect(byAccept.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(byAccept.headers.get('content-disposition')).toContain(`${res.body.id}-errors.csv`);
    const lines = byAccept.text.trim().split('\n');
    expect(lines[0]).toBe('row,email,code,field,message,source');
    expect(lines[1]).toMatch(/^1,bad-one,INVALID_FIELD,email,/);
    const byQuery = await t.call('GET', `${location}/errors?format=csv`);
    expect(byQuery.text).toBe(byAccept.text);
  });
});

describe.each(DATABASES)('import chunk leases on %s', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(kind);
    await createTenant(t, { id: 'leases' });
  });
  afterAll(async () => t.close());

  it('leaves a chunk claimed by a process that died alone until its lease runs out, then another runner takes it over', async () => {
    const res = await upload(t.baseUrl, 'leases', generateCsv(10, undefined, 'lease'), { query: '?notify=false' });
    expect(res.status, res.text).toBe(202);
    // Time as the runners see it: a manual clock the test moves.
    const clock = manualClock();
    // A process claims the job's only chunk for a minute, then dies before committing it.
    const claimed = await t.core.imports.claimChunk('a-process-that-died', clock.now().toISOString(), new Date(clock.ms() + 60_000).toISOString());
    expect(claimed).toMatchObject({ job: { id: res.body.id } });

    const runner = createImportRunner({ deps: { ...t.core, clock }, leaseMs: 60_000 });
    expect((await runner.runOnce()).status).toBe('idle');
    clock.advance(59_999);
    expect((await runner.runOnce()).status).toBe('idle');
    expect(await waitForJob(t.baseUrl, res.headers.get('location')!, () => true)).toMatchObject({ processed: 0, created: 0 });
    // The lease has run out: the chunk is taken over, and every row is created once.
    clock.advance(1);
    expect(await runner.runOnce()).toMatchObject({ status: 'done', jobId: res.body.id });
    expect(await waitForJob(t.baseUrl, res.headers.get('location')!)).toMatchObject({ state: 'completed', processed: 10, created: 10, failed: 0 });
    expect((await t.call('GET', `/v1/tenants/leases/users?email=${emailOf(10, 'lease')}`)).body.users).toHaveLength(1);
  });
});

describe.each(DATABASES)('an upload wakes the import runner on %s', (kind) => {
  let t: TestApp;
  let runner: ImportRunner;
  let queued = 0;
  /** Rounds the runner has finished: it looked for work, found none, and tidied up. */
  let rounds = 0;
  beforeAll(async () => {
    // A runner that would otherwise look for work only once an hour.
    t = await startTestApp(kind, { onImportQueued: () => (queued++, runner.wake()) });
    const imports = { ...t.core.imports, cleanUp: (...args: Parameters<typeof t.core.imports.cleanUp>) => t.core.imports.cleanUp(...args).finally(() => rounds++) };
    runner = createImportRunner({ deps: { ...t.core, imports }, pollIntervalMs: 3_600_000 });
    await createTenant(t, { id: 'woken' });
    runner.start();
  });
  afterAll(async () => {
    await runner.stop();
    await t.close();
  });

  it('starts on a job as soon as its upload is stored, and not again for a replayed upload', async () => {
    // Let the runner find nothing and go to sleep first.
    await waitUntil('the runner to finish its first round', () => rounds > 0);
    await new Promise((resolve) => setImmediate(resolve));
    const csv = generateCsv(50);
    const first = await upload(t.baseUrl, 'woken', csv, { headers: { 'idempotency-key': 'wake-once' } });
    expect(first.status, first.text).toBe(202);
    expect(queued).toBe(1);
    // Done long before the hour the runner would otherwise sleep.
    const job = await waitForJob(t.baseUrl, first.headers.get('location')!);
    expect(job).toMatchObject({ state: 'completed', created: 50 });
    const again = await upload(t.baseUrl, 'woken', csv, { headers: { 'idempotency-key': 'wake-once' } });
    expect(again.status).toBe(202);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(queued).toBe(1);
  });
});
