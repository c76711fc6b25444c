import Type, { type Static } from 'typebox';
import { Value } from 'typebox/value';

const ROOT_USERS = ['batch', 'simple', 'none'] as const;

export const ConfigSchema = Type.Object({
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
  HOST: Type.String({ default: '0.0.0.0' }),
  DATABASE_URL: Type.String({ default: 'sqlite:./data/muster.db' }),
  MUSTER_ADMIN_TOKEN: Type.Optional(Type.String({ minLength: 16 })),
  MUSTER_ROOT_USERS: Type.Union(ROOT_USERS.map((v) => Type.Literal(v)), { default: 'simple' }),
  MUSTER_RATE_LIMIT: Type.Integer({ minimum: 1, default: 600 }),
  MUSTER_BODY_LIMIT: Type.Integer({ minimum: 1024, default: 8 * 1024 * 1024 }),
  /** The largest import upload (POST …/imports), which the body limit above does not cover: 2 GiB by default. */
  MUSTER_IMPORT_MAX_BYTES: Type.Integer({ minimum: 1024, default: 2 * 1024 ** 3 }),
  /** Uploads one tenant may stream in at once (across every instance); past it, 429 with Retry-After. */
  MUSTER_IMPORT_UPLOADS_PER_TENANT: Type.Integer({ minimum: 1, maximum: 1000, default: 2 }),
  /** Bytes one tenant's uploads and unfinished import jobs may keep staged in the database; past it, 413. 4 GiB by default. */
  MUSTER_IMPORT_STAGED_BYTES_PER_TENANT: Type.Integer({ minimum: 1024, default: 4 * 1024 ** 3 }),
  /** How long an import chunk stays claimed by a process; after a crash, another process takes it over once this has passed. */
  MUSTER_IMPORT_LEASE_SECONDS: Type.Integer({ minimum: 1, maximum: 3600, default: 60 }),
  /** Import chunks one process works on at once; unset: 2 on PostgreSQL, 1 on SQLite. */
  MUSTER_IMPORT_CONCURRENCY: Type.Optional(Type.Integer({ minimum: 1, maximum: 16 })),
  /** Password hashes computed at once; unset: one per core. */
  MUSTER_HASH_CONCURRENCY: Type.Optional(Type.Integer({ minimum: 1, maximum: 256 })),
  /** Interactive password hashes that may wait; past it a create answers 503 with Retry-After. Unset: 1000 per hashing slot. */
  MUSTER_HASH_QUEUE_DEPTH: Type.Optional(Type.Integer({ minimum: 1 })),
  /**
   * Which proxies to believe about the client's address (X-Forwarded-For), which keys the limits
   * of requests without a valid credential: `true` (any: only when nothing but the proxy can
   * reach Muster), or proxy addresses/CIDRs, comma-separated. Unset: the socket's peer is the client.
   */
  MUSTER_TRUST_PROXY: Type.Optional(Type.String({ pattern: '^(true|false|[0-9A-Fa-f:.,/\\s]+)$' })),
  /** Seconds SIGTERM may take: /readyz turns 503 at once, then requests and the import chunk in flight end; past it the process exits anyway. */
  MUSTER_SHUTDOWN_GRACE_SECONDS: Type.Integer({ minimum: 1, maximum: 600, default: 25 }),
  /** Seconds between SIGTERM and closing the listener, while /readyz already answers 503, so that a load balancer stops sending first. */
  MUSTER_DRAIN_SECONDS: Type.Integer({ minimum: 0, maximum: 300, default: 0 }),
  /** Password checks per minute for one login of one tenant (POST …/credentials/verify). */
  MUSTER_VERIFY_RATE_LIMIT: Type.Integer({ minimum: 1, default: 10 }),
  /** The most bytes of request line and headers; past it the answer is 431. */
  MUSTER_MAX_HEADER_BYTES: Type.Integer({ minimum: 1024, maximum: 1024 * 1024, default: 16 * 1024 }),
  /** How long a client may take to send its headers; then the connection is closed. */
  MUSTER_HEADERS_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 20_000 }),
  /** How long a client may take to send its whole request (headers and body); then the connection is closed. */
  MUSTER_REQUEST_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 120_000 }),
  /** How long a connection may stay silent (no byte either way) before it is closed. */
  MUSTER_IDLE_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 60_000 }),
  /** Browser origins allowed to call the API (CORS), comma-separated, or `*`; unset: none. */
  MUSTER_CORS_ORIGINS: Type.Optional(Type.String({ pattern: '^(\\*|https?://[^,\\s/]+(,\\s*https?://[^,\\s/]+)*)$' })),
  /**
   * The key-encryption keys of import jobs (32 bytes each, base64 or hex, comma-separated; the
   * first wraps new job keys, all unwrap). Unset: a key file (MUSTER_IMPORT_KEY_FILE).
   */
  MUSTER_IMPORT_KEY: Type.Optional(Type.String({ minLength: 32 })),
  /** Where the import key file is (created 0600 on first start); unset: beside the SQLite file, or ./data/import.key with PostgreSQL. */
  MUSTER_IMPORT_KEY_FILE: Type.Optional(Type.String({ minLength: 1 })),
  SMTP_URL: Type.Optional(Type.String({ pattern: '^smtps?://' })),
  MUSTER_MAIL_FROM: Type.String({ minLength: 3, default: 'Muster <no-reply@muster.invalid>' }),
  MUSTER_INVITATION_TTL_HOURS: Type.Integer({ minimum: 1, maximum: 24 * 365, default: 72 }),
  /**
   * Where users reach this service: invitation emails, Location headers, SCIM meta.location and
   * documentationUri are built from it, never from a request's Host header. Defaults to
   * http://localhost:PORT for emails; unset, links in responses follow the request's own host.
   */
  MUSTER_PUBLIC_URL: Type.Optional(Type.String({ pattern: '^https?://' })),
  /**
   * How much V8 lets its heap grow past what survived the last full collection before it
   * collects again, in percent (0: V8's own choice, which may let a long import's garbage grow
   * the process by 150 MB before collecting).
   */
  MUSTER_HEAP_GROWTH_PERCENT: Type.Integer({ minimum: 0, maximum: 400, default: 25 }),
  LOG_LEVEL: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((v) => Type.Literal(v)), { default: 'info' }),
});

export type Config = Static<typeof ConfigSchema>;

/** Reads the settings from the environment once, at start-up; throws naming every bad one. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const picked = Object.fromEntries(Object.keys(ConfigSchema.properties).filter((k) => env[k] !== undefined && env[k] !== '').map((k) => [k, env[k]]));
  const value = Value.Default(ConfigSchema, Value.Convert(ConfigSchema, picked));
  if (!Value.Check(ConfigSchema, value)) {
    const problems = [...Value.Errors(ConfigSchema, value)].map((e) => `${e.instancePath.slice(1) || 'config'} ${e.message}`);
    throw new Error(`Invalid configuration: ${problems.join('; ')}`);
  }
  return value;
}
