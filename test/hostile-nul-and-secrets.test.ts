/**
 * Bad input that once reached a server error, and secrets that once lay readable at rest:
 * NUL in every kind of input, email templates under races and abuse, SCIM search attributes
 * of the wrong type, a server fault during an upload, import seal keys kept out of the
 * database, redaction that leaves nothing in SQLite's files, spreadsheet-safe error reports,
 * SMTP replies without credentials, and Idempotency-Key scoped by tenant.
 * Every case runs on SQLite and on PostgreSQL, through the running application.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { Writable } from 'node:stream';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDACTED_PATHS } from '../src/app.js';
import { createOutboxSender } from '../src/workers/outbox-sender.js';
import { createSmtpMailer } from '../src/smtp/smtp-mailer.js';
import { createImportRunner, type ImportRunner } from '../src/workers/import-runner.js';
import { spreadsheetSafe } from '../src/formats/spreadsheet-safe.js';
import { createOutboxQueue } from '../src/storage/email-store.js';
import { createImportStore } from '../src/storage/import-store.js';
import { createSealKeyring, openSealKeyring, rewrapSealKeys } from '../src/storage/seal-keys.js';
import { DATABASES } from './helpers/databases.js';
import { startTestSender } from './helpers/email.js';
import { startSmtpSink, type SmtpSink } from './helpers/smtp-sink.js';
import { errorLines, generateCsv, upload, waitForJob } from './helpers/imports.js';
import { createTenant, expectProblem, issueKey, type IssuedKey } from './helpers/native-fixtures.js';
import { expectScimError, scimClient, SEARCH_REQUEST } from './helpers/scim.js';
import { startTestApp, type TestApp } from './helpers/test-app.js';
import { WAIT_DEADLINE_MS } from './helpers/wait.js';

const TEMPLATE = { subject: 'Hello {{user.displayName}}', text: 'Hi {{user.userName}}', html: '<p>Hi {{user.userName}}</p>' };

async function userCount(t: TestApp, tenant: string): Promise<number> {
  const row = await t.db.kysely.selectFrom('users').select((eb) => eb.fn.countAll().as('n')).where('tenant_id', '=', tenant).executeTakeFirstOrThrow();
  return Number(row.n);
}

describe.each(DATABASES)('NUL and other bad input on %s', (kind) => {
  let t: TestApp;
  let admin: IssuedKey;
  let runner: ImportRunner;
  const logs: string[] = [];

  beforeAll(async () => {
    const stream = new Writable({ write: (chunk: Buffer, _e, done) => (logs.push(chunk.toString('utf8')), done()) });
    t = await startTestApp(kind, { logger: { level: 'error', stream, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } }, onImportQueued: () => runner.wake() });
    runner = createImportRunner({ deps: t.core, pollIntervalMs: 20 });
    runner.start();
    await createTenant(t, { id: 'nul' });
    admin = await issueKey(t, 'nul', 'tenant-admin');
    const created = await t.call('POST', '/v1/tenants/nul/users', { body: { email: 'ada@example.com', userName: 'ada', password: 'tangerine-orbit-57' } });
    expect(created.status, created.text).toBe(201);
  });
  afterAll(async () => {
    await runner?.stop();
    await t?.close();
  });

  it('answers NUL in a query string, a path, a login or a template with 400 INVALID_FIELD naming the field', async () => {
    const probes: [string, string, unknown, string][] = [
      ['POST', '/v1/tenants/nul/credentials/verify', { login: 'a\u0000b', password: 'whatever-password' }, 'login'],
      ['GET', '/v1/tenants/nul/audit?actor=%00', undefined, 'actor'],
      ['GET', '/v1/tenants/nul/messages?userId=%00', undefined, 'userId'],
      ['GET', '/v1/tenants/nul/imports?idempotencyKey=%00', undefined, 'idempotencyKey'],
      ['GET', '/v1/tenants/nul/users?email=a%00b%40example.com', undefined, 'email'],
      ['GET', '/v1/tenants/nul/users/%00', undefined, 'id'],
      ['PUT', '/v1/tenants/nul/email-templates/welcome', { ...TEMPLATE, text: 'Hi\u0000 {{user.userName}}' }, 'text'],
      ['PUT', '/v1/tenants/nul/roles/staff', { description: 'a\u0000b' }, 'description'],
      ['POST', '/v1/tenants/nul/users', { email: 'nul@example.com', password: 'tangerine\u0000orbit-57' }, 'password'],
      ['POST', '/v1/tenants/nul/users', { email: 'nul@example.com', access: { departmentId: 'a\u0000b' } }, 'access.departmentId'],
      ['POST', '/v1/tenants/nul/users', { email: 'nul@example.com', 'x\u0000y': 1 }, 'x\\u0000y'],
    ];
    for (const [method, path, body, field] of probes) {
      const res = await t.call(method, path, body === undefined ? {} : { body });
      const problem = expectProblem(res, 400, 'INVALID_FIELD');
      expect(problem.errors, `${method} ${path}`).toContainEqual({ field, code: 'INVALID_FIELD', message: expect.stringContaining('NUL') });
    }
    expect(await userCount(t, 'nul')).toBe(1);
    expect(logs.join('')).not.toMatch(/request failed/);
  });

  it('still answers the same requests without NUL', async () => {
    expect((await t.call('POST', '/v1/tenants/nul/credentials/verify', { body: { login: 'ada', password: 'tangerine-orbit-57' } })).status).toBe(200);
    expect((await t.call('GET', '/v1/tenants/nul/audit?actor=bootstrap')).status).toBe(200);
    expect((await t.call('GET', '/v1/tenants/nul/messages?userId=x')).status).toBe(200);
    expect((await t.call('GET', '/v1/tenants/nul/imports?idempotencyKey=x')).status).toBe(200);
  });

  it('checks credentials before input: NUL without a credential is still 401', async () => {
    expectProblem(await t.call('GET', '/v1/tenants/nul/audit?actor=%00', { token: null }), 401, 'UNAUTHORIZED');
  });

  it('answers NUL in the other APIs in their own contract, below 500', async () => {
    const scim = scimClient(t, admin.token);
    const res = await scim('POST', '/Users/.search', { body: { schemas: [SEARCH_REQUEST], filter: 'userName eq "a\u0000b"' } });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    const simple = await t.call('POST', '/compat/simple/users', { token: admin.token, body: { firstName: 'A\u0000', lastName: 'B', contactEmail: 'simple@example.com' } });
    expect(simple.status).toBe(400);
    expect(simple.body.code).toBe('INVALID_FIELD');
  });

  it('fails only the row that carries NUL in an import: the rest of its chunk is created and the job completes', async () => {
    const csv = generateCsv(1500, (row) => (row === 700 ? `nul700@example.com,Gi\u0000ven,Family,,false` : row === 900 ? `nul\u0000900@example.com,Given,Family,,false` : undefined), 'nulimp');
    const res = await upload(t.baseUrl, 'nul', csv, { query: '?notify=false' });
    expect(res.status, res.text).toBe(202);
    const job = await waitForJob(t.baseUrl, res.headers.get('location')!);
    expect(job).toMatchObject({ state: 'completed', total: 1500, processed: 1500, created: 1498, failed: 2, error: null });
    const errors = await errorLines(t.baseUrl, res.headers.get('location')!);
    expect(errors.map((e) => [e.row, e.code, e.field])).toEqual([
      [700, 'INVALID_FIELD', 'name.givenName'],
      [900, 'INVALID_FIELD', 'email'],
    ]);
    expect(JSON.stringify(errors)).not.toContain('\u0000');
    expect(await userCount(t, 'nul')).toBe(1 + 1498);
  });

  it('answers ten concurrent first PUTs of one template without a server error: one creates, the others replace', async () => {
    const puts = await Promise.all(
      Array.from({ length: 10 }, (_, i) => t.call('PUT', '/v1/tenants/nul/email-templates/welcome', { body: { ...TEMPLATE, subject: `Welcome ${i}` } })),
    );
    expect(puts.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 200, 201]);
    const now = await t.call('GET', '/v1/tenants/nul/email-templates/welcome');
    expect(now.body.custom).toBe(true);
    expect(puts.map((r) => r.body.subject)).toContain(now.body.subject);
  });

  it('refuses partials and sections nested past the limit in a template with 400, and keeps the template in force', async () => {
    const before = await t.call('GET', '/v1/tenants/nul/email-templates/invitation');
    for (const part of ['subject', 'text', 'html'] as const) {
      const res = await t.call('PUT', '/v1/tenants/nul/email-templates/invitation', { body: { ...TEMPLATE, [part]: '{{> x}}' } });
      const problem = expectProblem(res, 400, 'INVALID_FIELD');
      expect(problem.errors).toContainEqual({ field: part, code: 'INVALID_FIELD', message: expect.stringContaining('partials') });
    }
    const deep = `${'{{#a}}'.repeat(3000)}x${'{{/a}}'.repeat(3000)}`;
    const tooDeep = await t.call('PUT', '/v1/tenants/nul/email-templates/invitation', { body: { ...TEMPLATE, html: deep } });
    expect(expectProblem(tooDeep, 400, 'INVALID_FIELD').errors).toContainEqual({ field: 'html', code: 'INVALID_FIELD', message: expect.stringContaining('nest') });
    const inverted = `${'{{^a}}'.repeat(40)}x${'{{/a}}'.repeat(40)}`;
    expectProblem(await t.call('PUT', '/v1/tenants/nul/email-templates/invitation', { body: { ...TEMPLATE, text: inverted } }), 400, 'INVALID_FIELD');
    const after = await t.call('GET', '/v1/tenants/nul/email-templates/invitation');
    expect(after.body).toEqual(before.body);
    // Nesting within the limit is a template like any other.
    const nested = `${'{{#user}}'.repeat(8)}{{userName}}${'{{/user}}'.repeat(8)}`;
    expect((await t.call('PUT', '/v1/tenants/nul/email-templates/invitation', { body: { ...TEMPLATE, text: nested } })).status).toBe(201);
    expect(logs.join('')).not.toMatch(/request failed/);
  });

  it('refuses a template that names an object or an unknown variable ({{tenant}}) with 400, so creates that send it never fail', async () => {
    const res = await t.call('PUT', '/v1/tenants/nul/email-templates/welcome', { body: { ...TEMPLATE, subject: 'Welcome to {{tenant}}' } });
    expect(expectProblem(res, 400, 'INVALID_FIELD').errors).toContainEqual({ field: 'subject', code: 'INVALID_FIELD', message: expect.stringContaining('{{tenant}}') });
    const sectioned = await t.call('PUT', '/v1/tenants/nul/email-templates/welcome', { body: { ...TEMPLATE, text: '{{#tenant}}{{{.}}}{{/tenant}}' } });
    expectProblem(sectioned, 400, 'INVALID_FIELD');
    const created = await t.call('POST', '/v1/tenants/nul/users', { body: { email: 'template-object@example.com', password: 'Correct-Horse-9-Battery' } });
    expect(created.status, created.text).toBe(201);
    expect(logs.join('')).not.toMatch(/request failed/);
  });

  it('answers a SCIM search whose attributes are not a list of strings with 400 invalidValue', async () => {
    const scim = scimClient(t, admin.token);
    for (const attributes of [5, null, 'userName', [5], { a: 1 }]) {
      for (const name of ['attributes', 'excludedAttributes']) {
        const res = await scim('POST', '/Users/.search', { body: { schemas: [SEARCH_REQUEST], [name]: attributes } });
        expectScimError(res, 400, 'invalidValue');
      }
    }
    const ok = await scim('POST', '/Users/.search', { body: { schemas: [SEARCH_REQUEST], attributes: ['userName'] } });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body.Resources[0]).toMatchObject({ userName: expect.any(String) });
  });
});

describe.each(DATABASES)('server faults during an upload on %s', (kind) => {
  it('answers a server error after the upload body was read with a logged 500, not 400 "upload broke off"', async () => {
    const logs: string[] = [];
    const stream = new Writable({ write: (chunk: Buffer, _e, done) => (logs.push(chunk.toString('utf8')), done()) });
    const t = await startTestApp(kind, { logger: { level: 'error', stream, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } } });
    try {
      await createTenant(t, { id: 'fault' });
      const ok = await upload(t.baseUrl, 'fault', generateCsv(3, undefined, 'before'), { query: '?notify=false' });
      expect(ok.status, ok.text).toBe(202);
      // The staging table goes missing under the running service: the rows cannot be stored.
      await t.db.kysely.schema.alterTable('import_row_blocks').renameTo('import_row_blocks_gone').execute();
      const res = await upload(t.baseUrl, 'fault', generateCsv(3, undefined, 'after'), { query: '?notify=false' });
      expectProblem(res, 500, 'SERVER_ERROR');
      expect(res.text).not.toMatch(/import_row_blocks|broke off/);
      expect(logs.join('')).toMatch(/request failed/);
      expect(logs.join('')).toMatch(/import_row_blocks/);
    } finally {
      await t.close();
    }
  });
});

describe.each(DATABASES)('import seal keys on %s', (kind) => {
  let t: TestApp;
  const kek = randomBytes(32);
  const oldKek = randomBytes(32);
  const password = 'Import-Sealed-Passw0rd!';

  beforeAll(async () => {
    t = await startTestApp(kind);
    await createTenant(t, { id: 'sealed' });
  });
  afterAll(async () => t?.close());

  /** An upload staged but not yet run (no import runner in this suite), with one password per row. */
  async function stagedJob(prefix: string): Promise<{ id: string; location: string }> {
    const csv = `email,password\n${prefix}1@example.com,${password}\n${prefix}2@example.com,${password}\n`;
    const res = await upload(t.baseUrl, 'sealed', csv, { query: '?notify=false' });
    expect(res.status, res.text).toBe(202);
    return { id: res.body.id, location: res.headers.get('location')! };
  }

  it('keeps no usable job key in the database: it is wrapped by a key that is not stored there', async () => {
    const job = await stagedJob('wrapped');
    const row = await t.db.kysely.selectFrom('import_jobs').select('seal_key').where('id', '=', job.id).executeTakeFirstOrThrow();
    expect(row.seal_key).toMatch(/^kek1:[0-9a-f]{16}:[A-Za-z0-9+/=]+$/);
    // What the database holds opens nothing by itself: neither as a key, nor under a wrong key-encryption key.
    expect(Buffer.from(row.seal_key!.split(':')[2]!, 'base64').length).toBe(12 + 16 + 32);
    expect(() => createSealKeyring([randomBytes(32)]).unwrap(job.id, row.seal_key!)).toThrow();
    const staged = await t.db.kysely.selectFrom('import_row_blocks').select('data').where('job_id', '=', job.id).execute();
    expect(staged.length).toBe(1);
    for (const r of staged) {
      expect(r.data).toMatch(/^sealed:/);
      expect(r.data).not.toContain(password);
    }
    if (kind === 'sqlite') {
      // The default key file sits beside the database file, readable by its owner alone.
      const keyFile = `${t.db.file}.import-key`;
      expect(existsSync(keyFile)).toBe(true);
      expect(statSync(keyFile).mode & 0o777).toBe(0o600);
      expect(readFileSync(t.db.file!).includes(readFileSync(keyFile, 'utf8').trim())).toBe(false);
    }
    expect((await t.call('DELETE', job.location)).status).toBe(200);
  });

  it('binds a wrapped key to its job: moved to another job, it does not unwrap', async () => {
    const ring = createSealKeyring([kek]);
    const wrapped = ring.wrap('imp_one', randomBytes(32));
    expect(ring.unwrap('imp_one', wrapped).length).toBe(32);
    expect(() => ring.unwrap('imp_two', wrapped)).toThrow();
  });

  it('rotates: jobs wrapped by the old key, or stored before wrapping, are re-wrapped by the new one and still run', async () => {
    const a = await stagedJob('rotate-a');
    const b = await stagedJob('rotate-b');
    const defaultRing = openSealKeyring(t.db);
    const stored = async (id: string) => (await t.db.kysely.selectFrom('import_jobs').select('seal_key').where('id', '=', id).executeTakeFirstOrThrow()).seal_key!;
    const keyA = defaultRing.unwrap(a.id, await stored(a.id));
    const keyB = defaultRing.unwrap(b.id, await stored(b.id));
    // Job a as it was stored before keys were wrapped (the key itself); job b wrapped by the key being rotated out.
    await t.db.kysely.updateTable('import_jobs').set({ seal_key: keyA.toString('base64') }).where('id', '=', a.id).execute();
    await t.db.kysely.updateTable('import_jobs').set({ seal_key: createSealKeyring([oldKek]).wrap(b.id, keyB) }).where('id', '=', b.id).execute();
    // A start with the new key first and the old one after it re-wraps both by the new key, once.
    const rotated = createSealKeyring([kek, oldKek]);
    expect(await rewrapSealKeys(t.db, rotated)).toBe(2);
    expect(await rewrapSealKeys(t.db, rotated)).toBe(0);
    for (const id of [a.id, b.id]) expect(rotated.isCurrent(await stored(id))).toBe(true);
    // The old key can now go: a runner holding only the new key runs both jobs.
    const runner = createImportRunner({ deps: { ...t.core, imports: createImportStore(t.db, createSealKeyring([kek])) }, pollIntervalMs: 20 });
    runner.start();
    try {
      for (const job of [a, b]) expect(await waitForJob(t.baseUrl, job.location)).toMatchObject({ state: 'completed', created: 2, failed: 0 });
      const verify = await t.call('POST', '/v1/tenants/sealed/credentials/verify', { body: { login: 'rotate-a1@example.com', password } });
      expect(verify.status, verify.text).toBe(200);
    } finally {
      await runner.stop();
    }
  });

  it('fails a job whose key-encryption key is gone with a clear reason, instead of retrying it forever', async () => {
    const job = await stagedJob('lost');
    // A runner whose keyring lacks the key that wrapped this job's key (the other jobs' too).
    const deps = { ...t.core, imports: createImportStore(t.db, createSealKeyring([randomBytes(32)])) };
    const runner = createImportRunner({ deps, pollIntervalMs: 20 });
    runner.start();
    try {
      const done = await waitForJob(t.baseUrl, job.location);
      expect(done.state).toBe('failed');
      expect(done.error).toMatch(/MUSTER_IMPORT_KEY/);
      expect(done.created).toBe(0);
    } finally {
      await runner.stop();
    }
  });

  it('runs a job with the right key: its sealed passwords are created', async () => {
    const job = await stagedJob('runs');
    const runner = createImportRunner({ deps: t.core, pollIntervalMs: 20 });
    runner.start();
    try {
      const done = await waitForJob(t.baseUrl, job.location, (j) => j.id === job.id && ['completed', 'failed'].includes(j.state));
      expect(done).toMatchObject({ state: 'completed', created: 2, failed: 0 });
      const verify = await t.call('POST', '/v1/tenants/sealed/credentials/verify', { body: { login: 'runs1@example.com', password } });
      expect(verify.status, verify.text).toBe(200);
      const after = await t.db.kysely.selectFrom('import_jobs').select('seal_key').where('id', '=', job.id).executeTakeFirstOrThrow();
      expect(after.seal_key).toBeNull();
    } finally {
      await runner.stop();
    }
  });
});

