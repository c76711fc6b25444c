import Type from 'typebox';
import type { Actor } from '../credentials/actor.js';
import { DomainError } from '../errors.js';
import type { CatalogStore, Clock, TenantStore } from '../ports.js';
import type { CatalogEntry, CatalogKind } from './catalog.js';
import { invalidInput } from '../tenants/create-tenant.js';
import { loadTenant } from '../tenants/load-tenant.js';
import { CODE_PATTERN } from '../users/user.js';
import { compileValidator, PlainText } from '../validation.js';

export const CatalogEntryBodySchema = Type.Object(
  { name: Type.Optional(PlainText({ minLength: 1, maxLength: 200 })) },
  { additionalProperties: false },
);
const validateBody = compileValidator(CatalogEntryBodySchema);
const codePattern = new RegExp(CODE_PATTERN);

type Deps = { catalogs: CatalogStore; tenants: TenantStore; clock: Clock };

/** Creates or replaces a department, location or program-admin-role code. */
export async function putCatalogEntry(
  deps: Deps,
  actor: Actor,
  tenantId: string,
  kind: CatalogKind,
  code: string,
  input: unknown,
): Promise<{ entry: CatalogEntry; created: boolean }> {
  await loadTenant(deps.tenants, actor, 'catalog:write', tenantId);
  if (!codePattern.test(code)) throw invalidInput([{ field: 'code', code: 'INVALID_FIELD', message: `Codes must match ${CODE_PATTERN}.` }]);
  const checked = validateBody(input ?? {});
  if (!checked.ok) throw invalidInput(checked.errors);
  const entry: CatalogEntry = { tenantId, kind, code, name: checked.value.name ?? null, createdAt: deps.clock.now().toISOString() };
  const created = await deps.catalogs.putEntry(entry);
  return { entry, created };
}

export async function listCatalogEntries(deps: Deps, actor: Actor, tenantId: string, kind: CatalogKind): Promise<CatalogEntry[]> {
  await loadTenant(deps.tenants, actor, 'catalog:read', tenantId);
  return deps.catalogs.listEntries(tenantId, kind);
}

export async function getCatalogEntry(deps: Deps, actor: Actor, tenantId: string, kind: CatalogKind, code: string): Promise<CatalogEntry> {
  const entries = await listCatalogEntries(deps, actor, tenantId, kind);
  const entry = entries.find((e) => e.code === code);
  if (!entry) throw new DomainError('NOT_FOUND', 'No such code.');
  return entry;
}

export async function deleteCatalogEntry(deps: Deps, actor: Actor, tenantId: string, kind: CatalogKind, code: string): Promise<void> {
  await loadTenant(deps.tenants, actor, 'catalog:write', tenantId);
  if (!codePattern.test(code) || !(await deps.catalogs.deleteEntry(tenantId, kind, code))) throw new DomainError('NOT_FOUND', 'No such code.');
}
