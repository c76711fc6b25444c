import Type from 'typebox';
import type { ErrorCode, FieldError } from '../../../core/errors.js';
import { statusesOver } from '../../native/map-error.js';

/** The seed's messages, word for word (seed 002, "Response Error Details"). */
export const SEED_MESSAGES = {
  email: 'Email address was not set or was invalid',
  name: 'FirstName must be set or LastName must be set',
  passwordMissing: 'Password must be set: Password was not set',
  emailInUse: 'EmailAddress In Use: The provided email address is already in use by another user',
  domainRestricted: 'Email Domain Restricted: The domain of the email address provided is restricted from signing up',
  passwordWeak: 'Password too weak: The password provided does not meet complexity requirements',
  notAuthorized: 'Not Authorized: The token is invalid, the header is missing, or the user is inactive',
  seats: 'Company Seat Count Exceeded: No available seats are available in the specified company',
  notAdmin: 'Not A Business Admin: The user attempting to execute this request is not a company administrator',
  onlyGlobalAdmin: 'Not A Business Admin: only global administrator is able to create another admin',
} as const;

/**
 * The seed lists a duplicate email as a 400. The user name is the email in this dialect, so a
 * user name taken by a user created elsewhere is the same case. Every other status is the
 * native API's (the seed's 400, 401, 402 and 403 are the native ones).
 */
const provisioningStatus = statusesOver({ DUPLICATE_EMAIL: 400, DUPLICATE_USERNAME: 400 });

/**
 * The seed's message for each code it words; for the others Muster's own message is used (for
 * an invalid field, which message depends on the field: see provisioningMessage).
 */
const SEED_MESSAGE_OF: Partial<Record<ErrorCode, string>> = {
  PASSWORD_TOO_WEAK: SEED_MESSAGES.passwordWeak,
  EMAIL_DOMAIN_RESTRICTED: SEED_MESSAGES.domainRestricted,
  DUPLICATE_EMAIL: SEED_MESSAGES.emailInUse,
  DUPLICATE_USERNAME: SEED_MESSAGES.emailInUse,
  UNAUTHORIZED: SEED_MESSAGES.notAuthorized,
  SEAT_LIMIT_EXCEEDED: SEED_MESSAGES.seats,
  FORBIDDEN: SEED_MESSAGES.notAdmin,
  ADMIN_ROLE_FORBIDDEN: SEED_MESSAGES.onlyGlobalAdmin,
};

/**
 * The provisioning dialect's status for each domain error code, and the seed's message for
 * it when the seed has one (undefined: Muster's own message is used).
 */
export function provisioningError(code: ErrorCode): { status: number; message: string | undefined } {
  return { status: provisioningStatus(code), message: SEED_MESSAGE_OF[code] };
}

/** The message of one field error as the seed words it; `error.field` is already the vendor's field name. */
export function provisioningMessage(error: FieldError): string {
  if (error.field === 'EmailAddress' && (error.code === 'MISSING_REQUIRED_FIELD' || error.code === 'INVALID_FIELD')) return SEED_MESSAGES.email;
  return provisioningError(error.code).message ?? error.message;
}

export const ProvisioningUser = Type.Object({
  Id: Type.Optional(Type.String({ format: 'uuid', description: 'Absent for a simulated user.' })),
  EmailAddress: Type.String(),
  FirstName: Type.Optional(Type.String()),
  LastName: Type.Optional(Type.String()),
  Disabled: Type.Boolean(),
  Roles: Type.Array(Type.Integer(), { description: 'The role numbers the user holds (1 AccountOwner … 6 EDiscoveryAdmin).' }),
  AccountType: Type.Integer({ description: '3 (PaidBusiness), or 16 (PendingBusiness) for a user awaiting approval.' }),
  Status: Type.Integer({ description: '1 Disabled, 2 Enabled, 4 Pending Activation.' }),
  CreatedDateUtc: Type.Optional(Type.String({ description: 'As the vendor writes dates: `/Date(milliseconds since the epoch)/`. Absent for a simulated user.' })),
});

export const ProvisioningErrorSchema = Type.Object({
  Message: Type.String({ description: "The seed's message for the first failure, e.g. `EmailAddress In Use: The provided email address is already in use by another user`." }),
  Code: Type.String({ description: "Muster's stable error code, e.g. DUPLICATE_EMAIL." }),
  Errors: Type.Array(
    Type.Object({
      Index: Type.Integer({ minimum: 0, description: 'Position of the user in the request (0-based).' }),
      EmailAddress: Type.Optional(Type.String()),
      Field: Type.String(),
      Code: Type.String(),
      Message: Type.String({ description: "The seed's message." }),
      Detail: Type.String({ description: "Muster's precise reason." }),
    }),
    { description: 'Every user that was not created, and why. Empty when the whole request was refused.' },
  ),
  Users: Type.Array(ProvisioningUser, { description: 'The users that were created nonetheless (with modifier=simulate: that would have been created).' }),
  RequestId: Type.String(),
});
