/**
 * The narrow interfaces the core needs from the outside world. Storage, hashing, time and
 * randomness are injected, so a test can fix the clock and the ids and use a real database.
 */
import type { Actor, KeyRole } from './credentials/actor.js';
import type {
  ClaimedMessage,
  EmailBatch,
  EmailKind,
  EmailSettings,
  InvitationRecord,
  MessageListQuery,
  MessagePage,
  StoredEmailTemplate,
} from './email/email.js';
import type { Tenant } from './tenants/tenant.js';
import type { NewUser, User } from './users/user.js';

export interface Clock {
  now(): Date;
}

export interface Ids {
  /** A random RFC 4122 v4 UUID. */
  uuid(): string;
  /** `bytes` random bytes, base64url-encoded. */
  secret(bytes: number): string;
}

export interface PasswordHasher {
  /** An encoded argon2id hash (PHC string) of `password`. */
  hash(password: string): Promise<string>;
  /** Whether `password` matches the encoded hash; false (not an error) for a mismatch. */
  verify(encoded: string, password: string): Promise<boolean>;
}

export interface TenantStore {
  /** The tenant, or undefined when there is none with that id. */
  get(id: string): Promise<Tenant | undefined>;
  /** The tenant whose app key is `appKey`, or undefined. */
  getByAppKey(appKey: string): Promise<Tenant | undefined>;
  list(): Promise<Tenant[]>;
  /** Inserts a tenant; returns false (and writes nothing) when the id is taken. */
  insert(tenant: Tenant): Promise<boolean>;
  /** Replaces the settings of a tenant; returns the tenant after the change, or undefined. */
  update(id: string, change: Partial<Pick<Tenant, 'name' | 'seatLimit' | 'emailDomains' | 'passwordPolicy'>>, at: string): Promise<Tenant | undefined>;
}

export interface ApiKeyRecord {
  id: string;
  tenantId: string | null;
  name: string;
  role: KeyRole;
  /** SHA-256 of the whole token, hex. */
  tokenHash: string;
  createdAt: string;
  revokedAt: string | null;
}

export interface ApiKeyStore {
  insert(key: ApiKeyRecord): Promise<void>;
  get(id: string): Promise<ApiKeyRecord | undefined>;
  /** Keys of one tenant, or the global keys when `tenantId` is null; revoked ones included. */
  list(tenantId: string | null): Promise<ApiKeyRecord[]>;
  /** Marks a key revoked; returns false when it does not exist or was already revoked. */
  revoke(id: string, at: string): Promise<boolean>;
}

export interface Role {
  tenantId: string;
  name: string;
  description: string | null;
  admin: boolean;
  createdAt: string;
  updatedAt: string;
}

export const CATALOG_KINDS = ['departments', 'locations', 'program-admin-roles'] as const;
export type CatalogKind = (typeof CATALOG_KINDS)[number];

export interface CatalogEntry {
  tenantId: string;
  kind: CatalogKind;
  code: string;
  name: string | null;
  createdAt: string;
}

export interface CatalogStore {
  /** Inserts or replaces a role; returns true when it was new. */
  putRole(role: Role): Promise<boolean>;
  listRoles(tenantId: string): Promise<Role[]>;
  /** The roles of the tenant among `names` (missing names are simply absent). */
  findRoles(tenantId: string, names: readonly string[]): Promise<Role[]>;
  deleteRole(tenantId: string, name: string): Promise<boolean>;
  putEntry(entry: CatalogEntry): Promise<boolean>;
  listEntries(tenantId: string, kind: CatalogKind): Promise<CatalogEntry[]>;
  /** The codes among `codes` that exist in the tenant's catalog of `kind`. */
  findCodes(tenantId: string, kind: CatalogKind, codes: readonly string[]): Promise<Set<string>>;
  deleteEntry(tenantId: string, kind: CatalogKind, code: string): Promise<boolean>;
}

/** Which of some identity keys are already taken in a tenant. */
export interface TakenKeys {
  emailKeys: Set<string>;
  userNameKeys: Set<string>;
}

/** Writes that must happen together, inside one database transaction. */
export interface UserWriteTx {
  /**
   * Inserts the users (with their roles) and returns the ids and generated numbers of
   * those inserted. A user whose email or user name key is already taken in the tenant is
   * skipped by the database's unique index, not by a prior read, and is absent from the result.
   */
  insertUsers(users: readonly NewUser[]): Promise<Map<string, number>>;
  /** Which of these keys exist in the tenant, as seen inside this transaction. */
  findTaken(tenantId: string, emailKeys: readonly string[], userNameKeys: readonly string[]): Promise<TakenKeys>;
  /**
   * Adds `delta` to the tenant's user count and bumps its users revision, locking the
   * tenant row until the transaction ends; returns the count after the change, the limit
   * and the users revision after the bump.
   */
  addUsers(tenantId: string, delta: number): Promise<{ userCount: number; seatLimit: number | null; usersRevision: number }>;
  /**
   * The tenant's users revision as it is now, locking the tenant row until the transaction
   * ends (PostgreSQL: SELECT … FOR UPDATE; SQLite's write transaction already holds the lock),
   * so that no other writer can change it before this transaction commits.
   */
  lockUsersRevision(tenantId: string): Promise<number>;
  /** Deletes users of the tenant by id (used to give back seats taken past the limit). */
  deleteUsers(tenantId: string, ids: readonly string[]): Promise<void>;
  /** Writes the users' messages to the outbox and their invitations, in this transaction. */
  insertEmails(batch: EmailBatch): Promise<void>;
}

