import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES } from './helpers/databases.js';
import { createTenant } from './helpers/native-fixtures.js';
import { CORE_GROUP, ENTERPRISE_USER, expectScimError, scimClient, scimToken, scimUser } from './helpers/scim.js';
import { startTestApp, type TestApp } from './helpers/test-app.js';
import { waitUntil } from './helpers/wait.js';

/** The same five users on each database; every filter must find the same ones on both. */
const PEOPLE = [
  scimUser('alice@example.com', {
    externalId: 'ext-alice',
    displayName: 'Alice Smith',
    name: { givenName: 'Alice', familyName: 'Smith' },
    phoneNumbers: [{ value: '+1 555 0001', type: 'work' }],
    [ENTERPRISE_USER]: { employeeNumber: '1001', department: 'Engineering' },
  }),
  scimUser('bob', { emails: [{ value: 'Bob@Example.org', primary: true }], name: { givenName: 'Bob', familyName: 'Jones' }, active: false, [ENTERPRISE_USER]: { department: 'Sales' } }),
  scimUser('carol', { emails: [{ value: "carol.o'malley@example.com" }], externalId: 'EXT-carol', name: { givenName: 'Carol', familyName: "O'Malley" } }),
  scimUser('dave.smith', { emails: [{ value: 'dave@sub.example.com' }], name: { givenName: 'Dave', familyName: 'Smith' } }),
  scimUser('Émile', { emails: [{ value: 'emile@example.fr' }], name: { givenName: 'Emile', familyName: 'Zola' } }),
];

