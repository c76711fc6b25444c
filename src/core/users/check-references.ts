import type { Actor } from '../credentials/actor.js';
import { mayGrantRole } from '../credentials/privileges.js';
import { fieldError, type FieldError } from '../errors.js';
import type { CatalogStore } from '../ports.js';
import type { CatalogKind } from '../catalogs/catalog.js';
import type { UserAccess } from './user.js';

const ACCESS_FIELDS: ReadonlyArray<[keyof UserAccess, CatalogKind]> = [
  ['departmentId', 'departments'],
  ['locationId', 'locations'],
  ['programAdminRoleId', 'program-admin-roles'],
];

export interface References {
  roles: string[];
  access: UserAccess;
}

/**
 * Checks, for many users at once, that every role and catalog code they reference exists
 * in the tenant, and that the actor may grant every role it names (the privilege rule:
 * only a global admin grants a role marked `admin`). Returns the
 * problems of each input by position; one query per kind of reference, whatever the count.
 */
export async function checkReferences(
  catalogs: CatalogStore,
  tenantId: string,
  actor: Actor,
  items: readonly References[],
): Promise<FieldError[][]> {
  const roleNames = [...new Set(items.flatMap((item) => item.roles))];
  const roles = roleNames.length > 0 ? await catalogs.findRoles(tenantId, roleNames) : [];
  const roleByName = new Map(roles.map((role) => [role.name, role]));
  const codesByKind = new Map<CatalogKind, Set<string>>();
  for (const [field, kind] of ACCESS_FIELDS) {
    const wanted = [...new Set(items.map((item) => item.access[field]).filter((code): code is string => !!code))];
    codesByKind.set(kind, wanted.length > 0 ? await catalogs.findCodes(tenantId, kind, wanted) : new Set());
  }
  return items.map((item) => {
    const problems: FieldError[] = [];
    item.roles.forEach((name, i) => {
      const role = roleByName.get(name);
      if (!role) problems.push(fieldError(`roles.${i}`, 'UNKNOWN_REFERENCE', `Role "${name}" does not exist in this tenant.`));
      else if (!mayGrantRole(actor, role)) {
        problems.push(fieldError(`roles.${i}`, 'ADMIN_ROLE_FORBIDDEN', 'Only a global administrator may create or make an administrator.'));
      }
    });
    for (const [field, kind] of ACCESS_FIELDS) {
      const code = item.access[field];
      if (code && !codesByKind.get(kind)?.has(code)) {
        problems.push(fieldError(`access.${field}`, 'UNKNOWN_REFERENCE', `"${code}" is not a configured ${kind.replace(/s$/, '').replace(/-/g, ' ')} code.`));
      }
    }
    return problems;
  });
}
