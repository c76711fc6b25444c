import { fieldError, type FieldError } from '../errors.js';
import { fieldsWithNul, nulFieldErrors } from '../nul-characters.js';
import { checkPassword } from '../passwords/password-policy.js';
import { parsePasswordHash } from '../passwords/hash-formats.js';
import type { Tenant } from '../tenants/tenant.js';
import { isEmailDomainAllowed } from '../tenants/email-domain-rules.js';
import { compileValidator } from '../validation.js';
import { hasForbiddenCharacters, identityKey } from './normalise.js';
import { formatName, UserDraftSchema, type UserAccess, type UserDraft, type UserName } from './user.js';

const validateShape = compileValidator(UserDraftSchema);

/** A draft that passed every check that needs no database. */
export interface CheckedDraft {
  userName: string;
  userNameKey: string;
  email: string;
  emailKey: string;
  password: string | undefined;
  /** A hash from another system, format and bounds checked, stored as given. */
  passwordHash: string | undefined;
  generatePassword: boolean;
  name: UserName;
  phoneNumber: string | null;
  roles: string[];
  access: UserAccess;
  lockedOut: boolean;
  approved: boolean;
  externalId: string | null;
  displayName: string | null;
  employeeNumber: string | null;
  department: string | null;
}

/** Adds the problem of a text field, if it has one, to `errors`. */
function checkText(errors: FieldError[], field: string, value: string | undefined): void {
  if (value === undefined) return;
  if (hasForbiddenCharacters(value)) errors.push(fieldError(field, 'INVALID_FIELD', `${field} must not contain control characters.`));
  else if (value.trim() !== value || value === '') errors.push(fieldError(field, 'INVALID_FIELD', `${field} must not start or end with white space.`));
}

/** A pre-hashed password stands alone: no password, confirmation or generated one beside it, and a format Muster can verify. */
function passwordHashProblems(d: UserDraft): FieldError[] {
  const others = (['password', 'confirmPassword', 'generatePassword'] as const).filter((f) => d[f] !== undefined && d[f] !== false);
  if (others.length > 0) {
    return [fieldError(others[0]!, 'INVALID_FIELD', `${others[0]} cannot be given together with passwordHash.`)];
  }
  const parsed = parsePasswordHash(d.passwordHash!);
  return parsed.ok ? [] : [fieldError('passwordHash', 'INVALID_FIELD', parsed.message)];
}

/**
 * Validates one draft against the schema and the tenant's rules (email domains, password
 * policy) and computes its identity keys. Uniqueness, references and seats are checked later,
 * for the whole batch at once.
 */
export function checkDraft(tenant: Tenant, input: unknown): { ok: true; draft: CheckedDraft } | { ok: false; errors: FieldError[] } {
  // NUL first: PostgreSQL cannot store it, and no field of a user may carry it.
  const withNul = fieldsWithNul(input);
  if (withNul.length > 0) return { ok: false, errors: nulFieldErrors(withNul) };
  const shaped = validateShape(input);
  if (!shaped.ok) return shaped;
  const d: UserDraft = shaped.value;
  const email = d.email;
  const userName = d.userName ?? email;
  const errors: FieldError[] = [];
  checkText(errors, 'userName', d.userName);
  if (d.name !== undefined) {
    checkText(errors, 'name.givenName', d.name.givenName);
    checkText(errors, 'name.familyName', d.name.familyName);
    checkText(errors, 'name.formatted', d.name.formatted);
  }
  if (d.roles !== undefined) for (let i = 0; i < d.roles.length; i++) checkText(errors, `roles.${i}`, d.roles[i]);
  checkText(errors, 'externalId', d.externalId);
  checkText(errors, 'displayName', d.displayName);
  checkText(errors, 'employeeNumber', d.employeeNumber);
  checkText(errors, 'department', d.department);
  if (!isEmailDomainAllowed(tenant.emailDomains, email)) {
    errors.push(fieldError('email', 'EMAIL_DOMAIN_RESTRICTED', 'The domain of this email address may not sign up in this tenant.'));
  }
  const generatePassword = d.generatePassword === true;
  if (d.passwordHash !== undefined) {
    errors.push(...passwordHashProblems(d));
  } else if (!generatePassword && d.password !== undefined) {
    if (d.confirmPassword !== undefined && d.confirmPassword !== d.password) {
      errors.push(fieldError('confirmPassword', 'PASSWORD_MISMATCH', 'confirmPassword does not match password.'));
    } else {
      errors.push(...checkPassword(tenant.passwordPolicy, d.password, { userName, email }));
    }
  } else if (!generatePassword && d.confirmPassword !== undefined) {
    errors.push(fieldError('password', 'MISSING_REQUIRED_FIELD', 'password is required when confirmPassword is given.'));
  }
  if (errors.length > 0) return { ok: false, errors };
  const emailKey = identityKey(email);
  const name: UserName = { ...d.name };
  const formatted = formatName(name);
  if (formatted) name.formatted = formatted;
  return {
    ok: true,
    draft: {
      userName,
      userNameKey: d.userName === undefined ? emailKey : identityKey(userName),
      email,
      emailKey,
      password: generatePassword ? undefined : d.password,
      passwordHash: d.passwordHash,
      generatePassword,
      name,
      phoneNumber: d.phoneNumber ?? null,
      // Sorted by code unit, as storage returns them, so a created user reads back the same.
      roles: [...new Set(d.roles ?? [])].sort(),
      access: { ...d.access },
      lockedOut: d.lockedOut ?? false,
      approved: d.approved ?? true,
      externalId: d.externalId ?? null,
      displayName: d.displayName ?? null,
      employeeNumber: d.employeeNumber ?? null,
      department: d.department ?? null,
    },
  };
}
