import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../src/core/errors.js';
import { nativeStatus } from '../src/http/native/map-error.js';
import { DATABASES } from './helpers/databases.js';
import { startTestApp, type TestApp } from './helpers/test-app.js';

/** The text of README.md from its "## Errors" heading to the next second-level heading. */
function readmeErrorsSection(): string {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const start = readme.search(/^## Errors\s*$/m);
  if (start < 0) return '';
  const rest = readme.slice(start + 1);
  const end = rest.search(/^## /m);
  return end < 0 ? rest : rest.slice(0, end);
}

describe('the error catalogue', () => {
  it('documents every error code in README.md under "## Errors"', () => {
    const section = readmeErrorsSection();
    expect(section, 'README.md has no "## Errors" section').not.toBe('');
    const undocumented = ERROR_CODES.filter((code) => !new RegExp(`\\b${code}\\b`).test(section));
    expect(undocumented).toEqual([]);
  });

  it('documents the native status of every error code next to it', () => {
    const section = readmeErrorsSection();
    // A table row is its cells without backticks: the code in one cell, its status in another.
    const rows = section
      .split('\n')
      .filter((line) => line.trim().startsWith('|'))
      .map((line) => line.split('|').map((cell) => cell.replace(/`/g, '').trim()));
    const wrong = ERROR_CODES.filter((code) => {
      const row = rows.find((cells) => cells.includes(code));
      return !row || !row.includes(String(nativeStatus(code)));
    });
    expect(wrong).toEqual([]);
  });

  it('maps every error code to an HTTP error status', () => {
    for (const code of ERROR_CODES) {
      const status = nativeStatus(code);
      expect(status >= 400 && status <= 599, `${code} → ${status}`).toBe(true);
    }
  });
});

describe.each(DATABASES)('health and documentation on %s', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(kind);
  });
  afterAll(async () => t.close());

  it('answers /healthz without a credential', async () => {
    const res = await t.call('GET', '/healthz', { token: null });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('serves an OpenAPI 3.1 document with the native paths', async () => {
    const res = await t.call('GET', '/openapi.json', { token: null });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    expect(res.body.openapi).toMatch(/^3\.1\./);
    expect(res.body.info.title).toBe('Muster');
    const paths = Object.keys(res.body.paths);
    expect(paths).toEqual(
      expect.arrayContaining([
        '/v1/tenants',
        '/v1/tenants/{tenant}',
        '/v1/tenants/{tenant}/api-keys',
        '/v1/tenants/{tenant}/api-keys/{id}',
        '/v1/tenants/{tenant}/roles',
        '/v1/tenants/{tenant}/roles/{name}',
        '/v1/tenants/{tenant}/departments/{code}',
        '/v1/tenants/{tenant}/locations/{code}',
        '/v1/tenants/{tenant}/program-admin-roles/{code}',
        '/v1/tenants/{tenant}/users',
        '/v1/tenants/{tenant}/users/batch',
        '/v1/tenants/{tenant}/users/{id}',
        '/healthz',
      ]),
    );
    const userPaths = res.body.paths['/v1/tenants/{tenant}/users/{id}'];
    expect(Object.keys(userPaths)).toEqual(expect.arrayContaining(['get', 'patch', 'delete']));
    expect(res.body.components.securitySchemes).toMatchObject({ bearer: { scheme: 'bearer' }, basic: { scheme: 'basic' } });
  });

  it('never documents a password or hash as a field a user response returns', async () => {
    const res = await t.call('GET', '/openapi.json', { token: null });
    const created = res.body.paths['/v1/tenants/{tenant}/users'].post.responses['201'];
    const text = JSON.stringify(created);
    expect(text).not.toMatch(/"password"|passwordHash|password_hash/);
  });

  it('serves the browsable docs as HTML with no script or stylesheet from another host', async () => {
    const res = await fetch(`${t.baseUrl}/docs`, { redirect: 'follow' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    const html = await res.text();
    expect(html).toMatch(/swagger/i);
    const external = [...html.matchAll(/<(?:script|link)\b[^>]*\b(?:src|href)\s*=\s*["']?((?:https?:)?\/\/[^"'\s>]+)/gi)].map((m) => m[1]);
    expect(external).toEqual([]);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).not.toMatch(/https?:\/\//);
  });

  it('serves the docs page assets from this server', async () => {
    const res = await fetch(`${t.baseUrl}/docs`, { redirect: 'follow' });
    const html = await res.text();
    const assets = [...html.matchAll(/<(?:script|link)\b[^>]*\b(?:src|href)\s*=\s*["']([^"']+)/gi)].map((m) => m[1]!);
    expect(assets.length).toBeGreaterThan(0);
    for (const path of assets) {
      const url = new URL(path, res.url);
      expect(url.origin).toBe(t.baseUrl);
      const asset = await fetch(url);
      await asset.arrayBuffer(); // read to the end, so the connection is free when the server closes
      expect(asset.status, url.pathname).toBe(200);
    }
  });
});
