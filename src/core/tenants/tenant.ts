import Type, { type Static } from 'typebox';

export const TENANT_ID_PATTERN = '^[a-z0-9][a-z0-9-]{0,62}$';
export const DEFAULT_TENANT_ID = 'default';

export const PasswordPolicySchema = Type.Object(
  {
    minLength: Type.Integer({ minimum: 8, maximum: 256, default: 8 }),
    maxLength: Type.Integer({ minimum: 8, maximum: 1024, default: 256 }),
    requireUppercase: Type.Boolean({ default: false }),
    requireLowercase: Type.Boolean({ default: false }),
    requireDigit: Type.Boolean({ default: false }),
    requireSymbol: Type.Boolean({ default: false }),
    blockCommon: Type.Boolean({ default: true, description: 'Refuse passwords on the common-password list.' }),
    blockPersonalInfo: Type.Boolean({
      default: true,
      description: "Refuse passwords containing the user name or the email's local part.",
    }),
  },
  { additionalProperties: false },
);
export type PasswordPolicy = Static<typeof PasswordPolicySchema>;

export const DEFAULT_PASSWORD_POLICY: PasswordPolicy = {
  minLength: 8,
  maxLength: 256,
  requireUppercase: false,
  requireLowercase: false,
  requireDigit: false,
  requireSymbol: false,
  blockCommon: true,
  blockPersonalInfo: true,
};

const DomainName = Type.String({ minLength: 1, maxLength: 253, pattern: '^[A-Za-z0-9.-]+$' });
export const EmailDomainRulesSchema = Type.Object(
  {
    allow: Type.Array(DomainName, { maxItems: 1000, default: [] }),
    block: Type.Array(DomainName, { maxItems: 1000, default: [] }),
  },
  { additionalProperties: false },
);
export type EmailDomainRules = Static<typeof EmailDomainRulesSchema>;

export interface Tenant {
  id: string;
  name: string;
  /** The most users the tenant may hold; null for no limit. */
  seatLimit: number | null;
  emailDomains: EmailDomainRules;
  passwordPolicy: PasswordPolicy;
  /** The key that names this tenant in the `app` dialect's path. */
  appKey: string;
  userCount: number;
  /** Grows with every change to the tenant's users (the `account` dialect's ac-revision). */
  usersRevision: number;
  createdAt: string;
  updatedAt: string;
}
