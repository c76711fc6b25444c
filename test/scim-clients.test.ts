/**
 * Provisioning sequences as Okta and Microsoft Entra ID run them (from their public SCIM
 * provisioning guides), against the running server with a tenant-bound key.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES } from './helpers/databases.js';
import { createTenant } from './helpers/native-fixtures.js';
import { CORE_GROUP, CORE_USER, ENTERPRISE_USER, patch, scimClient, scimToken } from './helpers/scim.js';
import { startTestApp, type TestApp } from './helpers/test-app.js';

const eq = (attribute: string, value: string) => encodeURIComponent(`${attribute} eq "${value}"`);

describe.each(DATABASES)('directory clients on %s', (kind) => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp(kind);
    await createTenant(t, { id: 'okta-co', name: 'Okta Co' });
    await createTenant(t, { id: 'entra-co', name: 'Entra Co' });
  });
  afterAll(async () => t.close());

  it('runs an Okta provisioning sequence: lookup, create, read, update by PUT, group push, deactivate, delete', async () => {
    const scim = scimClient(t, await scimToken(t, 'okta-co'));

    // Okta looks the user up by userName before creating it.
    const lookup = await scim('GET', `/Users?filter=${eq('userName', 'dade.murphy@example.com')}&startIndex=1&count=100`);
    expect(lookup.status).toBe(200);
    expect(lookup.body).toMatchObject({ totalResults: 0, Resources: [] });

    const created = await scim('POST', '/Users', {
      body: {
        schemas: [CORE_USER],
        userName: 'dade.murphy@example.com',
        name: { givenName: 'Dade', familyName: 'Murphy' },
        emails: [{ primary: true, value: 'dade.murphy@example.com', type: 'work' }],
        displayName: 'Dade Murphy',
        locale: 'en-US',
        externalId: '00u1dhhb1fkIGP7RL1d8',
        groups: [],
        password: 'Crash-Override-1995!',
        active: true,
      },
    });
    expect(created.status, created.text).toBe(201);
    const id = created.body.id;
    expect(created.body).toMatchObject({ userName: 'dade.murphy@example.com', externalId: '00u1dhhb1fkIGP7RL1d8', active: true, displayName: 'Dade Murphy' });
    expect(created.text).not.toContain('Crash-Override');

    const again = await scim('GET', `/Users?filter=${eq('userName', 'dade.murphy@example.com')}&startIndex=1&count=100`);
    expect(again.body.totalResults).toBe(1);
    expect(again.body.Resources[0].id).toBe(id);

    const read = await scim('GET', `/Users/${id}`);
    expect(read.status).toBe(200);

    // Okta updates with PUT, sending the whole user back.
    const put = await scim('PUT', `/Users/${id}`, {
      body: { ...read.body, name: { givenName: 'Dade', familyName: 'Murphy-Burns' }, displayName: undefined, meta: undefined },
    });
    expect(put.status, put.text).toBe(200);
    expect(put.body.name).toEqual({ givenName: 'Dade', familyName: 'Murphy-Burns', formatted: 'Dade Murphy-Burns' });

    // Group push: create, rename (Okta sends id and displayName without a path), add the member, remove it.
    const group = await scim('POST', '/Groups', { body: { schemas: [CORE_GROUP], displayName: 'Hackers', members: [] } });
    expect(group.status, group.text).toBe(201);
    const groupId = group.body.id;
    const rename = await scim('PATCH', `/Groups/${encodeURIComponent(groupId)}`, { body: patch({ op: 'replace', value: { id: groupId, displayName: 'Elite Hackers' } }) });
    expect(rename.status, rename.text).toBe(200);
    expect(rename.body).toMatchObject({ id: groupId, displayName: 'Elite Hackers' });
    const push = await scim('PATCH', `/Groups/${encodeURIComponent(groupId)}`, { body: patch({ op: 'add', path: 'members', value: [{ value: id, display: 'dade.murphy@example.com' }] }) });
    expect(push.status, push.text).toBe(200);
    expect((await scim('GET', `/Users/${id}`)).body.groups.map((g: any) => [g.value, g.display])).toEqual([[groupId, 'Elite Hackers']]);
    const found = await scim('GET', `/Groups?filter=${eq('displayName', 'Elite Hackers')}&startIndex=1&count=100`);
    expect(found.body.Resources[0].members.map((m: any) => m.value)).toEqual([id]);
    const unpush = await scim('PATCH', `/Groups/${encodeURIComponent(groupId)}`, { body: patch({ op: 'remove', path: `members[value eq "${id}"]` }) });
    expect(unpush.status).toBe(200);
    expect((await scim('GET', `/Users/${id}`)).body.groups).toBeUndefined();

    // Deactivation: a PATCH of active.
    const deactivated = await scim('PATCH', `/Users/${id}`, { body: patch({ op: 'replace', value: { active: false } }) });
    expect(deactivated.status, deactivated.text).toBe(200);
    expect(deactivated.body.active).toBe(false);
    expect((await t.call('GET', `/v1/tenants/okta-co/users/${id}`)).body.lockedOut).toBe(true);
    const inactive = await scim('GET', `/Users?filter=${encodeURIComponent('active eq false')}`);
    expect(inactive.body.Resources.map((u: any) => u.id)).toEqual([id]);

    expect((await scim('DELETE', `/Groups/${encodeURIComponent(groupId)}`)).status).toBe(204);
    expect((await scim('DELETE', `/Users/${id}`)).status).toBe(204);
    expect((await scim('GET', `/Users/${id}`)).status).toBe(404);
  });

  it('runs an Entra ID provisioning sequence: lookup, create, read, PATCH updates, disable, group push, delete', async () => {
    const scim = scimClient(t, await scimToken(t, 'entra-co'));
    const userName = 'Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1';

    expect((await scim('GET', `/Users?filter=${eq('userName', userName)}`)).body.totalResults).toBe(0);

    const created = await scim('POST', '/Users', {
      body: {
        schemas: [CORE_USER, ENTERPRISE_USER],
        externalId: '0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef',
        userName,
        active: true,
        emails: [{ primary: true, type: 'work', value: 'Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com' }],
        meta: { resourceType: 'User' },
        name: { formatted: 'givenName familyName', familyName: 'familyName', givenName: 'givenName' },
        roles: [],
        [ENTERPRISE_USER]: { employeeNumber: 'E-42', department: 'Finance' },
      },
    });
    expect(created.status, created.text).toBe(201);
    const id = created.body.id;

    const read = await scim('GET', `/Users/${id}`);
    expect(read.body).toMatchObject({ userName, externalId: '0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef', [ENTERPRISE_USER]: { employeeNumber: 'E-42', department: 'Finance' } });
    expect((await scim('GET', `/Users?filter=${eq('userName', userName.toUpperCase())}`)).body.Resources.map((u: any) => u.id)).toEqual([id]);
    expect((await scim('GET', `/Users?filter=${eq('externalId', '0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef')}`)).body.totalResults).toBe(1);

    const updated = await scim('PATCH', `/Users/${id}`, {
      body: patch(
        { op: 'Replace', path: 'emails[type eq "work"].value', value: 'updatedEmail@testuser.com' },
        { op: 'Replace', path: 'name.familyName', value: 'updatedFamilyName' },
        { op: 'Replace', path: `${ENTERPRISE_USER}:department`, value: 'Treasury' },
        { op: 'Add', path: `${ENTERPRISE_USER}:manager`, value: [{ $ref: null, value: 'some-manager-id' }] },
      ),
    });
    expect(updated.status, updated.text).toBe(200);
    expect(updated.body).toMatchObject({ emails: [{ value: 'updatedEmail@testuser.com' }], name: { familyName: 'updatedFamilyName' }, [ENTERPRISE_USER]: { department: 'Treasury' } });
    expect(updated.body[ENTERPRISE_USER].manager).toBeUndefined();

    const renamed = await scim('PATCH', `/Users/${id}`, { body: patch({ op: 'Replace', path: 'userName', value: '5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com' }) });
    expect(renamed.body.userName).toBe('5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com');

    const disabled = await scim('PATCH', `/Users/${id}`, { body: patch({ op: 'Replace', path: 'active', value: 'False' }) });
    expect(disabled.status, disabled.text).toBe(200);
    expect(disabled.body.active).toBe(false);

    // Groups: lookup, create, read without members, add, check membership, remove.
    expect((await scim('GET', `/Groups?excludedAttributes=members&filter=${eq('displayName', 'Entra Group')}`)).body.totalResults).toBe(0);
    const group = await scim('POST', '/Groups', {
      body: { schemas: [CORE_GROUP], externalId: '8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159', displayName: 'Entra Group', meta: { resourceType: 'Group' }, members: [] },
    });
    expect(group.status, group.text).toBe(201);
    const groupPath = `/Groups/${encodeURIComponent(group.body.id)}`;
    const noMembers = await scim('GET', `${groupPath}?excludedAttributes=members`);
    expect(noMembers.body).toMatchObject({ id: group.body.id, externalId: '8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159', displayName: 'Entra Group' });
    expect(noMembers.body.members).toBeUndefined();

    const added = await scim('PATCH', groupPath, { body: patch({ op: 'Add', path: 'members', value: [{ $ref: null, value: id }] }) });
    expect(added.status, added.text).toBe(200);
    const isMember = () => scim('GET', `/Groups?excludedAttributes=members&filter=${encodeURIComponent(`id eq "${group.body.id}" and members[value eq "${id}"]`)}`);
    expect((await isMember()).body.totalResults).toBe(1);

    const removed = await scim('PATCH', groupPath, { body: patch({ op: 'Remove', path: 'members', value: [{ $ref: null, value: id }] }) });
    expect(removed.status, removed.text).toBe(200);
    expect((await isMember()).body.totalResults).toBe(0);

    expect((await scim('DELETE', groupPath)).status).toBe(204);
    expect((await scim('DELETE', `/Users/${id}`)).status).toBe(204);
    expect((await scim('GET', `/Users?filter=${eq('userName', '5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com')}`)).body.totalResults).toBe(0);
  });
});
