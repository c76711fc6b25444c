/**
 * Muster Console in Debian's Chromium, driven as a person uses it: by labels and roles, against
 * a real server process on a real SQLite file (its import runner included). Every page is
 * checked with axe-core and photographed at 1366×900 and 390×844 into docs/screenshots.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserUrl, launchBrowser, screenshotDir } from './helpers/browser.js';
import { startServerProcess, type ServerProcess } from './helpers/server-process.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BUILT = join(ROOT, 'dist', 'console', 'index.html');
const SHOTS = screenshotDir();
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** Polls until the assertion holds: generous, since the machine running the suite may be busy. */
const eventually = <T>(read: () => T | Promise<T>) => expect.poll(read, { timeout: 20_000, interval: 100 });

const DESKTOP = { width: 1366, height: 900 };
const PHONE = { width: 390, height: 844 };

/** The newest modification time of the console's inputs. */
function newestInput(): number {
  let newest = 0;
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else newest = Math.max(newest, statSync(path).mtimeMs);
    }
  };
  walk(join(ROOT, 'console'));
  walk(join(ROOT, 'src', 'client'));
  return newest;
}

/** Builds the console when it is missing or older than its sources (a fresh clone has no dist/). */
function ensureConsoleBuilt(): void {
  if (existsSync(BUILT) && statSync(BUILT).mtimeMs >= newestInput()) return;
  const result = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', 'console/vite.config.ts', '--logLevel', 'warn'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 180_000,
    // The runner sets NODE_ENV=test, which would make vite bundle React's development build.
    env: { ...process.env, NODE_ENV: 'production' },
  });
  if (result.status !== 0) throw new Error(`the console did not build:\n${result.stdout}\n${result.stderr}`);
}

let server: ServerProcess;
let browser: Browser;
let dir: string;
let tenantAdminToken: string;
let keyId: string;

async function api(method: string, path: string, body?: unknown, token?: string) {
  const result = await server.call(method, path, { body, ...(token && { token }) });
  if (result.status >= 400) throw new Error(`${method} ${path} → ${result.status} ${result.text}`);
  return result;
}

beforeAll(async () => {
  ensureConsoleBuilt();
  dir = mkdtempSync(join(tmpdir(), 'muster-console-'));
  server = await startServerProcess(`sqlite:${join(dir, 'muster.db')}`);
  await api('POST', '/v1/tenants', { id: 'acme', name: 'Acme Corp', seatLimit: 100_000 });
  await api('PUT', '/v1/tenants/acme/roles/staff', { description: 'Everyone' });
  await api('PUT', '/v1/tenants/acme/departments/eng', { name: 'Engineering' });
  const key = await api('POST', '/v1/tenants/acme/api-keys', { name: 'help desk', role: 'tenant-admin' });
  tenantAdminToken = key.body.token;
  keyId = key.body.id;
  browser = await launchBrowser();
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Session {
  context: BrowserContext;
  page: Page;
  /** Content-Security-Policy violations the page reported. */
  violations(): Promise<string[]>;
}

async function openConsole(viewport = DESKTOP): Promise<Session> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) throw new Error(`the server stopped:\n${server.output()}`);
  const context = await browser.newContext({ viewport, acceptDownloads: true });
  // Browser-side code is passed as text: this file is type-checked without the DOM library.
  await context.addInitScript(`window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));`);
  const page = await context.newPage();
  await page.goto(browserUrl(server.baseUrl, '/console/'));
  return { context, page, violations: () => page.evaluate<string[]>('window.__csp') };
}

async function signIn(page: Page, token: string): Promise<void> {
  await page.getByLabel('API key').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Console' }).waitFor();
}