export interface UserListQuery {
  emailKey?: string | undefined;
  userNameKey?: string | undefined;
  /** Only users whose number is greater than this. */
  afterNumber?: number | undefined;
  limit: number;
}

export interface UserChange {
  userName?: string;
  userNameKey?: string;
  email?: string;
  emailKey?: string;
  name?: User['name'];
  phoneNumber?: string | null;
  roles?: string[];
  access?: User['access'];
  lockedOut?: boolean;
  approved?: boolean;
  passwordHash?: string;
  updatedAt: string;
}

export type UpdateResult =
  | { status: 'updated'; user: User }
  | { status: 'not-found' }
  | { status: 'stale' }
  | { status: 'duplicate'; code: 'DUPLICATE_EMAIL' | 'DUPLICATE_USERNAME' };

export interface UserStore {
  /** Runs `work` in one transaction; commits when it resolves, rolls back when it throws. */
  transaction<T>(work: (tx: UserWriteTx) => Promise<T>): Promise<T>;
  findTaken(tenantId: string, emailKeys: readonly string[], userNameKeys: readonly string[]): Promise<TakenKeys>;
  get(tenantId: string, id: string): Promise<User | undefined>;
  list(tenantId: string, query: UserListQuery): Promise<User[]>;
  /**
   * Applies a change if the user's revision is still `expectedRevision`. A unique index
   * violation becomes `duplicate` with the domain code of the index that refused it.
   */
  update(tenantId: string, id: string, expectedRevision: number, change: UserChange): Promise<UpdateResult>;
  /** Deletes a user and gives its seat back; false when there was none. */
  delete(tenantId: string, id: string): Promise<boolean>;
}

/** Per-tenant email templates; a kind without one uses the built-in default. */
export interface EmailTemplateStore {
  get(tenantId: string, kind: EmailKind): Promise<StoredEmailTemplate | undefined>;
  /** Inserts or replaces; returns true when the tenant had no template of this kind. */
  put(template: StoredEmailTemplate): Promise<boolean>;
  /** Removes the tenant's template (back to the default); false when there was none. */
  delete(tenantId: string, kind: EmailKind): Promise<boolean>;
}

/** The outbox as tenant admins read it. */
export interface OutboxReader {
  /** The tenant's messages, newest first, bodies included. */
  list(tenantId: string, query: MessageListQuery): Promise<MessagePage>;
}

/** What the sender needs from the outbox. Every method is atomic on its own. */
export interface OutboxQueue {
  /**
   * Claims up to `limit` messages due at `now` — pending ones whose next attempt has come,
   * and ones whose previous sender's lease ended without an outcome — for this sender until
   * `leaseUntil`, counting one more attempt for each. Two senders never claim one message
   * while its lease runs (PostgreSQL: `FOR UPDATE SKIP LOCKED`; SQLite: the write lock).
   */
  claim(owner: string, now: Date, leaseUntil: Date, limit: number): Promise<ClaimedMessage[]>;
  /**
   * Records that the SMTP server accepted the message, replacing its stored copy by
   * `redacted` (the same text without the invitation token) when given. False when the
   * claim is no longer this sender's.
   */
  markSent(id: string, claim: string, at: Date, redacted?: { subject: string; text: string; html: string }): Promise<boolean>;
  /** Records a failed attempt: pending again at `retryAt`, or failed for good when it is null. */
  markFailed(id: string, claim: string, error: string, retryAt: Date | null): Promise<boolean>;
  /** Gives a claimed message back unsent: pending again at once, the attempt not counted. */
  release(id: string, claim: string): Promise<boolean>;
}

/** An outgoing email as the mail transport sends it. */
export interface OutgoingMail {
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  /** Sent as the Message-ID header: the same on every attempt of one message. */
  messageId: string;
  /** Sent as the Date header: when the message was composed, the same on every attempt. */
  date: Date;
}

export interface Mailer {
  /** Resolves when the server accepted the message; rejects with a message naming the SMTP reply or the network error. */
  send(mail: OutgoingMail): Promise<void>;
}

export interface InvitationStore {
  /** The invitation whose token has this SHA-256 (hex), or undefined. */
  findByTokenHash(tokenHash: string): Promise<InvitationRecord | undefined>;
  /**
   * In one transaction: marks the invitation used if it is still unused and unexpired at
   * `at`, sets the user's password hash (its revision +1) and marks the user's other
   * invitations used. Returns why it could not when it could not.
   */
  redeem(invitationId: string, passwordHash: string, at: string): Promise<'redeemed' | 'used' | 'expired' | 'missing'>;
}

export interface EmailDeps {
  templates: EmailTemplateStore;
  outbox: OutboxReader;
  invitations: InvitationStore;
  settings: EmailSettings;
}

export interface CoreDeps {
  tenants: TenantStore;
  keys: ApiKeyStore;
  catalogs: CatalogStore;
  users: UserStore;
  hasher: PasswordHasher;
  clock: Clock;
  ids: Ids;
  email: EmailDeps;
}

export type { Actor };