/** Waits until `holds()` is true, checking every 50 ms, failing after `timeoutMs`. */
async function until(what: string, holds: () => boolean | Promise<boolean>, timeoutMs = WAIT_DEADLINE_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await holds())) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen in ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('redaction on SQLite leaves nothing in the files', () => {
  let t: TestApp;
  let sink: SmtpSink;

  beforeAll(async () => {
    t = await startTestApp('sqlite');
    sink = await startSmtpSink();
    await createTenant(t, { id: 'scrub' });
  });
  afterAll(async () => {
    await t?.close();
    await sink?.close();
  });

  /** Every byte SQLite keeps on disk for this database: the file and its write-ahead log. */
  function rawFiles(): Buffer {
    const file = t.db.file!;
    return Buffer.concat([readFileSync(file), ...(existsSync(`${file}-wal`) ? [readFileSync(`${file}-wal`)] : [])]);
  }

  it('keeps a delivered invitation code in neither the database file, its free pages nor its write-ahead log', async () => {
    const codes: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await t.call('POST', '/v1/tenants/scrub/users', { body: { email: `invitee${i}@example.com`, name: { givenName: 'X'.repeat(90), familyName: 'Y'.repeat(90) } } });
      expect(res.status, res.text).toBe(201);
      const message = await t.db.kysely.selectFrom('email_messages').select('secret').where('user_id', '=', res.body.id).executeTakeFirstOrThrow();
      codes.push(message.secret!);
    }
    // Before delivery the codes are on disk (the message must carry them), and only there:
    // the invitations table holds their SHA-256 digests.
    await until('the codes reaching the files', () => codes.every((code) => rawFiles().includes(code)));
    const invitations = await t.db.kysely.selectFrom('invitations').selectAll().execute();
    expect(JSON.stringify(invitations)).not.toMatch(/inv_/);

    const sender = startTestSender(t.db, sink.url);
    const report = await sender.sender.drain();
    await sender.close();
    expect(report.sent).toBe(3);
    expect(sink.deliveries.map((m) => codes.some((code) => m.text.includes(code)))).toEqual([true, true, true]);

    // After delivery and the checkpoint that follows, no byte of either file holds a code.
    await until('the codes leaving the files', () => codes.every((code) => !rawFiles().includes(code)));
    const stored = await t.db.kysely.selectFrom('email_messages').select(['secret', 'text_body', 'status']).execute();
    expect(stored.every((m) => m.status === 'sent' && m.secret === null)).toBe(true);
    // And the outbox still shows that a code was sent, not what it was.
    expect(stored[0]!.text_body).toContain('[invitation code removed after delivery]');
  });
});

