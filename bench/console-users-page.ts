/**
 * How fast Muster Console shows a page of users of a 100,000-user tenant: Muster (`dist/`,
 * so run `npm run build` first) on SQLite, Debian's Chromium on loopback. Prints the times and
 * writes bench/results/<date>-console.json.
 *
 *   npx tsx bench/console-users-page.ts            100,000 users
 *   npx tsx bench/console-users-page.ts --quick    10,000 users (a smoke test, not a result)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { browserUrl, launchBrowser } from '../test/helpers/browser.js';
import { BENCH_ADMIN_TOKEN, median, startMuster } from './server-process.js';

const quick = process.argv.includes('--quick');
const USERS = quick ? 10_000 : 100_000;
const RUNS = 5;
const muster = await startMuster('sqlite');
const auth = { authorization: `Bearer ${BENCH_ADMIN_TOKEN}` };
try {
  await fetch(`${muster.baseUrl}/v1/tenants`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ id: 'big', name: 'Big' }) });
  const rows = ['email,givenName,familyName'];
  for (let i = 0; i < USERS; i++) rows.push(`user${i}@big.test,Given${i},Family${i}`);
  const job = (await (await fetch(`${muster.baseUrl}/v1/tenants/big/imports?notify=false`, { method: 'POST', headers: { ...auth, 'content-type': 'text/csv' }, body: rows.join('\n') })).json()) as { id: string };
  for (;;) {
    const state = ((await (await fetch(`${muster.baseUrl}/v1/tenants/big/imports/${job.id}`, { headers: auth })).json()) as { state: string; created: number });
    if (state.state !== 'queued' && state.state !== 'running') {
      if (state.created !== USERS) throw new Error(`the import ended ${state.state} with ${state.created} users`);
      break;
    }
    await new Promise((r) => setTimeout(r, 250));
  }

  const browser = await launchBrowser();
  const page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
  await page.goto(browserUrl(muster.baseUrl, '/console/'));
  await page.getByLabel('API key').fill(BENCH_ADMIN_TOKEN);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('combobox', { name: 'Tenant' }).selectOption('big');
  const table = page.getByRole('table', { name: 'Users of big' });
  await table.getByRole('row').nth(50).waitFor();

  // A full reload of the users page (HTML, script, the first page of users) until its 50 rows show.
  const load: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await page.reload();
    await table.getByRole('row').nth(50).waitFor();
    load.push(performance.now() - t0);
  }
  // The next page, from the click until its first row replaced the old one.
  const next: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const before = await table.getByRole('row').nth(1).textContent();
    const t0 = performance.now();
    await page.getByRole('button', { name: 'Next page' }).click();
    // A locator, not a page function: the console's CSP refuses evaluated strings.
    await table.getByRole('row').nth(1).filter({ hasNotText: before! }).waitFor();
    next.push(performance.now() - t0);
  }
  // A search by the email of the last user created.
  const search: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const email = `user${USERS - 1 - i}@big.test`;
    const t0 = performance.now();
    await page.getByLabel('Search by email or user name').fill(email);
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.getByRole('table', { name: `Users matching ${email}` }).getByRole('cell', { name: email }).first().waitFor();
    search.push(performance.now() - t0);
  }
  await browser.close();

  const figures = {
    users: USERS,
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version },
    usersPageLoadMs: { median: Math.round(median(load)), runs: load.map(Math.round) },
    nextPageMs: { median: Math.round(median(next)), runs: next.map(Math.round) },
    searchMs: { median: Math.round(median(search)), runs: search.map(Math.round) },
  };
  console.log(JSON.stringify(figures, null, 2));
  if (!quick) {
    mkdirSync('bench/results', { recursive: true });
    writeFileSync(`bench/results/${new Date().toISOString().slice(0, 10)}-console.json`, JSON.stringify(figures, null, 2) + '\n');
  }
} finally {
  await muster.stop();
}
