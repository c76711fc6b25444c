/**
 * /docs in a real browser (Debian's Chromium) opened on a non-loopback host name, as a person
 * reaching Muster over the network sees it: the page must render its operations, load nothing
 * from another host, and say Muster. It also takes the README's screenshots.
 */
import { mkdirSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserUrl, launchBrowser, screenshotDir } from './helpers/browser.js';
import { startTestApp, type TestApp } from './helpers/test-app.js';

const SCREENSHOTS = pathToFileURL(`${screenshotDir()}/`);

describe('/docs in a browser, on a non-loopback address', () => {
  let t: TestApp;
  let browser: Browser;
  let page: Page;
  const requestedHosts = new Set<string>();
  const failedRequests: string[] = [];

  beforeAll(async () => {
    t = await startTestApp('sqlite');
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('request', (request) => requestedHosts.add(new URL(request.url()).host));
    page.on('requestfailed', (request) => failedRequests.push(request.url()));
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('renders the operations of every tag, titled and marked Muster', async () => {
    const response = await page.goto(browserUrl(t.baseUrl, '/docs'));
    expect(response?.status()).toBe(200);
    await page.waitForSelector('.opblock-tag-section', { timeout: 30_000 });
    await page.waitForFunction('document.querySelectorAll(".opblock").length > 20', undefined, { timeout: 30_000 });
    expect(await page.title()).toBe('Muster API');
    const tags = await page.$$eval('.opblock-tag', (nodes) => nodes.map((n) => n.getAttribute('data-tag')));
    expect(tags).toEqual(expect.arrayContaining(['native', 'imports', 'scim', 'system']));
    // The logo in the top bar is Muster's, not the framework's.
    const logo = await page.locator('.topbar img').first().getAttribute('src');
    expect(logo).toMatch(/^data:image\/svg\+xml|\/docs\/static\/logo/);
    expect(failedRequests).toEqual([]);
    expect([...requestedHosts]).toEqual([new URL(browserUrl(t.baseUrl)).host]);
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: new URL('docs.png', SCREENSHOTS).pathname });
  });

  it('shows an enum parameter as a list of choices and the import upload as a body', async () => {
    await page.goto(browserUrl(t.baseUrl, '/docs#/imports/post_v1_tenants__tenant__imports'));
    const operation = page.locator('#operations-imports-post_v1_tenants__tenant__imports');
    await operation.waitFor({ timeout: 30_000 });
    if (!(await operation.locator('.opblock-body').isVisible())) await operation.locator('.opblock-summary').first().click();
    await operation.locator('.opblock-body').waitFor();
    await operation.getByRole('button', { name: 'Try it out' }).click();
    // onConflict is a <select> of its values, not a free text box.
    const choices = await operation.locator('tr[data-param-name="onConflict"] select option').allTextContents();
    expect(choices).toEqual(expect.arrayContaining(['fail', 'skip', 'update']));
    // The request body offers the three upload formats.
    const mediaTypes = await operation.locator('.body-param-content-type select option').allTextContents();
    expect(mediaTypes).toEqual(expect.arrayContaining(['text/csv', 'application/x-ndjson', 'application/json']));
    await operation.scrollIntoViewIfNeeded();
    await page.screenshot({ path: new URL('docs-import.png', SCREENSHOTS).pathname, fullPage: false });
  });

  it('sends the create-user example as shown and gets 201', async () => {
    await page.goto(browserUrl(t.baseUrl, '/docs#/native/post_v1_tenants__tenant__users'));
    // Authorize with the bearer token, as a person would.
    await page.getByRole('button', { name: /Authorize/ }).first().click();
    const dialog = page.locator('.dialog-ux');
    await dialog.locator('input[type="text"], input[type="password"]').first().fill('test-admin-token-0123456789');
    await dialog.locator('button.modal-btn.authorize').first().click();
    await dialog.locator('button.btn-done').first().click();
    const operation = page.locator('#operations-native-post_v1_tenants__tenant__users');
    await operation.waitFor();
    if (!(await operation.locator('.opblock-body').isVisible())) await operation.locator('.opblock-summary').first().click();
    await operation.getByRole('button', { name: 'Try it out' }).click();
    await operation.locator('tr[data-param-name="tenant"] input').fill('default');
    await operation.getByRole('button', { name: 'Execute' }).click();
    const status = operation.locator('.live-responses-table .response .response-col_status').first();
    await status.waitFor({ timeout: 30_000 });
    expect((await status.textContent())?.trim()).toBe('201');
    await operation.locator('.live-responses-table').scrollIntoViewIfNeeded();
    await page.screenshot({ path: new URL('docs-try-it-out.png', SCREENSHOTS).pathname });
    const created = await t.call('GET', '/v1/tenants/default/users?email=ada@example.com');
    expect(created.body.users).toHaveLength(1);
  });
});