describe.each(DATABASES)('import error reports on %s', (kind) => {
  let t: TestApp;
  let runner: ImportRunner;

  beforeAll(async () => {
    t = await startTestApp(kind, { onImportQueued: () => runner.wake() });
    runner = createImportRunner({ deps: t.core, pollIntervalMs: 20 });
    runner.start();
    await createTenant(t, { id: 'csvsafe' });
  });
  afterAll(async () => {
    await runner?.stop();
    await t?.close();
  });

  it('neutralises cells a spreadsheet would run in the CSV error report, and keeps the NDJSON report as sent', async () => {
    const hostile = ['=HYPERLINK("http://evil.example","x")', '+cmd|\' /C calc\'!A0', '-2+3', '@SUM(1)', '\tTAB', '\rCR'];
    const lines = ['email,givenName', ...hostile.map((value) => `"${value.replaceAll('"', '""')}",Given`), 'fine@example.com,Given'];
    const res = await upload(t.baseUrl, 'csvsafe', `${lines.join('\n')}\n`, { query: '?notify=false' });
    expect(res.status, res.text).toBe(202);
    const location = res.headers.get('location')!;
    expect(await waitForJob(t.baseUrl, location)).toMatchObject({ state: 'completed', created: 1, failed: hostile.length });

    const csv = await t.call('GET', `${location}/errors?format=csv`);
    expect(csv.status).toBe(200);
    const { parse } = await import('csv-parse/sync');
    const rows = parse(csv.text, { columns: true, relax_column_count: true }) as Record<string, string>[];
    expect(rows.map((r) => r.email)).toEqual(hostile.map((value) => `'${value}`));
    // No cell of the report starts like a formula.
    for (const row of rows) for (const cell of Object.values(row)) expect(cell, cell).not.toMatch(/^[=+\-@\t\r]/);
    // The NDJSON report is data, not a spreadsheet: it keeps each email as it was sent.
    const ndjson = await errorLines(t.baseUrl, location);
    expect(ndjson.map((e) => e.email)).toEqual(hostile);
  });

  it('leaves ordinary cells alone', () => {
    for (const cell of ['ada@example.com', 'INVALID_FIELD', 'email must be a valid email address.', '', '12', 'a=b']) expect(spreadsheetSafe(cell)).toBe(cell);
    for (const cell of ['=1+1', '+1', '-1', '@x', '\tx', '\rx']) expect(spreadsheetSafe(cell)).toBe(`'${cell}`);
  });
});