describe.each(DATABASES)('SCIM filters on %s', (kind) => {
  let t: TestApp;
  let scim: ReturnType<typeof scimClient>;
  const created: any[] = [];

  beforeAll(async () => {
    t = await startTestApp(kind);
    await createTenant(t, { id: 'filters', name: 'Filters' });
    scim = scimClient(t, await scimToken(t, 'filters'));
    for (const person of PEOPLE) {
      const res = await scim('POST', '/Users', { body: person });
      expect(res.status, res.text).toBe(201);
      created.push(res.body);
      // Distinct creation instants, so that meta.created comparisons have one answer.
      await waitUntil('the clock to pass the last creation', () => Date.now() > Date.parse(res.body.meta.created), { intervalMs: 1 });
    }
    const group = await scim('POST', '/Groups', { body: { schemas: [CORE_GROUP], displayName: 'Tour Guides', members: [{ value: created[3].id }] } });
    expect(group.status, group.text).toBe(201);
  });
  afterAll(async () => t.close());

  /** The userNames a filter finds, in the order returned. */
  async function find(filter: string, extra = ''): Promise<string[]> {
    const res = await scim('GET', `/Users?filter=${encodeURIComponent(filter)}${extra}`);
    expect(res.status, res.text).toBe(200);
    expect(res.body.totalResults).toBe(res.body.Resources.length);
    return res.body.Resources.map((u: any) => u.userName);
  }

  const ALL = ['alice@example.com', 'bob', 'carol', 'dave.smith', 'Émile'];

  it.each([
    ['userName eq "ALICE@example.com"', ['alice@example.com']],
    ['userName ne "alice@example.com"', ['bob', 'carol', 'dave.smith', 'Émile']],
    ['userName sw "DA"', ['dave.smith']],
    ['userName ew ".com"', ['alice@example.com']],
    ['userName co "ar"', ['carol']],
    ['userName eq "ÉMILE"', ['Émile']],
    ['userName gt "c"', ['carol', 'dave.smith', 'Émile']],
    ['userName le "bob"', ['alice@example.com', 'bob']],
    ['urn:ietf:params:scim:schemas:core:2.0:User:userName sw "b"', ['bob']],
  ])('filters userName: %s', async (filter, expected) => {
    expect(await find(filter)).toEqual(expected);
  });

  it.each([
    ['emails.value eq "BOB@example.org"', ['bob']],
    ['emails co "example.com"', ['alice@example.com', 'carol', 'dave.smith']],
    ['emails[type eq "work" and value ew "example.org"]', ['bob']],
    ['emails[type eq "work"].value eq "alice@example.com"', ['alice@example.com']],
    ['emails[type eq "home"]', []],
    ['emails[primary eq true] and emails.value sw "emile"', ['Émile']],
  ])('filters emails: %s', async (filter, expected) => {
    expect(await find(filter)).toEqual(expected);
  });

  it.each([
    ['name.familyName eq "smith"', ['alice@example.com', 'dave.smith']],
    ['name.familyName co "O\'Mal"', ['carol']],
    ['name.givenName sw "b"', ['bob']],
    ['displayName eq "Alice Smith"', ['alice@example.com']],
    ['name.formatted ew "zola"', ['Émile']],
  ])('filters name.*: %s', async (filter, expected) => {
    expect(await find(filter)).toEqual(expected);
  });

  it.each([
    ['active eq false', ['bob']],
    ['active eq true', ['alice@example.com', 'carol', 'dave.smith', 'Émile']],
    ['not (active eq true)', ['bob']],
    ['active eq "False"', ['bob']],
    ['active ne false', ['alice@example.com', 'carol', 'dave.smith', 'Émile']],
  ])('filters active: %s', async (filter, expected) => {
    expect(await find(filter)).toEqual(expected);
  });

  it.each([
    ['externalId eq "ext-alice"', ['alice@example.com']],
    ['externalId eq "EXT-ALICE"', []],
    ['externalId sw "ext"', ['alice@example.com']],
    ['externalId pr', ['alice@example.com', 'carol']],
    ['not (externalId pr)', ['bob', 'dave.smith', 'Émile']],
    ['externalId ne "ext-alice"', ['bob', 'carol', 'dave.smith', 'Émile']],
  ])('filters externalId, exactly: %s', async (filter, expected) => {
    expect(await find(filter)).toEqual(expected);
  });

  it.each([
    [`${ENTERPRISE_USER}:department eq "engineering"`, ['alice@example.com']],
    [`${ENTERPRISE_USER}:employeeNumber eq "1001"`, ['alice@example.com']],
    [`schemas eq "${ENTERPRISE_USER}"`, ['alice@example.com', 'bob']],
    ['phoneNumbers pr', ['alice@example.com']],
    ['phoneNumbers[type eq "work"]', ['alice@example.com']],
    ['groups.display eq "Tour Guides"', ['dave.smith']],
    ['groups eq "Tour Guides"', []],
    ['not (groups pr)', ['alice@example.com', 'bob', 'carol', 'Émile']],
    ['meta.lastModified gt "2011-05-13T04:42:34Z"', ALL],
    ['meta.created lt "2011-05-13T04:42:34Z"', []],
    ['(userName sw "a" or userName sw "b") and active eq true', ['alice@example.com']],
    ['userName sw "a" or (emails co "example.fr" and not (name.familyName eq "Smith"))', ['alice@example.com', 'Émile']],
  ])('filters other attributes and combinations: %s', async (filter, expected) => {
    expect(await find(filter)).toEqual(expected);
  });

  it('compares meta.created as instants', async () => {
    const carol = created[2];
    expect(await find(`meta.created ge "${carol.meta.created}"`)).toEqual(['carol', 'dave.smith', 'Émile']);
    expect(await find(`meta.created lt "${carol.meta.created}"`)).toEqual(['alice@example.com', 'bob']);
    expect(await find(`meta.created eq "${carol.meta.created}"`)).toEqual(['carol']);
  });

  it('finds a user by id', async () => {
    expect(await find(`id eq "${created[1].id}"`)).toEqual(['bob']);
  });

  it.each([
    ['userType eq "Employee"'],
    ['title pr'],
    ['userName xx "a"'],
    ['userName eq'],
    ['meta.created gt "yesterday"'],
    ['active gt true'],
    ['emails[type eq "work"'],
    ['ims[type eq "xmpp"]'],
  ])('answers a filter Muster cannot run with 400 invalidFilter: %s', async (filter) => {
    expectScimError(await scim('GET', `/Users?filter=${encodeURIComponent(filter)}`), 400, 'invalidFilter');
  });

  it('refuses, at once, a filter with a line break or one too long to parse cheaply', async () => {
    const started = Date.now();
    expectScimError(await scim('GET', `/Users?filter=${encodeURIComponent(`userName eq "${'\n'.repeat(40)}`)}`), 400, 'invalidFilter');
    expectScimError(await scim('POST', '/Users/.search', { body: { filter: `userName eq "${'a'.repeat(5000)}"` } }), 400, 'invalidFilter');
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('sorts by userName, family name and externalId, absent values last', async () => {
    expect(await find('userName pr', '&sortBy=userName')).toEqual(ALL);
    expect(await find('userName pr', '&sortBy=name.familyName&sortOrder=descending')).toEqual(['Émile', 'alice@example.com', 'dave.smith', 'carol', 'bob']);
    expect(await find('userName pr', '&sortBy=externalId')).toEqual(['carol', 'alice@example.com', 'bob', 'dave.smith', 'Émile']);
    expect(await find('userName pr', '&sortBy=externalId&sortOrder=descending')).toEqual(['alice@example.com', 'carol', 'bob', 'dave.smith', 'Émile']);
    expectScimError(await scim('GET', '/Users?sortBy=nickName'), 400, 'invalidValue');
    expectScimError(await scim('GET', '/Users?sortBy=userName&sortOrder=sideways'), 400, 'invalidValue');
  });

  it('pages through a filtered, sorted result', async () => {
    const res = await scim('GET', `/Users?filter=${encodeURIComponent('emails co "example"')}&sortBy=userName&startIndex=2&count=2`);
    expect(res.body).toMatchObject({ totalResults: 5, startIndex: 2, itemsPerPage: 2 });
    expect(res.body.Resources.map((u: any) => u.userName)).toEqual(['bob', 'carol']);
  });
});
