import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVER_ADMIN_TOKEN, startServerProcess, type ServerProcess } from './helpers/import-server.js';
import { muster } from './helpers/cli.js';
import { call } from './helpers/test-app.js';


describe('the muster command line against a running server', () => {
  const dir = mkdtempSync(join(tmpdir(), 'muster-cli-'));
  let server: ServerProcess;
  let env: Record<string, string>;
  beforeAll(async () => {
    server = await startServerProcess({ DATABASE_URL: `sqlite:${join(dir, 'muster.db')}`, LOG_LEVEL: 'info' });
    env = { MUSTER_URL: server.baseUrl, MUSTER_TOKEN: SERVER_ADMIN_TOKEN, MUSTER_STATE_DIR: join(dir, 'state') };
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('migrates a database, creates a tenant and issues a key', async () => {
    const url = `sqlite:${join(dir, 'fresh.db')}`;
    const first = await muster(['migrate', '--database-url', url], {}, dir);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^Applied: 0001-initial, .*0003-imports/);
    expect((await muster(['migrate'], { DATABASE_URL: url }, dir)).stdout).toBe('The database is up to date.\n');

    const tenant = await muster(['tenant', 'create', 'acme', '--name', 'Acme Inc', '--seat-limit', '100000'], env, dir);
    expect(tenant.code, tenant.stderr).toBe(0);
    expect(JSON.parse(tenant.stdout)).toMatchObject({ id: 'acme', name: 'Acme Inc', seatLimit: 100000 });
    const key = await muster(['key', 'issue', '--tenant', 'acme', '--role', 'user-manager', '--name', 'hr import'], env, dir);
    expect(key.code, key.stderr).toBe(0);
    expect(JSON.parse(key.stdout)).toMatchObject({ tenant: 'acme', role: 'user-manager', token: expect.stringMatching(/^mst_/) });
    expect(key.stderr).toContain('not shown again');

    const refused = await muster(['tenant', 'create', 'acme'], env, dir);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('CONFLICT');
    const anonymous = await muster(['tenant', 'create', 'other'], { MUSTER_URL: server.baseUrl }, dir);
    expect(anonymous.stderr).toContain('--token');
  });

  it('imports a CSV with mapped columns, shows progress and writes the failed rows to an errors file', async () => {
    const key = JSON.parse((await muster(['key', 'issue', '--tenant', 'acme', '--role', 'user-manager'], env, dir)).stdout);
    const lines = ['E-Mail,First Name,Last Name,Notes'];
    for (let i = 1; i <= 5000; i++) lines.push(i === 42 ? 'not-an-email,Bad,Row,' : i === 4321 ? `cli${i}@example.com,"Quoted, ""Name""",Row,x,extra` : `cli${i}@example.com,Given${i},Family,"a note, quoted"`);
    writeFileSync(join(dir, 'staff.csv'), `${lines.join('\n')}\n`);

    const run = await muster(['import', 'staff.csv', '--tenant', 'acme', '--token', key.token, '--map', 'E-Mail=email', '--map', 'Notes=', '--no-notify'], env, dir);
    expect(run.code, run.stderr).toBe(3);
    expect(run.stderr).toContain('Uploading');
    expect(run.stderr).toMatch(/Importing: 5000\/5000 rows \(completed\)/);
    expect(run.stdout).toMatch(/Import imp_\w+ completed/);
    expect(run.stdout).toMatch(/rows: +5000 of 5000/);
    expect(run.stdout).toMatch(/created: +4998/);
    expect(run.stdout).toMatch(/failed: +2/);
    const errorsPath = join(dir, 'staff.errors.csv');
    expect(run.stdout).toContain(`Errors (2 rows): ${errorsPath}`);
    const report = readFileSync(errorsPath, 'utf8').trim().split('\n');
    expect(report[0]).toBe('row,email,code,field,message,source');
    expect(report.slice(1).map((l) => l.split(',').slice(0, 3).join(','))).toEqual(['42,not-an-email,INVALID_FIELD', '4321,cli4321@example.com,INVALID_FIELD']);
    const found = await call(server.baseUrl, 'GET', '/v1/tenants/acme/users?email=cli4999@example.com', { token: SERVER_ADMIN_TOKEN });
    expect(found.body.users[0].name).toMatchObject({ givenName: 'Given4999', familyName: 'Family' });
  });

  it('resumes an interrupted import: the same command follows the same job, and --resume attaches to it', async () => {
    const rows = ['email'];
    for (let i = 1; i <= 60_000; i++) rows.push(`resume${i}@example.com`);
    writeFileSync(join(dir, 'resume.csv'), `${rows.join('\n')}\n`);
    const args = ['import', 'resume.csv', '--tenant', 'acme', '--no-notify', '--poll-interval', '100'];

    let interrupted = false;
    const first = await muster(args, env, dir, (stderr, child) => {
      // Interrupted as soon as the server holds the rows: the job is then still creating users.
      if (!interrupted && /60000 rows stored/.test(stderr)) {
        interrupted = true;
        child.kill('SIGINT');
      }
    });
    expect(first.code, first.stderr).toBe(130);
    expect(first.stderr).toContain('goes on in the server');
    const jobId = /Import (imp_\w+): 60000 rows stored/.exec(first.stderr)![1]!;

    const second = await muster(args, env, dir);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain(`Resuming import ${jobId}`);
    expect(second.stderr).not.toContain('Uploading');
    expect(second.stdout).toContain(`Import ${jobId} completed`);
    expect(second.stdout).toMatch(/created: +60000/);

    const listed = await call(server.baseUrl, 'GET', '/v1/tenants/acme/imports?limit=100', { token: SERVER_ADMIN_TOKEN });
    expect(listed.body.imports.filter((j: { total: number }) => j.total === 60_000)).toHaveLength(1);

    const attached = await muster(['import', '--resume', jobId, '--tenant', 'acme'], env, dir);
    expect(attached.code, attached.stderr).toBe(0);
    expect(attached.stdout).toContain(`No row failed; the errors file is empty: ${join(dir, `${jobId}.errors.csv`)}`);
  }, 120_000);
});