describe.each(DATABASES)('SMTP replies on %s', (kind) => {
  let t: TestApp;
  let server: SMTPServer;
  let port: number;
  const user = 'mailer-user';
  const pass = 'Smtp-Secret-Passw0rd';
  const plain = Buffer.from(`\u0000${user}\u0000${pass}`).toString('base64');

  beforeAll(async () => {
    t = await startTestApp(kind);
    await createTenant(t, { id: 'smtp' });
    // A server that refuses the login and quotes back what it was sent, as some do.
    server = new SMTPServer({
      logger: false,
      disabledCommands: ['STARTTLS'],
      allowInsecureAuth: true,
      authMethods: ['PLAIN'],
      onAuth(auth, _session, callback) {
        const quoted = `5.7.8 Authentication failed: AUTH PLAIN ${plain} (${auth.username}:${auth.password} at smtp://${user}:${pass}@127.0.0.1) password=${pass}`;
        callback(Object.assign(new Error(quoted), { responseCode: 535 }));
      },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    port = (server.server.address() as { port: number }).port;
  });
  afterAll(async () => {
    await t?.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('stores and logs an SMTP failure with the credentials it quotes redacted', async () => {
    const created = await t.call('POST', '/v1/tenants/smtp/users', { body: { email: 'mailto@example.com', password: 'tangerine-orbit-57' } });
    expect(created.status, created.text).toBe(201);
    const logged: string[] = [];
    const line = (details: object, message: string) => logged.push(JSON.stringify({ ...details, message }));
    const mailer = createSmtpMailer(`smtp://${user}:${encodeURIComponent(pass)}@127.0.0.1:${port}`);
    const sender = createOutboxSender({ outbox: createOutboxQueue(t.db), mailer, log: { info: line, warn: line, error: line }, policy: { maxAttempts: 1 } });
    try {
      const report = await sender.runOnce();
      expect(report.failed + report.retrying).toBe(1);
    } finally {
      mailer.close();
    }
    const messages = await t.call('GET', '/v1/tenants/smtp/messages');
    const lastError: string = messages.body.messages[0].lastError;
    // What the operator needs is kept: the reply code and the reason.
    expect(lastError).toMatch(/535/);
    expect(lastError).toMatch(/Authentication failed/);
    expect(lastError).toContain('[redacted]');
    for (const text of [lastError, logged.join('\n'), JSON.stringify(await t.db.kysely.selectFrom('email_messages').selectAll().execute())]) {
      expect(text).not.toContain(pass);
      expect(text).not.toContain(plain);
    }
    expect(logged.join('\n')).toMatch(/535/);
  });
});

describe.each(DATABASES)('Idempotency-Key across tenants on %s', (kind) => {
  let t: TestApp;
  let appKeys: Record<string, string>;

  beforeAll(async () => {
    t = await startTestApp(kind);
    appKeys = {};
    for (const id of ['idem-a', 'idem-b']) appKeys[id] = (await createTenant(t, { id })).appKey;
  });
  afterAll(async () => t?.close());

  const withKey = (key: string, extra: Record<string, string> = {}) => ({ 'idempotency-key': key, ...extra });

  it('runs one key afresh in another tenant named by the AppKey header, and replays it in the same one', async () => {
    const body = [{ EmailAddress: 'same@example.com', FirstName: 'Same', LastName: 'Person', Password: 'tangerine-orbit-57' }];
    const first = await t.call('POST', '/provisioning/users.svc/', { body, headers: withKey('cross-tenant-1', { appkey: appKeys['idem-a']! }) });
    expect(first.status, first.text).toBe(200);
    const other = await t.call('POST', '/provisioning/users.svc/', { body, headers: withKey('cross-tenant-1', { appkey: appKeys['idem-b']! }) });
    expect(other.status, other.text).toBe(200);
    expect(other.headers.get('idempotent-replayed')).toBeNull();
    const again = await t.call('POST', '/provisioning/users.svc/', { body, headers: withKey('cross-tenant-1', { appkey: appKeys['idem-a']! }) });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.text).toBe(first.text);
    for (const tenant of ['idem-a', 'idem-b']) {
      const users = await t.call('GET', `/v1/tenants/${tenant}/users?email=same%40example.com`);
      expect(users.body.users.length, tenant).toBe(1);
    }
  });

  it('runs one key afresh in another tenant named by the path', async () => {
    const body = { email: 'path@example.com' };
    const a = await t.call('POST', '/v1/tenants/idem-a/users', { body, headers: withKey('cross-tenant-2') });
    const b = await t.call('POST', '/v1/tenants/idem-b/users', { body, headers: withKey('cross-tenant-2') });
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(b.headers.get('idempotent-replayed')).toBeNull();
    expect(b.body.id).not.toBe(a.body.id);
    const appA = await t.call('POST', `/${appKeys['idem-a']}/users`, {
      body: { userName: 'appuser', email: 'app@example.com', password: 'tangerine-orbit-57', confirmPassword: 'tangerine-orbit-57' },
      headers: withKey('cross-tenant-3'),
    });
    const appB = await t.call('POST', `/${appKeys['idem-b']}/users`, {
      body: { userName: 'appuser', email: 'app@example.com', password: 'tangerine-orbit-57', confirmPassword: 'tangerine-orbit-57' },
      headers: withKey('cross-tenant-3'),
    });
    expect([appA.status, appB.status]).toEqual([201, 201]);
    expect(appB.headers.get('idempotent-replayed')).toBeNull();
  });

  it('still refuses one key reused with another body in the same tenant', async () => {
    await t.call('POST', '/v1/tenants/idem-a/users', { body: { email: 'one@example.com' }, headers: withKey('cross-tenant-4') });
    expectProblem(await t.call('POST', '/v1/tenants/idem-a/users', { body: { email: 'two@example.com' }, headers: withKey('cross-tenant-4') }), 422, 'IDEMPOTENCY_KEY_REUSED');
  });
});
