/**
 * `muster export` and a completed `muster import` run again, end to end: the command line
 * against a server process on a real SQLite file and on the test run's PostgreSQL.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, DATABASES, type TestDatabase } from './helpers/databases.js';
import { SERVER_ADMIN_TOKEN, startServerProcess, type ServerProcess } from './helpers/import-server.js';
import { muster } from './helpers/cli.js';
import { call } from './helpers/test-app.js';


describe.each(DATABASES)('muster export and a repeated muster import on %s', (kind) => {
  const dir = mkdtempSync(join(tmpdir(), 'muster-cli-export-'));
  let database: TestDatabase;
  let server: ServerProcess;
  let env: Record<string, string>;
  beforeAll(async () => {
    database = await createTestDatabase(kind);
    server = await startServerProcess({ DATABASE_URL: kind === 'sqlite' ? `sqlite:${join(dir, 'muster.db')}` : database.url });
    env = { MUSTER_URL: server.baseUrl, MUSTER_TOKEN: SERVER_ADMIN_TOKEN, MUSTER_STATE_DIR: join(dir, 'state') };
    for (const tenant of ['acme', 'mirror']) {
      expect((await muster(['tenant', 'create', tenant], env, dir)).code).toBe(0);
      expect((await call(server.baseUrl, 'PUT', `/v1/tenants/${tenant}/roles/staff`, { body: {}, token: SERVER_ADMIN_TOKEN })).status).toBe(201);
    }
  });
  afterAll(async () => {
    await server?.stop();
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function jobsOf(tenant: string): Promise<any[]> {
    const res = await call(server.baseUrl, 'GET', `/v1/tenants/${tenant}/imports`, { token: SERVER_ADMIN_TOKEN });
    expect(res.status, res.text).toBe(200);
    return res.body.imports;
  }

  it('says a completed import already completed instead of importing it again, and --new imports again', async () => {
    writeFileSync(join(dir, 'people.csv'), 'email,givenName,roles\nann@example.com,Ann,staff\nbob@example.com,Bob,\n');
    const first = await muster(['import', 'people.csv', '--tenant', 'acme', '--no-notify', '--no-progress'], env, dir);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/completed/);
    expect(await jobsOf('acme')).toHaveLength(1);

    const again = await muster(['import', 'people.csv', '--tenant', 'acme', '--no-notify', '--no-progress'], env, dir);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/already completed/);
    expect(again.stdout).toMatch(/2 created, 0 failed/);
    expect(again.stdout).toContain('--new');
    expect(await jobsOf('acme')).toHaveLength(1);

    // --new: a second job, whose rows now name existing users; with update they change them.
    const renewed = await muster(['import', 'people.csv', '--tenant', 'acme', '--no-notify', '--no-progress', '--new', '--on-conflict', 'update'], env, dir);
    expect(renewed.code, renewed.stderr).toBe(0);
    expect(renewed.stdout).toMatch(/updated: +2/);
    expect(await jobsOf('acme')).toHaveLength(2);
  });

  it('exports a tenant to a file that muster import reads back, and to standard output', async () => {
    const toFile = await muster(['export', '--tenant', 'acme', '--output', 'acme.csv'], env, dir);
    expect(toFile.code, toFile.stderr).toBe(0);
    const csv = readFileSync(join(dir, 'acme.csv'), 'utf8');
    expect(csv.split('\n')[0]).toMatch(/^email,userName,/);
    expect(csv).toContain('ann@example.com');
    expect(csv).not.toMatch(/password/i);

    const toStdout = await muster(['export', '--tenant', 'acme', '--format', 'ndjson'], env, dir);
    expect(toStdout.code, toStdout.stderr).toBe(0);
    const lines = toStdout.stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(lines.map((u) => u.email).sort()).toEqual(['ann@example.com', 'bob@example.com']);
    expect(lines.find((u) => u.email === 'ann@example.com')).toMatchObject({ roles: ['staff'], name: { givenName: 'Ann' } });

    const back = await muster(['import', 'acme.csv', '--tenant', 'mirror', '--no-notify', '--no-progress'], env, dir);
    expect(back.code, back.stderr).toBe(0);
    const mirrored = await call(server.baseUrl, 'GET', '/v1/tenants/mirror/users', { token: SERVER_ADMIN_TOKEN });
    expect(mirrored.body.users.map((u: any) => [u.email, u.roles])).toEqual(
      expect.arrayContaining([
        ['ann@example.com', ['staff']],
        ['bob@example.com', []],
      ]),
    );

    const refused = await muster(['export', '--tenant', 'nowhere'], env, dir);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('NOT_FOUND');
  });
});
