import Type, { type Static } from 'typebox';
import { auditEvent } from '../audit/audit.js';
import type { Actor } from '../credentials/actor.js';
import { assertPermitted, checkUserChange } from '../credentials/privileges.js';
import { DomainError, type FieldError } from '../errors.js';
import type { CoreDeps, InvitationRevocation, PasswordHasher, UserChange, UserStore } from '../ports.js';
import { loadTenant } from '../tenants/load-tenant.js';
import { compileValidator } from '../validation.js';
import { checkReferences } from './check-references.js';
import { UserDraftSchema, type User } from './user.js';
import { isUserId } from './user-id.js';
import { checkDraft, type CheckedDraft } from './validate-draft.js';

const draftProps = UserDraftSchema.properties;

/** What PATCH may change; omitted fields stay as they are, `null` clears a nullable one (`phoneNumber`, `externalId`, …). */
export const UserPatchSchema = Type.Object(
  {
    userName: Type.Optional(draftProps.userName),
    email: Type.Optional(draftProps.email),
    password: Type.Optional(draftProps.password),
    name: Type.Optional(draftProps.name),
    phoneNumber: Type.Optional(Type.Union([draftProps.phoneNumber, Type.Null()])),
    roles: Type.Optional(draftProps.roles),
    access: Type.Optional(draftProps.access),
    lockedOut: Type.Optional(draftProps.lockedOut),
    approved: Type.Optional(draftProps.approved),
    externalId: Type.Optional(Type.Union([draftProps.externalId, Type.Null()])),
    displayName: Type.Optional(Type.Union([draftProps.displayName, Type.Null()])),
    employeeNumber: Type.Optional(Type.Union([draftProps.employeeNumber, Type.Null()])),
    department: Type.Optional(Type.Union([draftProps.department, Type.Null()])),
  },
  { additionalProperties: false },
);
export type UserPatch = Static<typeof UserPatchSchema>;

const validatePatch = compileValidator(UserPatchSchema);

/** The field a unique index guards, for each duplicate the store reports. */
const DUPLICATES = {
  DUPLICATE_EMAIL: { field: 'email', what: 'email address' },
  DUPLICATE_USERNAME: { field: 'userName', what: 'user name' },
  CONFLICT: { field: 'externalId', what: 'externalId' },
} as const;

