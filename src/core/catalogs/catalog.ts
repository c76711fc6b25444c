/** The code catalogs of a tenant (departments, locations, program-admin roles) that user fields refer to. */
export const CATALOG_KINDS = ['departments', 'locations', 'program-admin-roles'] as const;

export type CatalogKind = (typeof CATALOG_KINDS)[number];

export interface CatalogEntry {
  tenantId: string;
  kind: CatalogKind;
  code: string;
  name: string | null;
  createdAt: string;
}
