import { dictionary } from '@zxcvbn-ts/language-common';
import { fieldError, type FieldError } from '../errors.js';
import type { PasswordPolicy } from '../tenants/tenant.js';

/** The maintained common-password list of zxcvbn-ts (about 49,000 entries), lower-cased. */
const COMMON_PASSWORDS: ReadonlySet<string> = new Set(dictionary['passwords-common'].map((p) => p.toLowerCase()));

export function isCommonPassword(password: string): boolean {
  return COMMON_PASSWORDS.has(password.toLowerCase());
}

export interface PersonalInfo {
  userName?: string | undefined;
  email?: string | undefined;
}

/**
 * Checks a password against a tenant's policy. Returns the problems found (empty when the
 * password is acceptable); never includes the password itself in a message.
 */
export function checkPassword(
  policy: PasswordPolicy,
  password: string,
  info: PersonalInfo,
  field = 'password',
): FieldError[] {
  const weak = (message: string) => [fieldError(field, 'PASSWORD_TOO_WEAK', message)];
  const length = [...password].length;
  if (length < policy.minLength) return weak(`Password must be at least ${policy.minLength} characters long.`);
  if (length > policy.maxLength) return weak(`Password must be at most ${policy.maxLength} characters long.`);
  if (policy.requireUppercase && !/\p{Lu}/u.test(password)) return weak('Password must contain an upper-case letter.');
  if (policy.requireLowercase && !/\p{Ll}/u.test(password)) return weak('Password must contain a lower-case letter.');
  if (policy.requireDigit && !/\p{Nd}/u.test(password)) return weak('Password must contain a digit.');
  if (policy.requireSymbol && !/[^\p{L}\p{Nd}]/u.test(password)) return weak('Password must contain a symbol.');
  if (policy.blockCommon && isCommonPassword(password)) return weak('Password is too common.');
  if (policy.blockPersonalInfo) {
    const lower = password.toLowerCase();
    const localPart = info.email ? info.email.slice(0, info.email.lastIndexOf('@')).toLowerCase() : '';
    const userName = info.userName?.toLowerCase() ?? '';
    if (userName.length >= 3 && lower.includes(userName)) return weak('Password must not contain the user name.');
    if (localPart.length >= 3 && lower.includes(localPart)) return weak("Password must not contain the email's local part.");
  }
  return [];
}
