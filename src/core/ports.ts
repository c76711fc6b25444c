/**
 * The narrow interfaces the core needs from the outside world. Storage, hashing, time and
 * randomness are injected, so a test can fix the clock and the ids and use a real database.
 */
import type { Actor } from './credentials/actor.js';
import type { AuditAction, AuditEvent } from './audit/audit.js';
import type { ImportStore } from './imports/import-job.js';
import type { IdempotencyStore } from './idempotency/idempotency.js';
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
import type { Role, RoleChange } from './roles/role.js';
import type { CatalogKind, CatalogEntry } from './catalogs/catalog.js';
import type { ApiKeyRecord } from './credentials/api-key-record.js';
import type { Tenant } from './tenants/tenant.js';
import type { NewUser, User } from './users/user.js';
import type { UserFilter, UserSortAttribute } from './users/user-filter.js';
import type { UsersWriter } from './users/write-users.js';

export interface Clock {
  now(): Date;
}

export interface Ids {
  /**
   * A new RFC 9562 version 7 UUID: a millisecond timestamp in its first 48 bits (so that ids
   * inserted one after another land at the end of an index), then random bits. Unique, but
   * partly predictable: what must be unguessable (tokens, key ids) draws from `secret`.
   */
  uuid(): string;
  /** `bytes` random bytes, base64url-encoded. */
  secret(bytes: number): string;
}

/** `interactive`: someone waits (refused with SERVICE_BUSY when the queue is full); `background`: import jobs, run only on spare capacity. */
export type HashPriority = 'interactive' | 'background';

export interface PasswordHasher {
  /** An encoded argon2id hash (PHC string) of `password`; SERVICE_BUSY when the hashing queue is full. */
  hash(password: string, priority?: HashPriority): Promise<string>;
  /**
   * Hashes every given password, admitted together: SERVICE_BUSY (and nothing hashed) when
   * the queue cannot take them all. Undefined entries stay undefined, in place.
   */
  hashAll(passwords: readonly (string | undefined)[], priority?: HashPriority): Promise<(string | undefined)[]>;
  /**
   * Whether `password` matches the encoded hash, in any supported format (argon2id/argon2i,
   * bcrypt, scrypt, PBKDF2); false (not an error) for a mismatch or an unreadable hash.
   */
  verify(encoded: string, password: string, priority?: HashPriority): Promise<boolean>;
}

/** What verifying a password needs to know of a user; the hash never leaves the core. */
export interface StoredCredential {
  userId: string;
  passwordHash: string | null;
  lockedOut: boolean;
  approved: boolean;
}

export interface CredentialStore {
  /**
   * The user of the tenant whose user name key, else whose email key, is `loginKey`
   * (an identity key: NFKC and case folded); undefined when there is none.
   */
  findByLogin(tenantId: string, loginKey: string): Promise<StoredCredential | undefined>;
  /**
   * Replaces the user's password hash if it is still `expected` (a password changed meanwhile
   * is kept); returns whether it was replaced. The user's revision is not changed: the
   * password is the same, only its encoding is.
   */
  replacePasswordHash(tenantId: string, userId: string, expected: string, replacement: string): Promise<boolean>;
}

export interface TenantStore {
  /** The tenant, or undefined when there is none with that id. */
  get(id: string): Promise<Tenant | undefined>;
  /** The tenant whose app key is `appKey`, or undefined. */
  getByAppKey(appKey: string): Promise<Tenant | undefined>;
  list(): Promise<Tenant[]>;
  /** Inserts a tenant, and `audit` in the same transaction; returns false (and writes nothing) when the id is taken. */
  insert(tenant: Tenant, audit?: AuditEvent): Promise<boolean>;
  /** Replaces the settings of a tenant, recording `audit` in the same transaction; returns the tenant after the change, or undefined. */
  update(id: string, change: Partial<Pick<Tenant, 'name' | 'seatLimit' | 'emailDomains' | 'passwordPolicy'>>, at: string, audit?: AuditEvent): Promise<Tenant | undefined>;
}

export interface ApiKeyStore {
  /** Inserts a key, and `audit` in the same transaction. */
  insert(key: ApiKeyRecord, audit?: AuditEvent): Promise<void>;
  get(id: string): Promise<ApiKeyRecord | undefined>;
  /** Keys of one tenant, or the global keys when `tenantId` is null; revoked ones included. */
  list(tenantId: string | null): Promise<ApiKeyRecord[]>;
  /** Marks a key revoked, recording `audit` in the same transaction; returns false (and records nothing) when it does not exist or was already revoked. */
  revoke(id: string, at: string, audit?: AuditEvent): Promise<boolean>;
}

