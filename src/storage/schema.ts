/** The tables as Kysely sees them. Timestamps are ISO 8601 text in UTC; flags are 0/1 integers on both databases. */
import type { ColumnType, Generated } from 'kysely';

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
  /** Migration 0009: a stable id never given again, the directory's own id, and +1 per change. */
  id: string;
  external_id: ColumnType<string | null, string | null | undefined, string | null>;
  revision: ColumnType<number, number | undefined, number>;
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
  /** Migration 0005: the directory client's own id for the user (unique per tenant), and enterprise attributes. */
  external_id: ColumnType<string | null, string | null | undefined, string | null>;
  employee_number: ColumnType<string | null, string | null | undefined, string | null>;
  department: ColumnType<string | null, string | null | undefined, string | null>;
  /** Migration 0009: the name the user is shown by, apart from formatted_name. */
  display_name: ColumnType<string | null, string | null | undefined, string | null>;
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

export interface AuditEventsTable {
  seq: Generated<number>;
  id: string;
  tenant_id: string;
  action: string;
  resource_type: string;
  resource_id: string;
  actor_key_id: string;
  actor_role: string;
  dialect: string | null;
  request_id: string | null;
  /** JSON: what changed, by name (never a value that is a secret). */
  detail: string;
  at: string;
}

export interface ImportJobsTable {
  id: string;
  tenant_id: string;
  state: string;
  format: string;
  dry_run: number;
  notify: number;
  on_conflict: string;
  actor_key_id: string;
  actor_role: string;
  actor_tenant_id: string | null;
  idempotency_key: string | null;
  body_sha256: string | null;
  seal_key: string | null;
  total: Generated<number>;
  processed: Generated<number>;
  created: Generated<number>;
  failed: Generated<number>;
  skipped: Generated<number>;
  /** Migration 0011: existing users changed under onConflict=update. */
  updated: Generated<number>;
  error: string | null;
  upload_lease_until: string | null;
  created_at: string;
  updated_at: string;
  started_at: string | null;
  finished_at: string | null;
  cleaned: Generated<number>;
  /** Bytes of rows staged by the upload (their stored form), counted against the tenant's staging limit. */
  staged_bytes: Generated<number>;
}

export interface ImportRowsTable {
  job_id: string;
  row_number: number;
  data: string | null;
  problem: string | null;
  /** Migration 0011: a CSV row's cells by column name (JSON, no password cells); null for JSON rows. */
  source: Generated<string | null>;
}

/** Migration 0012: a batch of staged rows, as one JSON array of StagedRow (sealed whole when one carries a password). */
export interface ImportRowBlocksTable {
  job_id: string;
  first_row: number;
  last_row: number;
  data: string;
}

export interface ImportChunksTable {
  seq: Generated<number>;
  job_id: string;
  chunk_no: number;
  first_row: number;
  last_row: number;
  lease_owner: string | null;
  lease_until: string | null;
  attempts: Generated<number>;
}

export interface ImportErrorsTable {
  job_id: string;
  row_number: number;
  seq: number;
  email: string | null;
  code: string;
  field: string;
  message: string;
  /** Migration 0011: the failed row as uploaded (JSON, no password fields). */
  source: Generated<string | null>;
}

/** Migration 0004: Idempotency-Key claims and the responses they replay. */
export interface IdempotencyKeysTable {
  scope: string;
  key_hash: string;
  request_hash: string;
  owner: string;
  /** `processing` while the first request runs, then `completed`. */
  state: string;
  locked_until: string;
  status_code: number | null;
  /** JSON object of the response headers replayed. */
  response_headers: string | null;
  response_body: string | null;
  created_at: string;
  expires_at: string;
}

export interface Database {
  idempotency_keys: IdempotencyKeysTable;
  import_jobs: ImportJobsTable;
  import_rows: ImportRowsTable;
  import_row_blocks: ImportRowBlocksTable;
  import_chunks: ImportChunksTable;
  import_errors: ImportErrorsTable;
  tenants: TenantsTable;
  api_keys: ApiKeysTable;
  roles: RolesTable;
  catalog_entries: CatalogEntriesTable;
  users: UsersTable;
  user_roles: UserRolesTable;
  email_messages: EmailMessagesTable;
  invitations: InvitationsTable;
  email_templates: EmailTemplatesTable;
  audit_events: AuditEventsTable;
}
