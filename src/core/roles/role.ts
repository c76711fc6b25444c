/** A role of a tenant: what users hold, and what a SCIM Group is. */
export interface Role {
  tenantId: string;
  /** Issued once when the role is created and never given to another role (a SCIM Group's id). */
  id: string;
  /** Unique in the tenant; can change (a rename keeps the id and the holders). */
  name: string;
  description: string | null;
  admin: boolean;
  /** The directory client's own identifier for the role (a SCIM Group's externalId), compared exactly. */
  externalId: string | null;
  /** +1 on every change of the role or of who holds it. */
  revision: number;
  createdAt: string;
  updatedAt: string;
}

/** What renaming a role or setting its external id changes; absent fields stay. */
export interface RoleChange {
  name?: string;
  externalId?: string | null;
}
