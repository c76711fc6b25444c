import { describe, expect, it } from 'vitest';
import { checkPassword, isCommonPassword } from '../src/core/passwords/password-policy.js';
import { isEmailDomainAllowed } from '../src/core/tenants/email-domain-rules.js';
import { mergePasswordPolicy } from '../src/core/tenants/create-tenant.js';
import { DEFAULT_PASSWORD_POLICY, type PasswordPolicy } from '../src/core/tenants/tenant.js';
import { isDomainError } from '../src/core/errors.js';

const STRONG = 'violet-harbour-42';

function weak(password: string, policy: Partial<PasswordPolicy> = {}, info = { userName: 'ada.lovelace', email: 'ada.lovelace@example.com' }): string | undefined {
  const errors = checkPassword({ ...DEFAULT_PASSWORD_POLICY, ...policy }, password, info);
  if (errors.length === 0) return undefined;
  expect(errors.every((e) => e.code === 'PASSWORD_TOO_WEAK' && e.field === 'password')).toBe(true);
  return errors[0]!.message;
}

describe('password policy', () => {
  it('accepts a long, uncommon password by default', () => {
    expect(weak(STRONG)).toBeUndefined();
  });

  it('needs at least 8 characters by default and accepts exactly 8', () => {
    expect(weak('vX3#q9z')).toMatch(/at least 8/);
    expect(weak('vX3#q9zK')).toBeUndefined();
  });

  it('allows at most 256 characters by default', () => {
    expect(weak('kq7'.repeat(85) + 'z')).toBeUndefined(); // 256
    expect(weak('kq7'.repeat(85) + 'zz')).toMatch(/at most 256/); // 257
  });

  it('counts length in characters, not UTF-16 units', () => {
    expect(weak('🦊🦊🦊🦊🦊🦊🦊')).toMatch(/at least 8/); // 7 characters, 14 code units
  });

  it('honours a tenant’s own length bounds', () => {
    expect(weak(STRONG, { minLength: 20 })).toMatch(/at least 20/);
    expect(weak(STRONG, { maxLength: 10 })).toMatch(/at most 10/);
  });

  it('enforces each character class only when the policy asks for it', () => {
    expect(weak('violet-harbour', { requireUppercase: true })).toMatch(/upper-case/);
    expect(weak('Violet-harbour', { requireUppercase: true })).toBeUndefined();
    expect(weak('VIOLET-HARBOUR', { requireLowercase: true })).toMatch(/lower-case/);
    expect(weak('violet-harbour', { requireDigit: true })).toMatch(/digit/);
    expect(weak('violet-harbour-7', { requireDigit: true })).toBeUndefined();
    expect(weak('violetharbour7', { requireSymbol: true })).toMatch(/symbol/);
    expect(weak('violet harbour7', { requireSymbol: true })).toBeUndefined();
  });

  it('refuses passwords on the common-password list, whatever their case', () => {
    expect(isCommonPassword('password123')).toBe(true);
    expect(weak('password123')).toMatch(/common/);
    expect(weak('PassWord123')).toMatch(/common/);
    expect(weak('qwertyuiop')).toMatch(/common/);
  });

  it('lets a tenant turn the common-password check off', () => {
    expect(weak('password123', { blockCommon: false })).toBeUndefined();
  });

  it('refuses a password containing the user name, in any case', () => {
    expect(weak('xxAda.Lovelace99', {}, { userName: 'ada.lovelace', email: 'someone@example.com' })).toMatch(/user name/);
  });

  it("refuses a password containing the email's local part", () => {
    expect(weak('my-lovelace-2024', {}, { userName: 'countess', email: 'lovelace@example.com' })).toMatch(/local part/);
  });

  it('does not count the domain of the email as personal information', () => {
    expect(weak('example-harbour-7', {}, { userName: 'countess', email: 'ada@example.com' })).toBeUndefined();
  });

  it('lets a tenant turn the personal-information check off', () => {
    expect(weak('xxada.lovelace99', { blockPersonalInfo: false })).toBeUndefined();
  });

  it('never repeats the password in its messages', () => {
    const secret = 'ada.lovelace-secret';
    const errors = checkPassword(DEFAULT_PASSWORD_POLICY, secret, { userName: 'ada.lovelace' });
    expect(errors).not.toEqual([]);
    expect(JSON.stringify(errors)).not.toContain(secret);
  });

  it('refuses a policy whose minimum exceeds its maximum', () => {
    let error: unknown;
    try {
      mergePasswordPolicy(DEFAULT_PASSWORD_POLICY, { minLength: 100, maxLength: 50 });
    } catch (e) {
      error = e;
    }
    expect(isDomainError(error) && error.code).toBe('INVALID_FIELD');
  });
});

describe('email-domain rules', () => {
  const none = { allow: [], block: [] };

  it('allows every domain when the tenant has no rules', () => {
    expect(isEmailDomainAllowed(none, 'ada@anywhere.io')).toBe(true);
  });

  it('allows only listed domains when there is an allow-list', () => {
    const rules = { allow: ['example.com'], block: [] };
    expect(isEmailDomainAllowed(rules, 'ada@example.com')).toBe(true);
    expect(isEmailDomainAllowed(rules, 'ada@example.org')).toBe(false);
  });

  it('lets an allowed domain cover its subdomains', () => {
    const rules = { allow: ['example.com'], block: [] };
    expect(isEmailDomainAllowed(rules, 'ada@eu.example.com')).toBe(true);
    expect(isEmailDomainAllowed(rules, 'ada@a.b.example.com')).toBe(true);
  });

  it('does not treat a look-alike suffix as a subdomain', () => {
    expect(isEmailDomainAllowed({ allow: ['example.com'], block: [] }, 'ada@badexample.com')).toBe(false);
    expect(isEmailDomainAllowed({ allow: [], block: ['example.com'] }, 'ada@notexample.com')).toBe(true);
  });

  it('refuses blocked domains and their subdomains', () => {
    const rules = { allow: [], block: ['spam.test'] };
    expect(isEmailDomainAllowed(rules, 'x@spam.test')).toBe(false);
    expect(isEmailDomainAllowed(rules, 'x@mail.spam.test')).toBe(false);
    expect(isEmailDomainAllowed(rules, 'x@ham.test')).toBe(true);
  });

  it('lets the block-list win over the allow-list', () => {
    const rules = { allow: ['example.com'], block: ['contractors.example.com'] };
    expect(isEmailDomainAllowed(rules, 'ada@example.com')).toBe(true);
    expect(isEmailDomainAllowed(rules, 'bob@contractors.example.com')).toBe(false);
    expect(isEmailDomainAllowed(rules, 'bob@x.contractors.example.com')).toBe(false);
  });

  it('compares domains without regard to case', () => {
    expect(isEmailDomainAllowed({ allow: ['Example.COM'], block: [] }, 'ada@EXAMPLE.com')).toBe(true);
    expect(isEmailDomainAllowed({ allow: [], block: ['SPAM.test'] }, 'x@Spam.Test')).toBe(false);
  });

  it('looks only at the domain, not at an @ inside the local part', () => {
    expect(isEmailDomainAllowed({ allow: [], block: ['spam.test'] }, '"x@spam.test"@example.com')).toBe(true);
  });
});
