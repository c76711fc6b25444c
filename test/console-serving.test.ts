/** How Muster serves the console's files: built or not, with its CSP and cache rules, never a file outside it. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './helpers/test-app.js';

describe('serving the console', () => {
  let dir: string;
  let built: TestApp;
  let unbuilt: TestApp;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'muster-console-files-'));
    mkdirSync(join(dir, 'built', 'assets'), { recursive: true });
    writeFileSync(join(dir, 'built', 'index.html'), '<!doctype html><title>Muster Console</title><script type="module" src="/console/assets/app-1a2b.js"></script>');
    writeFileSync(join(dir, 'built', 'assets', 'app-1a2b.js'), 'console.log("console")');
    mkdirSync(join(dir, 'empty'));
    built = await startTestApp('sqlite', { consoleDir: join(dir, 'built') });
    unbuilt = await startTestApp('sqlite', { consoleDir: join(dir, 'empty') });
  });
  afterAll(async () => {
    await built?.close();
    await unbuilt?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the page for every console path, never cached, under a CSP that names no host', async () => {
    for (const path of ['/console/', '/console/users', '/console/users/0190e1f2-aaaa-7bbb-8ccc-123456789abc', '/console/imports/imp_1']) {
      const res = await fetch(`${built.baseUrl}${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expect(res.headers.get('cache-control')).toBe('no-store');
      const csp = res.headers.get('content-security-policy')!;
      expect(csp).toMatch(/default-src 'none'/);
      expect(csp).toMatch(/script-src 'self'(;|$)/);
      expect(csp).toMatch(/connect-src 'self'(;|$)/);
      expect(csp).toMatch(/frame-ancestors 'none'/);
      expect(csp).not.toMatch(/https?:|upgrade-insecure-requests|unsafe-inline|unsafe-eval/);
      expect(await res.text()).toContain('<title>Muster Console</title>');
    }
  });

  it('serves hashed assets cacheable for good, and nothing outside the console', async () => {
    const asset = await fetch(`${built.baseUrl}/console/assets/app-1a2b.js`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toMatch(/javascript/);
    expect(asset.headers.get('cache-control')).toMatch(/immutable/);
    for (const path of ['/console/assets/..%2f..%2f..%2fpackage.json', '/console/..%2fpackage.json', '/console/assets/missing.js']) {
      const res = await fetch(`${built.baseUrl}${path}`);
      const text = await res.text();
      expect(text, path).not.toContain('"name": "muster"');
      expect(res.status, path).toBeLessThan(500);
    }
  });

  it('redirects /console to /console/', async () => {
    const res = await fetch(`${built.baseUrl}/console`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/console/');
  });

  it('says how to build the console when it has not been built, and the API still answers', async () => {
    const res = await fetch(`${unbuilt.baseUrl}/console/`);
    expect(res.status).toBe(503);
    expect(await res.text()).toContain('npm run build');
    expect((await unbuilt.call('GET', '/healthz')).status).toBe(200);
  });
});
