/** The tables as Kysely sees them. Timestamps are ISO 8601 text in UTC; flags are 0/1 integers on both databases. */
import type { Generated } from 'kysely';

export interface TenantsTable {
  id: string;
  name: string;
  seat_limit: number | null;
  email_domains: string;
  password_policy: string;
  app_key: string;
  user_count: number;
  users_revision: number;
  created_at: string;
  updated_at: string;
}

export interface ApiKeysTable {
  id: string;
  tenant_id: string | null;
  name: string;
  role: string;
  token_hash: string;
  created_at: string;
  revoked_at: string | null;
}

export interface RolesTable {
  tenant_id: string;
  name: string;
  description: string | null;
  admin: number;
  created_at: string;
  updated_at: string;
}

export interface CatalogEntriesTable {
  tenant_id: string;
  kind: string;
  code: string;
  name: string | null;
  created_at: string;
}

export interface UsersTable {
  number: Generated<number>;
  id: string;
  tenant_id: string;
  user_name: string;
  user_name_key: string;
  email: string;
  email_key: string;
  given_name: string | null;
  family_name: string | null;
  formatted_name: string | null;
  phone_number: string | null;
  department_id: string | null;
  location_id: string | null;
  program_admin_role_id: string | null;
  locked_out: number;
  approved: number;
  password_hash: string | null;
  revision: number;
  created_at: string;
  updated_at: string;
}

export interface UserRolesTable {
  user_id: string;
  tenant_id: string;
  role_name: string;
}

export interface EmailMessagesTable {
  seq: Generated<number>;
  id: string;
  tenant_id: string;
  user_id: string | null;
  kind: string;
  from_address: string;
  to_address: string;
  subject: string;
  text_body: string;
  html_body: string;
  message_id: string;
  secret: string | null;
  status: string;
  attempts: number;
  last_error: string | null;
  next_attempt_at: string | null;
  lease_owner: string | null;
  lease_until: string | null;
  created_at: string;
  sent_at: string | null;
}

export interface InvitationsTable {
  id: string;
  tenant_id: string;
  user_id: string;
  token_hash: string;
  expires_at: string;
  used_at: string | null;
  created_at: string;
}

export interface EmailTemplatesTable {
  tenant_id: string;
  kind: string;
  subject: string;
  text_body: string;
  html_body: string;
  updated_at: string;
}

export interface Database {
  tenants: TenantsTable;
  api_keys: ApiKeysTable;
  roles: RolesTable;
  catalog_entries: CatalogEntriesTable;
  users: UsersTable;
  user_roles: UserRolesTable;
  email_messages: EmailMessagesTable;
  invitations: InvitationsTable;
  email_templates: EmailTemplatesTable;
}