export interface CatalogStore {
  /**
   * Inserts or replaces a role; returns true when it was new. In the same transaction, with the
   * role as it was locked: `check` sees it (undefined when there was none) and may throw to
   * write nothing, else returns the audit events to record; when the role's `admin` flag
   * changes, every holder gets a new revision.
   */
  putRole(role: Role, check?: (before: Role | undefined) => AuditEvent[]): Promise<boolean>;
  listRoles(tenantId: string): Promise<Role[]>;
  /** The roles of the tenant among `names` (missing names are simply absent). */
  findRoles(tenantId: string, names: readonly string[]): Promise<Role[]>;
  /**
   * Deletes a role, which its holders lose; false (and nothing written) when there is none. In
   * the same transaction: `check` sees the role and how many hold it, and may throw to write
   * nothing, else returns the audit events to record; every holder gets a new revision
   * (`updatedAt` = `at`).
   */
  deleteRole(tenantId: string, name: string, check?: (before: Role, holders: number) => AuditEvent[], at?: string): Promise<boolean>;
  /** Inserts a role that does not exist yet, recording `audit` with it; false (and nothing written) when the name is taken. */
  insertRole(role: Role, audit?: AuditEvent): Promise<boolean>;
  /** The role of the tenant with this id, or undefined. */
  findRoleById(tenantId: string, id: string): Promise<Role | undefined>;
  /**
   * Renames a role and/or sets its external id if its revision is still `expectedRevision`,
   * recording `audit` in the same transaction. A rename keeps the role's id and its holders
   * (each holder's revision moves on, as its roles read differently). `conflict` when the new
   * name is taken, `stale` when the role changed meanwhile, `missing` when it is gone.
   */
  updateRole(tenantId: string, id: string, expectedRevision: number, change: RoleChange, at: string, audit?: AuditEvent): Promise<{ status: 'updated'; role: Role } | { status: 'missing' | 'stale' | 'conflict' }>;
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
  /** The external ids among those asked about that are taken (compared exactly). */
  externalIds?: Set<string>;
}

/**
 * How a transaction's work wants it to end: `commit` its writes, or `rollback` them (a refused
 * atomic batch, a stale revision) without an error being thrown; `value` is returned either way.
 */
export interface TxDecision<T> {
  decision: 'commit' | 'rollback';
  value: T;
}

/** Writes that must happen together, inside one database transaction. */
export interface UserWriteTx {
  /**
   * Inserts the users (with their roles) and returns the ids and generated numbers of
   * those inserted. A user whose email or user name key is already taken in the tenant is
   * skipped by the database's unique index, not by a prior read, and is absent from the result.
   */
  insertUsers(users: readonly NewUser[]): Promise<Map<string, number>>;
  /** Which of these keys (and external ids) exist in the tenant, as seen inside this transaction. */
  findTaken(tenantId: string, emailKeys: readonly string[], userNameKeys: readonly string[], externalIds?: readonly string[]): Promise<TakenKeys>;
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
  /** Writes audit events, in this transaction. */
  recordAudit(events: readonly AuditEvent[]): Promise<void>;
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
  externalId?: string | null;
  displayName?: string | null;
  employeeNumber?: string | null;
  department?: string | null;
  updatedAt: string;
}

/**
 * What a change of a user withdraws (a new email, a password set, a lock-out): every pending
 * invitation of the user is revoked (its code no longer redeems), and every unsent message of
 * the user that carries an invitation code, or that goes to `cancelMessagesTo` (the address the
 * user no longer has), is cancelled, its code taken out of the stored copy.
 */
export interface InvitationRevocation {
  cancelMessagesTo?: string;
}

/** One page of a search, in a stable order, and how many users match in all. */
export interface UserSearchQuery {
  /** Already checked and normalised by the core (`checkUserFilter`). */
  filter: UserFilter | undefined;
  sortBy: UserSortAttribute | undefined;
  descending: boolean;
  offset: number;
  limit: number;
}

/** A holder of a role, as a group's member list shows it. */
export interface RoleMember {
  id: string;
  userName: string;
}

export type UpdateResult =
  | { status: 'updated'; user: User }
  | { status: 'not-found' }
  | { status: 'stale' }
  | { status: 'duplicate'; code: 'DUPLICATE_EMAIL' | 'DUPLICATE_USERNAME' | 'CONFLICT' };

