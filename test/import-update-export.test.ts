/**
 * Imports as their users expect them: onConflict=update changes existing users through the
 * PATCH use case (its checks, privilege rule and audit); the errors report carries each failed
 * row as uploaded (never a password), names the row a duplicate repeats and the value of a
 * multi-valued cell that failed; and an export reads back through the importer unchanged.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createImportRunner, type ImportRunner } from '../src/workers/import-runner.js';
import { DATABASES } from './helpers/databases.js';
import { errorLines, upload, waitForJob } from './helpers/imports.js';
import { createTenant, issueKey, usersWithEmail } from './helpers/native-fixtures.js';
import { startTestApp, type TestApp } from './helpers/test-app.js';

describe.each(DATABASES)('imports with update, row sources and export on %s', (kind) => {
  let t: TestApp;
  let runner: ImportRunner;
  beforeAll(async () => {
    t = await startTestApp(kind);
    runner = createImportRunner({ deps: t.core, pollIntervalMs: 20 });
    runner.start();
  });
  afterAll(async () => {
    await runner?.stop();
    await t?.close();
  });

  /** Uploads, waits for the job to end, and returns it. */
  async function runImport(tenant: string, body: string, query: string, options: { contentType?: string; token?: string } = {}) {
    const accepted = await upload(t.baseUrl, tenant, body, { query, ...options });
    expect(accepted.status, accepted.text).toBe(202);
    const location = accepted.headers.get('location')!;
    return { job: await waitForJob(t.baseUrl, location, undefined, undefined, options.token), location };
  }

  it('updates existing users under onConflict=update, with the audit of a PATCH, and creates the new ones', async () => {
    await createTenant(t, { id: 'upsert' });
    await t.call('PUT', '/v1/tenants/upsert/roles/staff', { body: {} });
    const existing = await t.call('POST', '/v1/tenants/upsert/users', { body: { email: 'ada@example.com', name: { givenName: 'Ada', familyName: 'Byron' } } });
    expect(existing.status, existing.text).toBe(201);

    const csv = 'email,givenName,familyName,roles,phoneNumber\nADA@example.com,Ada,Lovelace,staff,+44 20 7946 0018\nnew@example.com,New,Person,,\n';
    const { job, location } = await runImport('upsert', csv, '?onConflict=update&notify=false');
    expect(job).toMatchObject({ state: 'completed', total: 2, processed: 2, created: 1, updated: 1, failed: 0, skipped: 0, options: { onConflict: 'update' } });
    expect(await errorLines(t.baseUrl, location)).toEqual([]);

    const [ada] = await usersWithEmail(t, 'upsert', 'ada@example.com');
    expect(ada).toMatchObject({ id: existing.body.id, name: { givenName: 'Ada', familyName: 'Lovelace' }, roles: ['staff'], phoneNumber: '+44 20 7946 0018', revision: 2 });
    expect(await usersWithEmail(t, 'upsert', 'new@example.com')).toHaveLength(1);
    const audit = await t.call('GET', `/v1/tenants/upsert/audit?resourceId=${ada.id}&action=user.updated`);
    expect(audit.status, audit.text).toBe(200);
    expect(audit.body.events).toHaveLength(1);
    expect(audit.body.events[0].detail.fields).toEqual(expect.arrayContaining(['name', 'phoneNumber', 'roles']));

    // Running the same file again changes nothing new: every row names an existing user now.
    const again = await runImport('upsert', csv, '?onConflict=update&notify=false');
    expect(again.job).toMatchObject({ state: 'completed', created: 0, updated: 2, failed: 0 });
  });

  it('applies the privilege rule of a PATCH: a user manager cannot change an admin through an import', async () => {
    await createTenant(t, { id: 'guarded' });
    await t.call('PUT', '/v1/tenants/guarded/roles/root', { body: { admin: true } });
    const admin = await t.call('POST', '/v1/tenants/guarded/users', { body: { email: 'root@example.com', roles: ['root'] } });
    expect(admin.status, admin.text).toBe(201);
    const manager = await issueKey(t, 'guarded', 'user-manager');

    const csv = 'email,userName,givenName\nroot@example.com,taken-over,Mallory\n';
    const { job, location } = await runImport('guarded', csv, '?onConflict=update&notify=false', { token: manager.token });
    expect(job).toMatchObject({ state: 'completed', created: 0, updated: 0, failed: 1 });
    const [error] = await errorLines(t.baseUrl, location, manager.token);
    expect(error).toMatchObject({ row: 1, code: 'ADMIN_ROLE_FORBIDDEN', source: { email: 'root@example.com', userName: 'taken-over', givenName: 'Mallory' } });
    const [root] = await usersWithEmail(t, 'guarded', 'root@example.com');
    expect(root).toMatchObject({ userName: 'root@example.com', revision: 1 });
  });

  it('refuses what only a new user may carry when a row names an existing one', async () => {
    await createTenant(t, { id: 'hashes' });
    await t.call('POST', '/v1/tenants/hashes/users', { body: { email: 'kim@example.com' } });
    const ndjson = `${JSON.stringify({ email: 'kim@example.com', passwordHash: '$2b$10$abcdefghijklmnopqrstuuN0aE1bQeVbbrqM5E1KJ1rVJ2RlmH3S6' })}\n`;
    const { job, location } = await runImport('hashes', ndjson, '?onConflict=update&notify=false', { contentType: 'application/x-ndjson' });
    expect(job).toMatchObject({ created: 0, updated: 0, failed: 1 });
    const [error] = await errorLines(t.baseUrl, location);
    expect(error).toMatchObject({ row: 1, code: 'INVALID_FIELD', field: 'passwordHash', source: { email: 'kim@example.com' } });
    // The source of a JSON row is the row itself, without its password fields.
    expect(error.source).not.toHaveProperty('passwordHash');
  });

  it('reports each failed row with the row as uploaded, the row it duplicates and the value that failed', async () => {
    await createTenant(t, { id: 'sources' });
    await t.call('PUT', '/v1/tenants/sources/roles/staff', { body: {} });
    const csv = [
      'E-Mail,password,givenName,roles,Notes',
      'lin@example.com,correct horse battery,Lin,staff,first',
      'sam@example.com,correct horse battery,Sam,staff;ghost,second',
      'LIN@example.com,another long secret,Lin again,,third',
      '=cmd|calc,correct horse battery,Evil,,fourth',
    ].join('\n');
    const { job, location } = await runImport('sources', `${csv}\n`, '?notify=false&map=E-Mail=email&map=Notes=');
    expect(job).toMatchObject({ state: 'completed', total: 4, created: 1, failed: 3 });

    const errors = await errorLines(t.baseUrl, location);
    expect(errors.map((e) => [e.row, e.code, e.field])).toEqual([
      [2, 'UNKNOWN_REFERENCE', 'roles'],
      [3, 'DUPLICATE_EMAIL', 'email'],
      [4, 'INVALID_FIELD', 'email'],
    ]);
    // The multi-valued cell names the value that failed.
    expect(errors[0].message).toContain('"ghost"');
    expect(errors[0].source).toEqual({ 'E-Mail': 'sam@example.com', givenName: 'Sam', roles: 'staff;ghost', Notes: 'second' });
    // The duplicate names the row it repeats.
    expect(errors[1].message).toMatch(/row 1 of this upload/);
    expect(errors[1].source).toEqual({ 'E-Mail': 'LIN@example.com', givenName: 'Lin again', roles: '', Notes: 'third' });
    // No password ever reaches the report.
    const report = await t.call('GET', `${location}/errors?format=csv`);
    expect(report.status).toBe(200);
    expect(report.text).not.toMatch(/correct horse|another long secret/);
    const [header, ...lines] = report.text.trim().split('\n');
    expect(header).toBe('row,email,code,field,message,source');
    expect(lines).toHaveLength(3);
    // A cell a spreadsheet would run is written as text.
    expect(lines[2]).toMatch(/^4,'=cmd\|calc,INVALID_FIELD,email,/);
  });

  it('exports users as CSV and NDJSON that import back unchanged, without passwords', async () => {
    await createTenant(t, { id: 'origin' });
    await createTenant(t, { id: 'copy-csv' });
    await createTenant(t, { id: 'copy-ndjson' });
    for (const tenant of ['origin', 'copy-csv', 'copy-ndjson']) {
      await t.call('PUT', `/v1/tenants/${tenant}/roles/staff`, { body: {} });
      await t.call('PUT', `/v1/tenants/${tenant}/roles/ops`, { body: {} });
      await t.call('PUT', `/v1/tenants/${tenant}/departments/D1`, { body: {} });
      await t.call('PUT', `/v1/tenants/${tenant}/locations/L-1`, { body: {} });
    }
    const users = [
      { email: 'ada@example.com', userName: 'ada', password: 'analytical engine 1843', name: { givenName: 'Ada', familyName: 'Lovelace' }, phoneNumber: '+44 20 7946 0018', roles: ['staff', 'ops'], access: { departmentId: 'D1', locationId: 'L-1' } },
      { email: 'grace@example.com', name: { givenName: 'Grace', familyName: 'Hopper, "Amazing"', formatted: 'RADM Grace Hopper' }, lockedOut: true, approved: false, externalId: 'ext-42', employeeNumber: 'E7', department: 'Navy' },
      { email: 'plain@example.com' },
      { email: 'formula@example.com', name: { givenName: '=SUM(A1)', familyName: '-minus' } },
    ];
    const batch = await t.call('POST', '/v1/tenants/origin/users/batch?notify=false', { body: { users } });
    expect(batch.body.successCount, batch.text).toBe(users.length);

    const view = (list: any[]) =>
      list.map(({ id: _id, number: _n, tenant: _t, createdAt: _c, updatedAt: _u, revision: _r, hasPassword: _h, ...rest }) => rest).sort((a, b) => a.email.localeCompare(b.email));
    const original = view((await t.call('GET', '/v1/tenants/origin/users?limit=100')).body.users);

    const csv = await t.call('GET', '/v1/tenants/origin/users/export?format=csv');
    expect(csv.status, csv.text).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(csv.text.split('\n')[0]).toBe('email,userName,externalId,givenName,familyName,formattedName,phoneNumber,roles,departmentId,locationId,programAdminRoleId,lockedOut,approved,employeeNumber,departmentName');
    expect(csv.text).toContain("'+44 20 7946 0018");
    const ndjson = await t.call('GET', '/v1/tenants/origin/users/export', { headers: { accept: 'application/x-ndjson' } });
    expect(ndjson.status, ndjson.text).toBe(200);
    expect(ndjson.text.trim().split('\n')).toHaveLength(users.length);
    for (const text of [csv.text, ndjson.text]) expect(text).not.toMatch(/password|analytical engine|argon2/i);

    expect((await runImport('copy-csv', csv.text, '?notify=false')).job).toMatchObject({ state: 'completed', created: users.length, failed: 0 });
    expect((await runImport('copy-ndjson', ndjson.text, '?notify=false', { contentType: 'application/x-ndjson' })).job).toMatchObject({ state: 'completed', created: users.length, failed: 0 });
    expect(view((await t.call('GET', '/v1/tenants/copy-csv/users?limit=100')).body.users)).toEqual(original);
    expect(view((await t.call('GET', '/v1/tenants/copy-ndjson/users?limit=100')).body.users)).toEqual(original);
  });

  it('lets a reader export, and no one export another tenant', async () => {
    await createTenant(t, { id: 'private' });
    await t.call('POST', '/v1/tenants/private/users', { body: { email: 'secret@example.com' } });
    const reader = await issueKey(t, 'private', 'reader');
    const outsider = await issueKey(t, 'origin', 'tenant-admin');
    const own = await t.call('GET', '/v1/tenants/private/users/export?format=ndjson', { token: reader.token });
    expect(own.status).toBe(200);
    expect(own.text).toContain('secret@example.com');
    const other = await t.call('GET', '/v1/tenants/private/users/export?format=ndjson', { token: outsider.token });
    expect(other.status).toBe(404);
    expect(other.text).not.toContain('secret@example.com');
    expect((await t.call('GET', '/v1/tenants/private/users/export', { token: null })).status).toBe(401);
    expect((await t.call('GET', '/v1/tenants/private/users/export?format=xml')).status).toBe(400);
  });
});
