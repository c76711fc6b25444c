/**
 * `onConflict=update`: rows whose email (or, without a match by email, user name) names an
 * existing user of the tenant change that user instead of creating one. Each change goes
 * through `updateUser`, the use case behind PATCH, so it gets the same checks, the same
 * privilege rule and the same audit event; the rest of the rows go on to the create path.
 *
 * The changes commit one user at a time, before the chunk's own transaction: should the chunk
 * be cut off and run again, a row already applied is applied again (the same values; the
 * user's revision moves on), and it is counted once, with the chunk.
 */
import type { Actor } from '../credentials/actor.js';
import { isDomainError, type FieldError } from '../errors.js';
import type { UserStore } from '../ports.js';
import { updateUser, type UpdateUserPorts } from '../users/update-user.js';
import { identityKey } from '../users/normalise.js';
import type { User } from '../users/user.js';

export interface UpdateOutcome {
  /** Index of the row in the drafts given. */
  index: number;
  status: 'updated' | 'failed';
  errors: FieldError[];
}

/** Fields a new user may carry that a change of an existing one does not take. */
const CREATE_ONLY = ['confirmPassword', 'generatePassword', 'passwordHash'] as const;

function stringField(draft: unknown, field: string): string | undefined {
  const value = (draft as Record<string, unknown> | null)?.[field];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The PATCH a row means for an existing user, or the problems that stop it. */
function patchOf(draft: Record<string, unknown>): { patch: Record<string, unknown> } | { errors: FieldError[] } {
  const errors: FieldError[] = [];
  if (draft.confirmPassword !== undefined && draft.confirmPassword !== draft.password) {
    errors.push({ field: 'confirmPassword', code: 'PASSWORD_MISMATCH', message: 'confirmPassword differs from password.' });
  }
  if (draft.generatePassword === true) {
    errors.push({ field: 'generatePassword', code: 'INVALID_FIELD', message: 'generatePassword applies to new users only; this row names an existing user.' });
  }
  if (draft.passwordHash !== undefined) {
    errors.push({ field: 'passwordHash', code: 'INVALID_FIELD', message: "passwordHash applies to new users only; send password to change an existing user's password." });
  }
  if (errors.length > 0) return { errors };
  const patch: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(draft)) {
    if (!(CREATE_ONLY as readonly string[]).includes(key)) Object.defineProperty(patch, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return { patch };
}

/** The existing user a row names: by email first, else by user name. */
async function existingUser(deps: { users: Pick<UserStore, 'list'> }, tenantId: string, draft: unknown): Promise<User | undefined> {
  const email = stringField(draft, 'email');
  if (email !== undefined) {
    const [byEmail] = await deps.users.list(tenantId, { emailKey: identityKey(email), limit: 1 });
    if (byEmail) return byEmail;
  }
  const userName = stringField(draft, 'userName');
  if (userName !== undefined) {
    const [byName] = await deps.users.list(tenantId, { userNameKey: identityKey(userName), limit: 1 });
    if (byName) return byName;
  }
  return undefined;
}

/**
 * Applies the rows that name existing users as changes of those users (in a dry run, only
 * finds them). Returns one outcome per such row; the rows absent from the result name no
 * existing user and are for the create path.
 */
export async function updateExistingUsers(deps: UpdateUserPorts & { users: Pick<UserStore, 'list' | 'findTaken'> }, tenantId: string, actor: Actor, drafts: readonly unknown[], dryRun: boolean): Promise<UpdateOutcome[]> {
  // One query tells which rows may name someone: most rows of a typical upload are new.
  const emailKeys = drafts.flatMap((d) => (stringField(d, 'email') === undefined ? [] : [identityKey(stringField(d, 'email')!)]));
  const userNameKeys = drafts.flatMap((d) => (stringField(d, 'userName') === undefined ? [] : [identityKey(stringField(d, 'userName')!)]));
  if (emailKeys.length === 0 && userNameKeys.length === 0) return [];
  const taken = await deps.users.findTaken(tenantId, emailKeys, userNameKeys);
  const outcomes: UpdateOutcome[] = [];
  for (const [index, draft] of drafts.entries()) {
    const email = stringField(draft, 'email');
    const userName = stringField(draft, 'userName');
    const mayExist = (email !== undefined && taken.emailKeys.has(identityKey(email))) || (userName !== undefined && taken.userNameKeys.has(identityKey(userName)));
    if (!mayExist || typeof draft !== 'object' || draft === null || Array.isArray(draft)) continue;
    const planned = patchOf(draft as Record<string, unknown>);
    if ('errors' in planned) {
      outcomes.push({ index, status: 'failed', errors: planned.errors });
      continue;
    }
    // Read, then change at that revision; a user changed in between is read again once.
    for (let attempt = 0; ; attempt++) {
      const user = await existingUser(deps, tenantId, draft);
      if (!user) break;
      try {
        await updateUser(deps, tenantId, actor, user.id, user.revision, planned.patch, { dryRun });
        outcomes.push({ index, status: 'updated', errors: [] });
        break;
      } catch (error) {
        if (!isDomainError(error)) throw error;
        if (error.code === 'PRECONDITION_FAILED' && attempt === 0) continue;
        // A whole-job problem (the tenant is gone, the key revoked) stops the job as it would a create.
        if (error.code === 'NOT_FOUND' && error.errors.length === 0 && !(await deps.tenants.get(tenantId))) throw error;
        const errors = error.errors.length > 0 ? error.errors : [{ field: '', code: error.code, message: error.message }];
        outcomes.push({ index, status: 'failed', errors });
        break;
      }
    }
  }
  return outcomes;
}