function invalid(errors: FieldError[]): DomainError {
  const first = errors[0]!;
  return new DomainError(first.code, first.message, errors);
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

/** The fields whose value the patch really changes (a field sent with the value it has is no change); `password` whenever one is set. */
function changedFields(current: User, patch: UserPatch, draft: CheckedDraft): string[] {
  const changed: string[] = [];
  if (patch.userName !== undefined && draft.userName !== current.userName) changed.push('userName');
  if (patch.email !== undefined && draft.email !== current.email) changed.push('email');
  if (draft.password !== undefined) changed.push('password');
  if (patch.lockedOut !== undefined && draft.lockedOut !== current.lockedOut) changed.push('lockedOut');
  if (patch.approved !== undefined && draft.approved !== current.approved) changed.push('approved');
  if (patch.roles !== undefined && !sameSet(draft.roles, current.roles)) changed.push('roles');
  return changed;
}

/** What changing a user reads and writes. */
export type UpdateUserPorts = Pick<CoreDeps, 'tenants' | 'catalogs' | 'clock' | 'ids'> & {
  users: Pick<UserStore, 'get' | 'update'>;
  hasher: Pick<PasswordHasher, 'hash'>;
};

/**
 * Changes a user if `expectedRevision` (from `If-Match`) is still current; `any` (`If-Match: *`)
 * asks only that the user exist, and a change that gets in first is read and checked again. The merged result
 * passes the same checks as a new user; roles and codes are checked only where they change.
 * The privilege rule applies: the credentials, email, user name, lock or approval state or
 * roles of a user holding an admin role are changed only by an actor who may grant that role
 * (ADMIN_ROLE_FORBIDDEN otherwise). A new email, a password set or a lock-out revokes the
 * user's pending invitations and cancels the unsent messages that carry one (and, for a new
 * email, every unsent message to the old address), in the transaction of the change.
 * `dryRun` runs every check (the privilege rule included) and writes nothing; only a clash
 * with another user's email or user name is left to the write to find.
 */
export async function updateUser(
  deps: UpdateUserPorts,
  tenantId: string,
  actor: Actor,
  id: string,
  expectedRevision: number | 'any' | undefined,
  input: unknown,
  options: { dryRun?: boolean } = {},
): Promise<User> {
  const tenant = await loadTenant(deps.tenants, actor, 'users:write', tenantId);
  if (expectedRevision === undefined) {
    throw new DomainError('PRECONDITION_REQUIRED', 'Send If-Match with the ETag of the user you read.');
  }
  const shaped = validatePatch(input);
  if (!shaped.ok) throw invalid(shaped.errors);
  const patch = shaped.value;
  const current = isUserId(id) ? await deps.users.get(tenantId, id) : undefined;
  if (!current) throw new DomainError('NOT_FOUND', 'No such user.');
  const revision = expectedRevision === 'any' ? current.revision : expectedRevision;
  if (current.revision !== revision) throw new DomainError('PRECONDITION_FAILED', 'The user has changed since you read it.');

  // The email-domain rules apply to an email being set, not to one the user already has:
  // blocking a domain must not stop an admin from locking its users out.
  const rules = patch.email === undefined ? { ...tenant, emailDomains: { allow: [], block: [] } } : tenant;
  const checked = checkDraft(rules, {
    userName: patch.userName ?? current.userName,
    email: patch.email ?? current.email,
    password: patch.password,
    name: patch.name ?? current.name,
    phoneNumber: patch.phoneNumber === undefined ? (current.phoneNumber ?? undefined) : (patch.phoneNumber ?? undefined),
    roles: patch.roles ?? current.roles,
    access: patch.access ?? current.access,
    lockedOut: patch.lockedOut ?? current.lockedOut,
    approved: patch.approved ?? current.approved,
    externalId: patch.externalId === undefined ? (current.externalId ?? undefined) : (patch.externalId ?? undefined),
    displayName: patch.displayName === undefined ? (current.displayName ?? undefined) : (patch.displayName ?? undefined),
    employeeNumber: patch.employeeNumber === undefined ? (current.employeeNumber ?? undefined) : (patch.employeeNumber ?? undefined),
    department: patch.department === undefined ? (current.department ?? undefined) : (patch.department ?? undefined),
  });
  if (!checked.ok) throw invalid(checked.errors);
  const draft = checked.draft;
  // The revision condition of the write makes this read part of it: a user whose roles
  // change meanwhile (an admin role granted, or its flag set) has a new revision, and the
  // write is refused as stale.
  const held = current.roles.length > 0 ? await deps.catalogs.findRoles(tenantId, current.roles) : [];
  assertPermitted(checkUserChange(actor, held, changedFields(current, patch, draft)));
  const [problems = []] = await checkReferences(deps.catalogs, tenantId, actor, [
    { roles: patch.roles ? draft.roles.filter((role) => !current.roles.includes(role)) : [], access: patch.access ? draft.access : {} },
  ]);
  if (problems.length > 0) throw invalid(problems);
  // A dry run stops here, every check but the unique indexes done: the user as it stands.
  if (options.dryRun) return current;

  const change: UserChange = { updatedAt: deps.clock.now().toISOString() };
  if (patch.userName !== undefined) Object.assign(change, { userName: draft.userName, userNameKey: draft.userNameKey });
  if (patch.email !== undefined) Object.assign(change, { email: draft.email, emailKey: draft.emailKey });
  if (patch.name !== undefined) change.name = draft.name;
  if (patch.phoneNumber !== undefined) change.phoneNumber = draft.phoneNumber;
  if (patch.roles !== undefined) change.roles = draft.roles;
  if (patch.access !== undefined) change.access = draft.access;
  if (patch.lockedOut !== undefined) change.lockedOut = draft.lockedOut;
  if (patch.approved !== undefined) change.approved = draft.approved;
  if (patch.externalId !== undefined) change.externalId = draft.externalId;
  if (patch.displayName !== undefined) change.displayName = draft.displayName;
  if (patch.employeeNumber !== undefined) change.employeeNumber = draft.employeeNumber;
  if (patch.department !== undefined) change.department = draft.department;
  if (draft.password !== undefined) change.passwordHash = await deps.hasher.hash(draft.password);

  // Names of the fields changed, never their values: the audit log holds no password or hash.
  const fields = Object.keys(change).filter((f) => f !== 'updatedAt' && !f.endsWith('Key')).map((f) => (f === 'passwordHash' ? 'password' : f)).sort();
  const audit = auditEvent(deps, actor, tenantId, 'user.updated', id, { fields }, change.updatedAt);
  const emailChanged = change.email !== undefined && change.email !== current.email;
  const revokes = emailChanged || change.passwordHash !== undefined || (change.lockedOut === true && !current.lockedOut);
  const revocation: InvitationRevocation | undefined = revokes ? (emailChanged ? { cancelMessagesTo: current.email } : {}) : undefined;
  const result = await deps.users.update(tenantId, id, revision, change, audit, revocation);
  switch (result.status) {
    case 'updated':
      return result.user;
    case 'not-found':
      throw new DomainError('NOT_FOUND', 'No such user.');
    case 'stale':
      // `*` still matches the user as another write left it: the change is checked on that one.
      if (expectedRevision === 'any') return updateUser(deps, tenantId, actor, id, 'any', input);
      throw new DomainError('PRECONDITION_FAILED', 'The user has changed since you read it.');
    case 'duplicate': {
      const { field, what } = DUPLICATES[result.code];
      const message = `This ${what} is already used in this tenant.`;
      throw new DomainError(result.code, message, [{ field, code: result.code, message }]);
    }
  }
}