export interface UserStore {
  /**
   * Runs `work` in one transaction and ends it as `work` decides: commits on `commit`, rolls
   * back on `rollback` (nothing is thrown for it), and returns the decision's value either way;
   * rolls back and rejects when `work` throws. When the database aborts the transaction for a
   * retry (a deadlock, a busy file) `work` runs again in a new transaction, so it must not leave
   * effects outside it that a second run would repeat.
   */
  transaction<T>(work: (tx: UserWriteTx) => Promise<TxDecision<T>>): Promise<T>;
  findTaken(tenantId: string, emailKeys: readonly string[], userNameKeys: readonly string[], externalIds?: readonly string[]): Promise<TakenKeys>;
  get(tenantId: string, id: string): Promise<User | undefined>;
  list(tenantId: string, query: UserListQuery): Promise<User[]>;
  /**
   * The users of the tenant matching the filter, `limit` of them after skipping `offset`,
   * ordered by the sort attribute (users without a value last, whichever the direction) and
   * then by number; `total` counts every match. The filter becomes SQL: nothing is filtered in memory.
   */
  search(tenantId: string, query: UserSearchQuery): Promise<{ users: User[]; total: number }>;
  /**
   * Holders of the role in creation order: at most `limit` of them, or, with `among`, only
   * those of these user ids that hold it.
   */
  listRoleMembers(tenantId: string, role: string, options: { limit: number; among?: readonly string[] }): Promise<RoleMember[]>;
  /**
   * For each of `userIds` that names a user of the tenant, the names of the admin roles it
   * holds (an empty list when none); ids that name no user are absent from the map.
   */
  adminRolesOf(tenantId: string, userIds: readonly string[]): Promise<Map<string, string[]>>;
  /**
   * In one transaction: gives the role to the users in `add` and takes it from those in
   * `remove`, bumping the revision (and `updatedAt`) of each user whose roles changed and the
   * role's own `updatedAt` and revision, and recording `audit` when anything changed. Writes
   * nothing and returns the ids that name no user of the tenant when there are any; the role must exist.
   */
  changeRoleMembers(
    tenantId: string,
    role: string,
    change: { add: readonly string[]; remove: readonly string[] },
    at: string,
    audit?: AuditEvent,
  ): Promise<{ missing: string[] }>;
  /**
   * Applies a change if the user's revision is still `expectedRevision`, recording `audit` in
   * the same transaction when it applies. A unique index violation becomes `duplicate` with
   * the domain code of the index that refused it. With `revoke`, the same transaction also
   * withdraws the user's pending invitations and cancels its unsent messages as it says.
   */
  update(tenantId: string, id: string, expectedRevision: number, change: UserChange, audit?: AuditEvent, revoke?: InvitationRevocation): Promise<UpdateResult>;
  /**
   * Deletes a user and gives its seat back, recording `audit` in the same transaction; false
   * (and nothing recorded) when there was none, or, with `expectedRevision`, when its revision
   * is no longer that one.
   */
  delete(tenantId: string, id: string, audit?: AuditEvent, expectedRevision?: number): Promise<boolean>;
}

export interface AuditQuery {
  action?: AuditAction | undefined;
  actorKeyId?: string | undefined;
  resourceId?: string | undefined;
  /** Only events at or after this instant (ISO 8601). */
  since?: string | undefined;
  /** Only events before this instant (ISO 8601). */
  until?: string | undefined;
  /** Only events older than this sequence number (the cursor). */
  beforeSeq?: number | undefined;
  limit: number;
}

/** The audit log as tenant admins read it; events are written by the other stores, in their transactions. */
export interface AuditStore {
  /** The tenant's events matching the query, newest first. */
  list(tenantId: string, query: AuditQuery): Promise<(AuditEvent & { seq: number })[]>;
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
   * invitations used, and records `audit` when it redeemed. Returns why it could not when it could not.
   */
  redeem(invitationId: string, passwordHash: string, at: string, audit?: AuditEvent): Promise<'redeemed' | 'used' | 'expired' | 'missing'>;
  /**
   * In one transaction, for a user of the tenant that has no password yet: revokes its pending
   * invitations (cancelling the unsent messages that carry one), writes `batch` (the new
   * invitation and its message) and records `audit`. Writes nothing, and says why, when the user
   * is gone or has a password.
   */
  reissue(tenantId: string, userId: string, batch: EmailBatch, audit?: AuditEvent): Promise<'reissued' | 'missing' | 'has-password'>;
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
  credentials: CredentialStore;
  idempotency: IdempotencyStore;
  clock: Clock;
  ids: Ids;
  email: EmailDeps;
  audit: AuditStore;
  /** Import jobs: their staged rows, chunks, progress and row errors. */
  imports: ImportStore;
  /**
   * Writes the planned creates of the API: one transaction per call, or one shared by the calls
   * of a tenant that arrive together (group commit). Built over `users` (src/dependencies.ts).
   */
  userWrites: UsersWriter;
}

export type { Actor };
