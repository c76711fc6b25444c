/**
 * The privilege rule as a table: each actor role against each kind of change, on a target
 * with and without admin power. The HTTP suites (privilege-rule.test.ts) prove that every API
 * applies it; this one proves the rule itself, fast.
 */
import { describe, expect, it } from 'vitest';
import type { Actor, KeyRole } from '../src/core/credentials/actor.js';
import {
  assertPermitted,
  checkKeyIssue,
  checkMembershipChange,
  checkRoleChange,
  checkRoleGrants,
  checkUserChange,
  checkUserDelete,
  GUARDED_USER_FIELDS,
} from '../src/core/credentials/privileges.js';
import { DomainError } from '../src/core/errors.js';

const actor = (role: KeyRole): Actor => ({ keyId: `key-${role}`, role, tenantId: role === 'global-admin' ? null : 'acme' });
const ADMIN = { name: 'owner', admin: true };
const PLAIN = { name: 'staff', admin: false };
const BELOW_GLOBAL: KeyRole[] = ['tenant-admin', 'user-manager', 'reader'];

describe('the privilege rule', () => {
  it('lets only a global admin grant an admin role; any role may grant a plain one', () => {
    expect(checkRoleGrants(actor('global-admin'), [ADMIN, PLAIN])).toEqual([]);
    for (const role of BELOW_GLOBAL) {
      expect(checkRoleGrants(actor(role), [PLAIN])).toEqual([]);
      expect(checkRoleGrants(actor(role), [PLAIN, ADMIN])).toEqual([expect.objectContaining({ field: 'roles.1', code: 'ADMIN_ROLE_FORBIDDEN' })]);
    }
  });

  it("guards an administrator's credentials, email, user name, lock and approval state and roles", () => {
    for (const role of BELOW_GLOBAL) {
      const refused = checkUserChange(actor(role), [PLAIN, ADMIN], [...GUARDED_USER_FIELDS, 'name', 'phoneNumber']);
      expect(refused.map((p) => p.field)).toEqual([...GUARDED_USER_FIELDS]);
      expect(refused.every((p) => p.code === 'ADMIN_ROLE_FORBIDDEN')).toBe(true);
      // Someone without admin power is anyone's to change, and an administrator's name too.
      expect(checkUserChange(actor(role), [PLAIN], [...GUARDED_USER_FIELDS])).toEqual([]);
      expect(checkUserChange(actor(role), [ADMIN], ['name', 'phoneNumber', 'department'])).toEqual([]);
    }
    expect(checkUserChange(actor('global-admin'), [ADMIN], [...GUARDED_USER_FIELDS])).toEqual([]);
  });

  it('lets only a global admin delete an administrator', () => {
    expect(checkUserDelete(actor('tenant-admin'), [ADMIN])).toHaveLength(1);
    expect(checkUserDelete(actor('tenant-admin'), [PLAIN])).toEqual([]);
    expect(checkUserDelete(actor('global-admin'), [ADMIN])).toEqual([]);
  });

  it("lets only a global admin create an admin role, set or clear the flag, or delete one", () => {
    const ta = actor('tenant-admin');
    expect(checkRoleChange(ta, undefined, ADMIN)).toEqual([expect.objectContaining({ field: 'admin', code: 'ADMIN_ROLE_FORBIDDEN' })]);
    expect(checkRoleChange(ta, PLAIN, { ...PLAIN, admin: true })).toHaveLength(1);
    expect(checkRoleChange(ta, ADMIN, { ...ADMIN, admin: false })).toHaveLength(1);
    expect(checkRoleChange(ta, ADMIN, undefined)).toHaveLength(1);
    // What gives no admin power is a tenant admin's to do.
    expect(checkRoleChange(ta, undefined, PLAIN)).toEqual([]);
    expect(checkRoleChange(ta, ADMIN, ADMIN)).toEqual([]);
    expect(checkRoleChange(ta, PLAIN, undefined)).toEqual([]);
    for (const [before, after] of [[undefined, ADMIN], [PLAIN, ADMIN], [ADMIN, PLAIN], [ADMIN, undefined]] as const) {
      expect(checkRoleChange(actor('global-admin'), before, after)).toEqual([]);
    }
  });

  it("refuses group membership changes of an admin role, and of an administrator's roles, below a global admin", () => {
    const ta = actor('tenant-admin');
    const plainMember = { id: 'u1', held: [PLAIN] };
    const adminMember = { id: 'u2', held: [ADMIN] };
    expect(checkMembershipChange(ta, ADMIN, [plainMember])).toHaveLength(1);
    expect(checkMembershipChange(ta, PLAIN, [plainMember])).toEqual([]);
    expect(checkMembershipChange(ta, PLAIN, [plainMember, adminMember])).toEqual([expect.objectContaining({ field: 'members', code: 'ADMIN_ROLE_FORBIDDEN' })]);
    expect(checkMembershipChange(ta, ADMIN, [])).toEqual([]);
    expect(checkMembershipChange(actor('global-admin'), ADMIN, [plainMember, adminMember])).toEqual([]);
  });

  it('issues no key above its issuer', () => {
    expect(checkKeyIssue(actor('tenant-admin'), 'global-admin')).toEqual([expect.objectContaining({ field: 'role', code: 'FORBIDDEN' })]);
    expect(checkKeyIssue(actor('tenant-admin'), 'tenant-admin')).toEqual([]);
    expect(checkKeyIssue(actor('user-manager'), 'tenant-admin')).toHaveLength(1);
    expect(checkKeyIssue(actor('global-admin'), 'global-admin')).toEqual([]);
  });

  it('throws the first refusal with all of them as detail, and nothing when there is none', () => {
    expect(() => assertPermitted([])).not.toThrow();
    const problems = checkUserChange(actor('user-manager'), [ADMIN], ['email', 'password']);
    try {
      assertPermitted(problems);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(DomainError);
      expect((error as DomainError).code).toBe('ADMIN_ROLE_FORBIDDEN');
      expect((error as DomainError).errors.map((e) => e.field)).toEqual(['email', 'password']);
    }
  });
});
