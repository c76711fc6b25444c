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
  SMTP_URL: Type.Optional(Type.String({ pattern: '^smtps?://' })),
  MUSTER_MAIL_FROM: Type.String({ minLength: 3, default: 'Muster <no-reply@muster.invalid>' }),
  MUSTER_INVITATION_TTL_HOURS: Type.Integer({ minimum: 1, maximum: 24 * 365, default: 72 }),
  /** Where users reach this service; invitation emails point there. Defaults to http://localhost:PORT. */
  MUSTER_PUBLIC_URL: Type.Optional(Type.String({ pattern: '^https?://' })),
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
