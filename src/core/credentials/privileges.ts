/**
 * The privilege rule, in one place for every API: an actor may create, change or delete a
 * user, role or key only when the result gives nobody more power than the actor itself may
 * grant. Pure functions over the actor, the privileges of what it acts on and the change;
 * the use cases read what they need and call these, and turn a refusal into a DomainError
 * with `assertPermitted`.
 *
 * What only a global admin may do (the README's Security section has the full table):
 * - set or clear a role's `admin` flag, create a role with `admin: true`, or delete an admin role;
 * - grant an admin role to a user (create, PATCH, SCIM, imports, group membership);
 * - change the credentials, email, user name, lock or approval state or roles of a user who
 *   holds an admin role, or delete that user;
 * and nobody issues a key of a higher role than its own.
 */
import { DomainError, fieldError, type ErrorCode, type FieldError } from '../errors.js';
import { hasRoleAtLeast, isGlobal, type Actor, type KeyRole } from './actor.js';

/** What the rule needs to know of a role: whether holding it makes a user an administrator. */
export interface RolePrivilege {
  name: string;
  admin: boolean;
}

/** The refusal code of every admin-power check: answered 403 by every API. */
export const ADMIN_REFUSAL: ErrorCode = 'ADMIN_ROLE_FORBIDDEN';

/**
 * The user fields whose change on an administrator (a holder of an admin role) needs the power
 * to grant that role: what signs the user in, whom it is, whether it may sign in, and what it holds.
 * `password` and `passwordHash` are the credentials; `approved` gates sign-in like `lockedOut`.
 */
export const GUARDED_USER_FIELDS = ['userName', 'email', 'password', 'passwordHash', 'lockedOut', 'approved', 'roles'] as const;
export type GuardedUserField = (typeof GUARDED_USER_FIELDS)[number];

/** Whether the actor may give a user this role (only a global admin gives an admin role). */
export function mayGrantRole(actor: Actor, role: Pick<RolePrivilege, 'admin'>): boolean {
  return !role.admin || isGlobal(actor);
}

/** Whether any of the roles makes its holder an administrator. */
export function holdsAdminRole(held: readonly Pick<RolePrivilege, 'admin'>[]): boolean {
  return held.some((role) => role.admin);
}

/** Whether the actor may act on a user holding these roles as on an equal: it may grant every one of them. */
export function mayManageHolder(actor: Actor, held: readonly Pick<RolePrivilege, 'admin'>[]): boolean {
  return held.every((role) => mayGrantRole(actor, role));
}

/** Refusals for giving users the roles (by position, field `roles.<i>`, or `field` when given). */
export function checkRoleGrants(actor: Actor, granted: readonly RolePrivilege[], field?: string): FieldError[] {
  const problems: FieldError[] = [];
  granted.forEach((role, i) => {
    if (!mayGrantRole(actor, role)) {
      problems.push(fieldError(field ?? `roles.${i}`, ADMIN_REFUSAL, `Only a global administrator may grant the admin role "${role.name}".`));
    }
  });
  return problems;
}

/**
 * Refusals for changing a user who holds `held`: the fields named in `changed` that are
 * guarded (GUARDED_USER_FIELDS) need the power to grant every admin role the user holds.
 * Roles newly granted are checked by `checkRoleGrants`.
 */
export function checkUserChange(actor: Actor, held: readonly RolePrivilege[], changed: readonly string[]): FieldError[] {
  if (mayManageHolder(actor, held)) return [];
  const guarded = changed.filter((field): field is GuardedUserField => (GUARDED_USER_FIELDS as readonly string[]).includes(field));
  const admins = held.filter((role) => role.admin).map((role) => role.name);
  return guarded.map((field) =>
    fieldError(field, ADMIN_REFUSAL, `This user holds an admin role (${admins.join(', ')}): only a global administrator may change its ${field}.`),
  );
}

/** Refusals for deleting a user who holds `held`: deleting an administrator needs a global admin. */
export function checkUserDelete(actor: Actor, held: readonly RolePrivilege[]): FieldError[] {
  if (mayManageHolder(actor, held)) return [];
  return [fieldError('', ADMIN_REFUSAL, 'This user holds an admin role: only a global administrator may delete it.')];
}

/**
 * Refusals for a change of one role of the catalog: `before` undefined is a create, `after`
 * undefined a delete. Setting or clearing `admin`, creating an admin role, renaming or deleting
 * one needs a global admin; a description change does not. A rename changes the roles every
 * holder shows, and frees the name for a role without the flag.
 */
export function checkRoleChange(actor: Actor, before: RolePrivilege | undefined, after: RolePrivilege | undefined): FieldError[] {
  if (isGlobal(actor)) return [];
  const wasAdmin = before?.admin === true;
  const isAdmin = after?.admin === true;
  if (before === undefined && isAdmin) return [fieldError('admin', ADMIN_REFUSAL, 'Only a global administrator may create an admin role.')];
  if (after === undefined && wasAdmin) return [fieldError('', ADMIN_REFUSAL, 'Only a global administrator may delete an admin role.')];
  if (before !== undefined && after !== undefined && wasAdmin !== isAdmin) {
    return [fieldError('admin', ADMIN_REFUSAL, 'Only a global administrator may set or clear the admin flag of a role.')];
  }
  if (before !== undefined && after !== undefined && wasAdmin && before.name !== after.name) {
    return [fieldError('name', ADMIN_REFUSAL, 'Only a global administrator may rename an admin role.')];
  }
  return [];
}

/**
 * Refusals for giving `role` to, or taking it from, users (a group membership change). Each
 * member is described by the roles it holds now. An admin role is granted or withdrawn only
 * by a global admin, and the roles of an administrator are changed only by one.
 */
export function checkMembershipChange(
  actor: Actor,
  role: RolePrivilege,
  members: readonly { id: string; held: readonly RolePrivilege[] }[],
  field = 'members',
): FieldError[] {
  if (isGlobal(actor)) return [];
  if (role.admin && members.length > 0) {
    return [fieldError(field, ADMIN_REFUSAL, `Only a global administrator may grant or withdraw the admin role "${role.name}".`)];
  }
  return members
    .filter((member) => !mayManageHolder(actor, member.held))
    .map((member) => fieldError(field, ADMIN_REFUSAL, `User "${member.id}" holds an admin role: only a global administrator may change its roles.`));
}

/** Refusals for issuing a key with `role`: nobody issues a key of a higher role than its own. */
export function checkKeyIssue(actor: Actor, role: KeyRole): FieldError[] {
  if (hasRoleAtLeast(actor, role)) return [];
  return [fieldError('role', 'FORBIDDEN', `A ${actor.role} may not issue a ${role} key.`)];
}

/** Throws the first refusal as a DomainError (with all of them as its detail); does nothing when there are none. */
export function assertPermitted(problems: readonly FieldError[]): void {
  const first = problems[0];
  if (first) throw new DomainError(first.code, first.message, [...problems]);
}