/** axe-core run in the page; returns the serious and critical violations. */
async function axeViolations(page: Page): Promise<string[]> {
  // Evaluated through the debugging protocol, which the page's CSP does not govern.
  await page.evaluate(AXE_SOURCE);
  const results = await page.evaluate<any>("axe.run(document, { resultTypes: ['violations'] })");
  return (results.violations as any[]).filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.help} (${v.nodes.map((n: any) => n.target.join(' ')).join(', ')})`);
}

/** axe-core on the page as it is, then a screenshot at both sizes. */
async function checkPage(session: Session, name: string): Promise<void> {
  const { page } = session;
  expect(await axeViolations(page), `axe on ${name}`).toEqual([]);
  await page.screenshot({ path: join(SHOTS, `${name}-1366.png`) });
  await page.setViewportSize(PHONE);
  expect(await axeViolations(page), `axe on ${name} at phone width`).toEqual([]);
  await page.screenshot({ path: join(SHOTS, `${name}-390.png`) });
  await page.setViewportSize(DESKTOP);
  expect(await session.violations()).toEqual([]);
}

describe('Muster Console', () => {
  it('is served with a strict CSP and a page that needs nothing from another host', async () => {
    const res = await fetch(`${server.baseUrl}/console/`);
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain('upgrade-insecure-requests');
    const html = await res.text();
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/<script>(?!<\/script>)/);
    const redirect = await fetch(`${server.baseUrl}/console`, { redirect: 'manual' });
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get('location')).toBe('/console/');
  });

  it('ships under 300 KB of gzipped JavaScript', () => {
    const assets = join(ROOT, 'dist', 'console', 'assets');
    const scripts = readdirSync(assets).filter((name) => name.endsWith('.js'));
    expect(scripts.length).toBeGreaterThan(0);
    const gzipped = scripts.reduce((sum, name) => sum + gzipSync(readFileSync(join(assets, name))).length, 0);
    expect(gzipped).toBeLessThan(300 * 1024);
  });

  it('signs in with an API key, shows its tenant and role, and forgets the key on sign-out', async () => {
    const session = await openConsole();
    const { page } = session;
    try {
      await page.getByRole('heading', { name: 'Sign in to Muster Console' }).waitFor();
      await checkPage(session, 'sign-in');
      await page.getByLabel('API key').fill('mst_not-a-real-key');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await eventually(() => page.getByRole('alert').textContent()).toContain('not valid');

      // By keyboard alone: type the key, press Enter.
      await page.getByLabel('API key').fill('');
      await page.getByLabel('API key').focus();
      await page.keyboard.type(tenantAdminToken);
      await page.keyboard.press('Enter');
      await page.getByRole('navigation', { name: 'Console' }).waitFor();
      const header = page.getByRole('banner');
      await eventually(() => header.textContent()).toContain('acme');
      expect(await header.textContent()).toContain('tenant-admin');
      // A tenant admin is not offered the tenants page.
      expect(await page.getByRole('link', { name: 'Tenants' }).count()).toBe(0);
      expect(await page.evaluate('Object.keys(sessionStorage)')).toEqual(['muster.token']);
      expect(await page.evaluate('localStorage.length')).toBe(0);

      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('heading', { name: 'Sign in to Muster Console' }).waitFor();
      expect(await page.evaluate('sessionStorage.length')).toBe(0);
      expect(await session.violations()).toEqual([]);
    } finally {
      await session.context.close();
    }
  });

  it('offers a reader only what a reader may do', async () => {
    const reader = await api('POST', '/v1/tenants/acme/api-keys', { name: 'auditor', role: 'reader' });
    const session = await openConsole();
    const { page } = session;
    try {
      await signIn(page, reader.body.token);
      const links = await page.getByRole('navigation', { name: 'Console' }).getByRole('link').allTextContents();
      expect(links).toEqual(['Users', 'Imports']);
      await page.getByRole('heading', { name: 'Users', level: 1 }).waitFor();
      expect(await page.getByRole('link', { name: 'New user' }).count()).toBe(0);
    } finally {
      await session.context.close();
    }
  });

  it('creates a user, and shows a duplicate email and a weak password beside their fields', async () => {
    const session = await openConsole();
    const { page } = session;
    try {
      await signIn(page, tenantAdminToken);
      await page.getByRole('link', { name: 'New user' }).click();
      await page.getByLabel('Email', { exact: true }).fill('grace.hopper@acme.test');
      await page.getByLabel('Given name').fill('Grace');
      await page.getByLabel('Family name').fill('Hopper');
      await page.getByLabel('Password', { exact: true }).fill('Compilers-1952-Navy');
      await page.getByRole('group', { name: 'Roles' }).getByRole('checkbox', { name: 'staff' }).check();
      await page.getByRole('combobox', { name: 'Department' }).selectOption('eng');
      await page.getByLabel('Send the welcome or invitation email').uncheck();
      await page.getByRole('button', { name: 'Create user' }).click();
      await page.getByRole('heading', { name: 'Grace Hopper', level: 1 }).waitFor();
      const created = await api('GET', '/v1/tenants/acme/users?email=grace.hopper@acme.test');
      expect(created.body.users).toHaveLength(1);
      expect(created.body.users[0].roles).toEqual(['staff']);
      expect(created.body.users[0].access).toEqual({ departmentId: 'eng' });

      await page.getByRole('link', { name: 'Users', exact: true }).click();
      await page.getByRole('link', { name: 'New user' }).click();
      // The same address in other case: the server's DUPLICATE_EMAIL, under the email field.
      const email = page.getByLabel('Email', { exact: true });
      const password = page.getByLabel('Password', { exact: true });
      const errorOf = async (field: typeof email) => page.locator(`#${(await field.getAttribute('aria-describedby'))!.split(' ').pop()}`).textContent();
      await email.fill('Grace.Hopper@ACME.test');
      await password.fill('Another-Long-Secret-77');
      await page.getByRole('button', { name: 'Create user' }).click();
      await eventually(() => email.getAttribute('aria-invalid')).toBe('true');
      expect(await errorOf(email)).toMatch(/already used/i);
      // Focus moves to the field in error, so its message is read out at once.
      await eventually(() => email.evaluate((el) => el === el.ownerDocument.activeElement)).toBe(true);
      expect(await password.getAttribute('aria-invalid')).toBeNull();
      await checkPage(session, 'new-user-duplicate');
      // The tenant's password policy's message, under the password field.
      await email.fill('grace.h@acme.test');
      await password.fill('password');
      await page.getByRole('button', { name: 'Create user' }).click();
      await eventually(() => password.getAttribute('aria-invalid')).toBe('true');
      expect(await errorOf(password)).toMatch(/password/i);
      expect(await email.getAttribute('aria-invalid')).toBeNull();
      await checkPage(session, 'new-user-errors');
    } finally {
      await session.context.close();
    }
  });

  it('says plainly when someone else changed the user first, and saves after a reload', async () => {
    const made = await api('POST', '/v1/tenants/acme/users?notify=false', { email: 'ada@acme.test', name: { givenName: 'Ada', familyName: 'Lovelace' } });
    const id = made.body.id as string;
    const session = await openConsole();
    const { page } = session;
    try {
      await signIn(page, tenantAdminToken);
      await page.goto(browserUrl(server.baseUrl, `/console/users/${id}`));
      await page.getByRole('heading', { name: 'Ada Lovelace', level: 1 }).waitFor();
      await checkPage(session, 'user-detail');
      // Someone else changes her first (revision 1 → 2).
      await server.call('PATCH', `/v1/tenants/acme/users/${id}`, { body: { phoneNumber: '+44 20 7946 0000' }, headers: { 'if-match': '"1"' } });
      await page.getByLabel('Family name').fill('King');
      await page.getByRole('button', { name: 'Save changes' }).click();
      await eventually(() => page.getByRole('alert').textContent()).toContain('Someone else changed this user');
      expect((await api('GET', `/v1/tenants/acme/users/${id}`)).body.name.familyName).toBe('Lovelace');

      await page.getByRole('button', { name: 'Reload the latest version' }).click();
      await eventually(() => page.getByLabel('Phone number').inputValue()).toBe('+44 20 7946 0000');
      await page.getByLabel('Family name').fill('King');
      await page.getByRole('button', { name: 'Save changes' }).click();
      await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
      const after = (await api('GET', `/v1/tenants/acme/users/${id}`)).body;
      expect(after.name.familyName).toBe('King');
      expect(after.revision).toBe(3);
    } finally {
      await session.context.close();
    }
  });

  it('locks, unlocks, re-invites and deletes a user after a confirmation', async () => {
    const made = await api('POST', '/v1/tenants/acme/users?notify=false', { email: 'temp.worker@acme.test', name: { givenName: 'Temp', familyName: 'Worker' } });
    const id = made.body.id as string;
    const session = await openConsole();
    const { page } = session;
    try {
      await signIn(page, tenantAdminToken);
      await page.goto(browserUrl(server.baseUrl, `/console/users/${id}`));
      await page.getByRole('button', { name: 'Lock', exact: true }).click();
      await page.getByRole('button', { name: 'Unlock' }).waitFor();
      expect((await api('GET', `/v1/tenants/acme/users/${id}`)).body.lockedOut).toBe(true);
      await page.getByRole('button', { name: 'Unlock' }).click();
      await page.getByRole('button', { name: 'Lock', exact: true }).waitFor();
      expect((await api('GET', `/v1/tenants/acme/users/${id}`)).body.lockedOut).toBe(false);

      // No password yet: a new invitation, with a fresh code, goes to the outbox.
      await page.getByRole('button', { name: 'Resend invitation' }).click();
      await page.getByRole('status').filter({ hasText: 'A new invitation is on its way' }).waitFor();
      const messages = (await api('GET', `/v1/tenants/acme/messages?userId=${id}`)).body.messages;
      expect(messages.filter((m: { kind: string; status: string }) => m.kind === 'invitation' && m.status === 'pending')).toHaveLength(1);

      await page.getByRole('button', { name: 'Delete user' }).click();
      const dialog = page.getByRole('dialog');
      expect(await dialog.textContent()).toContain('temp.worker@acme.test');
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      expect((await server.call('GET', `/v1/tenants/acme/users/${id}`)).status).toBe(200);
      await page.getByRole('button', { name: 'Delete user' }).click();
      await dialog.getByRole('button', { name: 'Delete' }).click();
      await page.getByRole('heading', { name: 'Users', level: 1 }).waitFor();
      expect((await server.call('GET', `/v1/tenants/acme/users/${id}`)).status).toBe(404);
    } finally {
      await session.context.close();
    }
  });

  it('pages through users with the cursor and finds one by email or user name', async () => {
    await api('POST', '/v1/tenants', { id: 'paged', name: 'Paged' });
    const users = Array.from({ length: 60 }, (_, i) => ({ email: `person${String(i).padStart(2, '0')}@paged.test`, userName: `person${i}`, name: { givenName: 'Person', familyName: String(i) } }));
    await api('POST', '/v1/tenants/paged/users/batch?notify=false', { users });
    const session = await openConsole();
    const { page } = session;
    try {
      await signIn(page, (await api('POST', '/v1/tenants/paged/api-keys', { name: 'desk', role: 'user-manager' })).body.token);
      const table = page.getByRole('table', { name: 'Users of paged' });
      await eventually(() => table.getByRole('row').count()).toBe(51);
      await checkPage(session, 'users');
      await page.getByRole('button', { name: 'Next page' }).click();
      await eventually(() => table.getByRole('row').count()).toBe(11);
      expect(await page.getByRole('button', { name: 'Next page' }).isDisabled()).toBe(true);
      await page.getByRole('button', { name: 'Previous page' }).click();
      await eventually(() => table.getByRole('row').count()).toBe(51);

      await page.getByLabel('Search by email or user name').fill('PERSON07@paged.test');
      await page.getByRole('button', { name: 'Search', exact: true }).click();
      const found = page.getByRole('table', { name: 'Users matching PERSON07@paged.test' });
      await eventually(() => found.getByRole('row').count()).toBe(2);
      expect(await found.textContent()).toContain('person07@paged.test');
      await page.getByLabel('Search by email or user name').fill('person42');
      await page.getByRole('button', { name: 'Search', exact: true }).click();
      await eventually(() => page.getByRole('table', { name: 'Users matching person42' }).textContent()).toContain('person42@paged.test');
    } finally {
      await session.context.close();
    }
  });

  it('imports a CSV of a few thousand rows with bad ones, watches it complete, and downloads the errors', async () => {
    const rows = ['email,givenName,familyName,roles'];
    const bad = new Set<number>();
    for (let i = 0; i < 3000; i++) {
      if (i % 100 === 7) {
        bad.add(i);
        rows.push(`not-an-email-${i},Bad,Row${i},staff`);
      } else rows.push(`imported${i}@acme.test,Imported,Person${i},staff`);
    }
    const session = await openConsole();
    const { page } = session;
    try {
      await signIn(page, tenantAdminToken);
      await page.getByRole('link', { name: 'Imports' }).click();
      await page.getByLabel('File to import (CSV, NDJSON or JSON)').setInputFiles({ name: 'people.csv', mimeType: 'text/csv', buffer: Buffer.from(rows.join('\n') + '\n') });
      const taken = page.getByRole('combobox', { name: 'When an email or user name is taken' });
      expect(await taken.locator('option').evaluateAll((options) => options.map((o) => (o as unknown as { value: string }).value))).toEqual(['fail', 'skip', 'update']);
      await taken.selectOption('skip');
      await checkPage(session, 'imports');
      await page.getByRole('button', { name: 'Start import' }).click();
      await page.getByRole('heading', { name: /^Import imp_/ }).waitFor();
      const state = page.getByRole('status').filter({ hasText: /Completed|Running|Queued/ });
      await expect.poll(() => state.textContent(), { timeout: 60_000, interval: 100 }).toContain('Completed');
      expect(await page.getByRole('progressbar', { name: 'Rows processed' }).getAttribute('value')).toBe('3000');
      const facts = await page.locator('dl.facts').textContent();
      expect(facts).toContain(`Created${3000 - bad.size}`);
      expect(facts).toContain(`Failed${bad.size}`);

      const failed = page.getByRole('table', { name: 'Failed rows' });
      await eventually(() => failed.textContent()).toContain('INVALID_FIELD');
      expect(await failed.getByRole('row').count()).toBe(bad.size + 1);
      await checkPage(session, 'import-detail');

      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download errors (CSV)' }).click()]);
      const csv = readFileSync(await download.path(), 'utf8').trim().split('\n');
      expect(csv[0]).toMatch(/^row,email,code,field,message/);
      expect(csv).toHaveLength(bad.size + 1);
      expect(csv[1]).toContain('not-an-email-7');
      expect(download.suggestedFilename()).toMatch(/^imp_.*-errors\.csv$/);

      await page.getByRole('link', { name: 'All imports' }).click();
      await eventually(() => page.getByRole('table', { name: 'Imports, newest first' }).textContent()).toContain('completed');
    } finally {
      await session.context.close();
    }
  });

  it('imports an NDJSON file dropped on the page as a dry run: every row checked, nothing created', async () => {
    await api('POST', '/v1/tenants', { id: 'dry', name: 'Dry' });
    const key = await api('POST', '/v1/tenants/dry/api-keys', { name: 'desk', role: 'user-manager' });
    const lines = Array.from({ length: 500 }, (_, i) => JSON.stringify({ email: i === 250 ? 'broken' : `dry${i}@dry.test`, name: { givenName: 'Dry', familyName: String(i) } }));
    const session = await openConsole();
    const { page } = session;
    try {
      await signIn(page, key.body.token);
      await page.getByRole('link', { name: 'Imports' }).click();
      // Dropped on the drop zone, as a person drags it from their desktop.
      const dataTransfer = await page.evaluateHandle(
        `(() => { const t = new DataTransfer(); t.items.add(new File([${JSON.stringify(lines.join('\n') + '\n')}], 'people.ndjson', { type: 'application/x-ndjson' })); return t; })()`,
      );
      await page.locator('.dropzone').dispatchEvent('dragover', { dataTransfer });
      await page.locator('.dropzone').dispatchEvent('drop', { dataTransfer });
      await page.getByRole('status').filter({ hasText: 'people.ndjson' }).filter({ hasText: 'NDJSON' }).waitFor();
      expect(await page.getByLabel('File to import (CSV, NDJSON or JSON)').evaluate((el) => (el as unknown as { files: { name: string }[] }).files[0]?.name)).toBe('people.ndjson');
      await page.getByLabel('Dry run (check every row, create nothing)').check();
      await page.getByRole('button', { name: 'Start import' }).click();
      await expect.poll(() => page.getByRole('status').filter({ hasText: /Completed|Running|Queued/ }).textContent(), { timeout: 60_000, interval: 100 }).toContain('Completed (dry run)');
      const failed = page.getByRole('table', { name: 'Failed rows' });
      await eventually(() => failed.textContent()).toContain('broken');
      expect(await failed.getByRole('row').count()).toBe(2);
      const id = (await page.getByRole('heading', { level: 1 }).textContent())!.replace('Import ', '');
      const job = (await api('GET', `/v1/tenants/dry/imports/${id}`)).body;
      expect(job).toMatchObject({ format: 'ndjson', total: 500, created: 499, failed: 1, options: { dryRun: true, notify: false, onConflict: 'fail' } });
      expect((await api('GET', '/v1/tenants/dry')).body.seatsUsed).toBe(0);
    } finally {
      await session.context.close();
    }
  });

  it('cancels a running import: the rows already created stay, no further chunk is committed', async () => {
    await api('POST', '/v1/tenants', { id: 'cancels', name: 'Cancels' });
    const key = await api('POST', '/v1/tenants/cancels/api-keys', { name: 'desk', role: 'user-manager' });
    const rows = ['email'];
    for (let i = 0; i < 100_000; i++) rows.push(`bulk${i}@cancels.test`);
    const session = await openConsole();
    const { page } = session;
    try {
      await signIn(page, key.body.token);
      await page.getByRole('link', { name: 'Imports' }).click();
      await page.getByLabel('File to import (CSV, NDJSON or JSON)').setInputFiles({ name: 'bulk.csv', mimeType: 'text/csv', buffer: Buffer.from(rows.join('\n')) });
      await page.getByRole('button', { name: 'Start import' }).click();
      await page.getByRole('button', { name: 'Cancel import' }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Cancel import' }).click();
      await eventually(() => page.getByRole('status').filter({ hasText: /Cancelled|Completed|Running|Queued/ }).textContent()).toContain('Cancelled');
      const id = (await page.getByRole('heading', { level: 1 }).textContent())!.replace('Import ', '');
      const job = (await api('GET', `/v1/tenants/cancels/imports/${id}`)).body;
      expect(job.state).toBe('cancelled');
      expect(job.created).toBeLessThan(100_000);
      // Nothing more is created after the cancellation.
      const count = async () => (await api('GET', '/v1/tenants/cancels')).body.seatsUsed as number;
      const settled = await count();
      expect(settled).toBe(job.created);
      expect(await page.getByRole('button', { name: 'Cancel import' }).count()).toBe(0);
    } finally {
      await session.context.close();
    }
  });

  it('issues a key whose token is shown once, and revokes it', async () => {
    const session = await openConsole();
    const { page } = session;
    try {
      await signIn(page, tenantAdminToken);
      await page.getByRole('link', { name: 'API keys' }).click();
      await page.getByLabel('Key name').fill('payroll sync');
      await page.getByRole('combobox', { name: 'Key role' }).selectOption('user-manager');
      await page.getByRole('button', { name: 'Issue key' }).click();
      const token = await page.getByLabel('Token', { exact: true }).inputValue();
      expect(token).toMatch(/^mst_/);
      const who = await server.call('GET', '/v1/session', { token });
      expect(who.status).toBe(200);
      expect(who.body).toMatchObject({ role: 'user-manager', tenant: 'acme' });
      await checkPage(session, 'api-keys');
      await page.getByRole('button', { name: 'I have stored it' }).click();
      expect(await page.getByLabel('Token', { exact: true }).count()).toBe(0);
      expect(await page.content()).not.toContain(token);

      await page.getByRole('button', { name: 'Revoke payroll sync' }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Revoke' }).click();
      await page.getByRole('status').filter({ hasText: 'revoked' }).waitFor();
      expect((await server.call('GET', '/v1/session', { token })).status).toBe(401);

      // Signed in with a key that is then revoked: the console signs out and says why.
      const other = await openConsole();
      try {
        await signIn(other.page, (await api('POST', '/v1/tenants/acme/api-keys', { name: 'short-lived', role: 'reader' })).body.token);
        await other.page.getByRole('table', { name: 'Users of acme' }).waitFor();
        const shortLived = (await api('GET', '/v1/tenants/acme/api-keys')).body.keys.find((k: { name: string; revokedAt: string | null }) => k.name === 'short-lived' && !k.revokedAt);
        await api('DELETE', `/v1/tenants/acme/api-keys/${shortLived.id}`);
        await other.page.getByRole('link', { name: 'Imports' }).click();
        await other.page.getByRole('heading', { name: 'Sign in to Muster Console' }).waitFor();
        expect(await other.page.getByRole('status').filter({ hasText: 'no longer accepts this API key' }).count()).toBe(1);
        expect(await other.page.evaluate('sessionStorage.length')).toBe(0);
      } finally {
        await other.context.close();
      }
    } finally {
      await session.context.close();
    }
  });

  it('shows roles and catalogs, settings with a live password check, the audit log and the outbox', async () => {
    await api('POST', '/v1/tenants/acme/users', { email: 'invited@acme.test' });
    const session = await openConsole();
    const { page } = session;
    try {
      await signIn(page, tenantAdminToken);
      await page.getByRole('link', { name: 'Roles & catalogs' }).click();
      await page.getByLabel('Role name', { exact: true }).fill('contractors');
      await page.getByRole('button', { name: 'Save role' }).click();
      await eventually(() => page.getByRole('table', { name: 'Roles', exact: true }).textContent()).toContain('contractors');
      await eventually(() => page.getByRole('table', { name: 'Departments' }).textContent()).toContain('Engineering');
      await checkPage(session, 'roles-and-catalogs');

      await page.getByRole('link', { name: 'Settings' }).click();
      await page.getByRole('heading', { name: 'Settings of Acme Corp' }).waitFor();
      expect(await page.getByRole('region', { name: 'Seats' }).textContent()).toMatch(/\d+ used of 100000/);
      await page.getByLabel('Try a sample password').fill('password');
      await eventually(() => page.locator('p.bad').textContent()).toMatch(/common|password/i);
      await page.getByLabel('Try a sample password').fill('Correct-Horse-Battery-9');
      await eventually(() => page.locator('p.ok').textContent()).toContain('meets the policy');
      await page.getByLabel('Blocked domains').fill('mailinator.com');
      await page.getByRole('button', { name: 'Save settings' }).click();
      await page.getByRole('status').filter({ hasText: 'Settings saved.' }).waitFor();
      expect((await api('GET', '/v1/tenants/acme')).body.emailDomains.block).toEqual(['mailinator.com']);
      await page.getByLabel('Try a sample password').fill('');
      await checkPage(session, 'settings');

      await page.getByRole('link', { name: 'Audit log' }).click();
      const events = page.getByRole('table', { name: 'Audit events, newest first' });
      await eventually(() => events.textContent()).toContain('tenant.updated');
      await page.getByRole('combobox', { name: 'Action' }).selectOption('role.created');
      await page.getByRole('button', { name: 'Apply filters' }).click();
      await eventually(async () => (await events.textContent())?.includes('tenant.updated')).toBe(false);
      expect(await events.textContent()).toContain('contractors');
      await checkPage(session, 'audit');

      await page.getByRole('link', { name: 'Email outbox' }).click();
      const messages = page.getByRole('table', { name: 'Messages, newest first' });
      await eventually(() => messages.textContent()).toContain('invited@acme.test');
      expect(await messages.textContent()).toContain('pending');
      await checkPage(session, 'outbox');
    } finally {
      await session.context.close();
    }
  });

  it('lets a global admin create a tenant and switch to it', async () => {
    const session = await openConsole(PHONE);
    const { page } = session;
    try {
      await page.setViewportSize(DESKTOP);
      await signIn(page, 'test-admin-token-0123456789');
      await page.getByRole('link', { name: 'Tenants' }).click();
      await page.getByLabel('Tenant id').fill('globex');
      await page.getByLabel('Tenant name').fill('Globex');
      await page.getByRole('button', { name: 'Create tenant' }).click();
      await eventually(() => page.getByRole('table', { name: 'Tenants' }).textContent()).toContain('globex');
      await checkPage(session, 'tenants');
      await page.getByRole('button', { name: 'Work in globex' }).click();
      await page.getByRole('table', { name: 'Users of globex' }).waitFor();
      expect(await page.getByRole('combobox', { name: 'Tenant' }).inputValue()).toBe('globex');
      // Keyboard: from the top of the page the skip link is the first stop, and it leads into the content.
      await page.evaluate('document.body.tabIndex = -1; document.body.focus()');
      await page.keyboard.press('Tab');
      expect(await page.evaluate('document.activeElement?.textContent')).toBe('Skip to content');
      await page.keyboard.press('Enter');
      await page.keyboard.press('Tab');
      expect(await page.evaluate("Boolean(document.activeElement?.closest('main'))")).toBe(true);
    } finally {
      await session.context.close();
    }
  });
});
